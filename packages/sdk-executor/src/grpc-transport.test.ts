import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcExecutorTransport } from './grpc-transport.js';
import type { ExecutorError } from './errors.js';

// A stand-in agent in a worker thread (its own event loop): a plain HTTP/2 server that
// answers the executor's SUBSCRIBE with gRPC headers and keeps the stream open. On 'stall'
// it blocks its event loop, as a busy agent on a loaded machine does: nothing it receives
// (requests, PINGs) is answered until it is back.
const AGENT = `
const { parentPort } = require('node:worker_threads');
const http2 = require('node:http2');
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
  parentPort.postMessage({ open: true });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m.stallMs) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, m.stallMs);
    parentPort.postMessage({ back: true });
  }
});
`;

function next(worker: Worker, key: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (!(key in m)) return;
      worker.off('message', on);
      resolve(m);
    };
    worker.on('message', on);
  });
}

describe('GrpcExecutorTransport', () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('keeps the event stream when the agent does not answer for longer than a keepalive timeout (a busy machine)', async () => {
    const agent = new Worker(AGENT, { eval: true });
    closers.push(() => agent.terminate());
    const { port } = await next(agent, 'port');
    const transport = new GrpcExecutorTransport(`127.0.0.1:${String(port)}`);
    closers.push(() => transport.close());
    let ended: { error: ExecutorError | undefined } | undefined;
    const opened = next(agent, 'open');
    const subscription = transport.subscribe(
      { frameworkId: { value: 'fw' }, executorId: { value: 'ex' }, unacknowledgedTasks: [], unacknowledgedUpdates: [], token: 't' },
      { onEvent: () => undefined, onEnd: (error) => (ended = { error }) },
    );
    closers.push(() => subscription.cancel());
    await opened;
    // Longer than any client keepalive would wait (a ping after 10 s, dropped 5 s later
    // without its answer): the stream used to end "Connection dropped" here.
    const back = next(agent, 'back');
    agent.postMessage({ stallMs: 17_000 });
    await back;
    // Give the client's socket a turn to read what the agent sent once back.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ended?.error?.message ?? ended).toBeUndefined();
  }, 60_000);
});
