import { createServer } from 'node:net';

/** Whether `port` can be bound on 127.0.0.1 right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 (the kernel's pick), not one of `taken`. */
export async function freePort(taken: Set<number> = new Set()): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/**
 * `count` consecutive ports all free on 127.0.0.1 now and not in `taken`, as [first, last]:
 * an agent's `ports` range that tests on this host (and the container suite's cluster on the
 * host network) are not already using, starting within `within` (default 20000-50000).
 */
export async function freePortRange(count: number, taken: Set<number> = new Set(), within: { from: number; to: number } = { from: 20_000, to: 50_000 }): Promise<[number, number]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = within.from + Math.floor(Math.random() * (within.to - within.from - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if (ports.some((p) => taken.has(p))) continue;
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) {
      for (const p of ports) taken.add(p);
      return [first, first + count - 1];
    }
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}
