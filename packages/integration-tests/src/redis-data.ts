import { Redis } from 'ioredis';

/** Runs `use` with a connection to the Redis server at `address` (host:port), closed afterwards; no retries (a dead server fails at once). */
async function withRedis<T>(address: string, use: (r: Redis) => Promise<T>): Promise<T> {
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  const redis = new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 5000 });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

const keysOf = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

/** Writes `n` keys `prefix:i` = `i` to the server (a master). */
export function writeKeys(address: string, prefix: string, n: number): Promise<unknown> {
  return withRedis(address, (r) => r.mset(...keysOf(prefix, n).flatMap((k, i) => [k, String(i)])));
}

/** How many of the `n` keys `prefix:i` the server (master or replica) does not hold with value `i`. */
export function missingKeys(address: string, prefix: string, n: number): Promise<number> {
  return withRedis(address, async (r) => (await r.mget(...keysOf(prefix, n))).filter((v, i) => v !== String(i)).length);
}
