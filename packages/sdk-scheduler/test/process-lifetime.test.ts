// A scheduler process must stay alive while the SDK reconnects: during a backoff nothing but
// the SDK's own timers is pending, and the clock's timers do not hold a process open.
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TestMaster } from './support/test-master.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

const SCRIPT = `
import { Scheduler } from '@meso/sdk-scheduler';
const scheduler = await Scheduler.connect({
  master: process.argv[2],
  framework: { name: 'lifetime' },
  reconnect: { initialDelayMs: 200, maxDelayMs: 400 },
});
for await (const e of scheduler.events()) {
  console.log(e.type + (e.type === 'subscribed' ? ' reconnected=' + e.reconnected : ''));
  if (e.type === 'subscribed' && e.reconnected) break;
}
await scheduler.close();
`;

describe('a scheduler process', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('stays alive through a reconnection backoff and exits once closed', async () => {
    const first = new TestMaster();
    const address = await first.start();
    cleanups.push(() => first.stop());
    const dir = join(repoRoot, 'tmp', `sdk-scheduler-lifetime-${process.pid}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'lifetime.mjs'), SCRIPT);

    const child = spawn(process.execPath, ['lifetime.mjs', address], { cwd: dir, env: { ...process.env, MESO_LOG_LEVEL: 'error' } });
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const seen = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no '${text}' within 10 s; output: ${out}`)), 10_000);
        const check = (): void => {
          if (out.includes(text)) {
            clearTimeout(deadline);
            resolve();
          }
        };
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          check();
        });
        check();
      });

    await seen('subscribed reconnected=false');
    first.stop(); // the master goes away; the child backs off before trying again
    await seen('disconnected');
    const second = new TestMaster();
    cleanups.push(() => second.stop());
    await second.start(address);
    await seen('subscribed reconnected=true');
    expect(await exited).toBe(0);
    expect(second.subscriptions).toHaveLength(1);
  });
});
