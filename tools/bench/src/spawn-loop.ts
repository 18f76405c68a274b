import { execFile, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

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

/**
 * `spawnRate` run in a fresh Node process. A fork costs in proportion to the forking process's
 * memory: run in the benchmark process (hundreds of MB after the allocator and placement
 * benchmarks) the loop measured that process, not the machine — 158-168 runs/s there against
 * 830-940 from a fresh process on the same idle machine. The agent forks from its own, small,
 * process.
 */
export async function spawnRateInFreshProcess(command: string, count: number, concurrency: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), command, String(count), String(concurrency)]);
  const rate = Number(stdout.trim());
  if (!(rate > 0)) throw new Error(`the spawn loop printed '${stdout.trim()}'`);
  return rate;
}

// `node spawn-loop.js COMMAND COUNT CONCURRENCY` prints the rate (used by spawnRateInFreshProcess).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command = 'true', count = '100', concurrency = '10'] = process.argv.slice(2);
  process.stdout.write(`${await spawnRate(command, Number(count), Number(concurrency))}\n`);
}
