import { createServer } from 'node:net';
import { DEFAULT_PORTS } from '../../src/index.js';

/** Ports within the agent's default `ports` range (tasks may only be given those) that are free now. */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  const span = DEFAULT_PORTS.end - DEFAULT_PORTS.begin;
  for (let p = DEFAULT_PORTS.begin + Math.floor(Math.random() * (span - 100)); out.length < n && p <= DEFAULT_PORTS.end; p++) {
    if (!(await listening(p))) out.push(p);
  }
  if (out.length < n) throw new Error(`fewer than ${n} free ports in ${DEFAULT_PORTS.begin}-${DEFAULT_PORTS.end}`);
  return out;
}

/** One free port within the agent's default `ports` range. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/** Whether something listens on 127.0.0.1:port (a bind attempt fails). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}
