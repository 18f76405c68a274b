import { join } from 'node:path';
import type { Logger } from '@meso/proto';
import { startMarathon } from '@meso/fw-marathon';
import { startChronos } from '@meso/fw-chronos';
import { startBatch } from '@meso/fw-batch';
import { startRedis } from '@meso/fw-redis';
import { usageError } from '../cli-error.js';

/** A reference framework `meso local` can run beside the master and agents. */
interface LocalFramework {
  /** Its usual port (Marathon's, Chronos's, MrRedis's, and 4800 for batch). */
  port: number;
  start(options: { master: string; host: string; httpPort: number; workDir: string; logger: Logger }): Promise<{ address: string; close(): Promise<void> }>;
}

export const LOCAL_FRAMEWORKS: Record<string, LocalFramework> = {
  marathon: { port: 8080, start: (o) => startMarathon(o) },
  chronos: { port: 4400, start: (o) => startChronos(o) },
  batch: { port: 4800, start: (o) => startBatch(o) },
  // Its Sentinel-compatible discovery port is Sentinel's 26379, or a free one with free ports.
  redis: { port: 5656, start: (o) => startRedis({ ...o, sentinelPort: o.httpPort === 0 ? 0 : 26379 }) },
};

/** Parses `--frameworks marathon,chronos` ('' or 'none' for none), naming an unknown one. */
export function parseFrameworks(text: string): string[] {
  if (text.trim() === '' || text.trim() === 'none') return [];
  const names = text.split(',').map((n) => n.trim()).filter(Boolean);
  for (const name of names) {
    if (!(name in LOCAL_FRAMEWORKS)) {
      throw usageError(`--frameworks: unknown framework '${name}' (known: ${Object.keys(LOCAL_FRAMEWORKS).join(', ')}, or none)`);
    }
  }
  return [...new Set(names)];
}

/** Starts the named frameworks; `anyPort` gives each a free port instead of its usual one. */
export async function startLocalFrameworks(
  names: string[],
  context: { master: string; host: string; root: string; anyPort: boolean; logger: Logger },
): Promise<Array<{ name: string; address: string; close(): Promise<void> }>> {
  const started: Array<{ name: string; address: string; close(): Promise<void> }> = [];
  try {
    for (const name of names) {
      const fw = LOCAL_FRAMEWORKS[name]!;
      const running = await fw.start({
        master: context.master,
        host: context.host,
        httpPort: context.anyPort ? 0 : fw.port,
        workDir: join(context.root, name),
        logger: context.logger.child(name),
      });
      started.push({ name, address: running.address, close: () => running.close() });
    }
  } catch (e) {
    await Promise.allSettled(started.map((f) => f.close()));
    throw e;
  }
  return started;
}
