import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@meso/proto';

/** The HTTP/2 connection preface every gRPC client sends first. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/** Where a connection goes once its first bytes are known. */
export interface PortMuxTargets {
  http2(socket: Socket): void;
  http1(socket: Socket): void;
}

/**
 * One TCP listener for gRPC and plain HTTP: peeks at the first bytes of each connection;
 * the HTTP/2 preface goes to `http2`, anything else to `http1`. The peeked bytes are put
 * back (`unshift`) before handing the socket over.
 */
export function createPortMux(targets: PortMuxTargets, logger: Logger): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, HTTP2_PREFACE.length);
      const isHttp2 = buffered.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
      if (isHttp2 && buffered.length < HTTP2_PREFACE.length) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(buffered);
      try {
        // HTTP/2 sessions take over the socket and read what is buffered themselves; the
        // HTTP/1 server reads through 'data' events, so the socket must flow again.
        if (isHttp2) targets.http2(socket);
        else {
          targets.http1(socket);
          socket.resume();
        }
      } catch (e) {
        logger.warn('connection hand-over failed', { error: e });
        socket.destroy();
      }
    };
    socket.on('data', onData);
  });
  return { server, sockets };
}
