import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * The machine's own limit for a command: runs `sh -c COMMAND` `count` times with at most
 * `concurrency` at once (plain child_process.spawn, nothing else) and returns runs per second.
 */
export async function spawnRate(command: string, count: number, concurrency: number): Promise<number> {
  if (!(count >= 1) || !(concurrency >= 1)) throw new RangeError('spawnRate: count and concurrency must be >= 1');
  const t0 = performance.now();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      await new Promise<void>((resolve, reject) => {
        const child = spawn('sh', ['-c', command], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sh -c ${command} exited ${code}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return count / ((performance.now() - t0) / 1000);
}
