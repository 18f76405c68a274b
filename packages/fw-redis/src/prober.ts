import { Redis } from 'ioredis';
import type { Observation } from './model.js';
import { observationOf, parseInfo } from './redis-info.js';

/** The address of one server. */
export interface ServerAddress {
  ip: string;
  port: number;
}

/**
 * fw-redis's connections to the servers it runs: one ioredis client per member, reconnecting
 * by itself; commands fail fast while a server is away (no offline queue) so a probe of a dead
 * server answers "no" at once instead of waiting.
 */
export class Prober {
  private readonly clients = new Map<string, { client: Redis; key: string }>();

  constructor(private readonly timeoutMs: number) {}

  private client(taskId: string, addr: ServerAddress): Redis {
    const key = `${addr.ip}:${addr.port}`;
    const existing = this.clients.get(taskId);
    if (existing && existing.key === key) return existing.client;
    existing?.client.disconnect();
    const client = new Redis({
      host: addr.ip,
      port: addr.port,
      protocol: 2,
      disableClientInfo: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      retryStrategy: () => Math.max(100, Math.min(500, this.timeoutMs)),
    });
    client.on('error', () => undefined);
    this.clients.set(taskId, { client, key });
    return client;
  }

  /** INFO of a server, or undefined when it does not answer. */
  async probe(taskId: string, addr: ServerAddress, nowMs: () => number): Promise<Observation | undefined> {
    try {
      const text = await this.client(taskId, addr).info();
      return observationOf(parseInfo(text), nowMs());
    } catch {
      return undefined;
    }
  }

  /** Runs one command on a server (REPLICAOF, CONFIG SET, ...); rejects when it fails. */
  async command(taskId: string, addr: ServerAddress, name: string, ...args: Array<string | number>): Promise<unknown> {
    return this.client(taskId, addr).call(name, ...args);
  }

  /** Forgets a member's connection. */
  drop(taskId: string): void {
    this.clients.get(taskId)?.client.disconnect();
    this.clients.delete(taskId);
  }

  /** Closes every connection. */
  close(): void {
    for (const { client } of this.clients.values()) client.disconnect();
    this.clients.clear();
  }
}
