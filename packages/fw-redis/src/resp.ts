/**
 * RESP (Redis's wire protocol, version 2) for the discovery server: encoding replies and parsing
 * commands, both as arrays of bulk strings and inline (`PING\r\n`, as typed into telnet).
 */

/** A reply value: strings are bulk strings, `null` the null bulk, numbers integers, arrays arrays. */
export type RespValue = string | number | null | RespValue[] | { simple: string } | { error: string };

/** Encodes one reply. */
export function encode(v: RespValue): string {
  if (v === null) return '$-1\r\n';
  if (typeof v === 'number') return `:${Math.trunc(v)}\r\n`;
  if (typeof v === 'string') return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  if (Array.isArray(v)) return `*${v.length}\r\n${v.map(encode).join('')}`;
  if ('simple' in v) return `+${v.simple}\r\n`;
  return `-${v.error}\r\n`;
}

/** A protocol error: the connection is answered with it and closed. */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

/**
 * Splits a buffer into the complete commands it holds. Returns them and how many bytes they
 * took; the rest waits for more data.
 */
export function parseCommands(buf: Buffer): { commands: string[][]; consumed: number } {
  const commands: string[][] = [];
  let pos = 0;
  for (;;) {
    if (pos >= buf.length) break;
    if (buf[pos] !== 0x2a /* '*' */) {
      const end = buf.indexOf('\n', pos);
      if (end < 0) break;
      const line = buf.toString('utf8', pos, end).replace(/\r$/, '').trim();
      pos = end + 1;
      if (line !== '') commands.push(line.split(/\s+/));
      continue;
    }
    const headerEnd = buf.indexOf('\r\n', pos);
    if (headerEnd < 0) break;
    const count = Number(buf.toString('utf8', pos + 1, headerEnd));
    if (!Number.isInteger(count) || count < 0 || count > 1024) throw new RespProtocolError(`invalid multibulk length`);
    let p = headerEnd + 2;
    const args: string[] = [];
    let complete = true;
    for (let i = 0; i < count; i++) {
      if (p >= buf.length) {
        complete = false;
        break;
      }
      if (buf[p] !== 0x24 /* '$' */) throw new RespProtocolError(`expected '$', got '${String.fromCharCode(buf[p]!)}'`);
      const lenEnd = buf.indexOf('\r\n', p);
      if (lenEnd < 0) {
        complete = false;
        break;
      }
      const len = Number(buf.toString('utf8', p + 1, lenEnd));
      if (!Number.isInteger(len) || len < 0 || len > 1_000_000) throw new RespProtocolError('invalid bulk length');
      if (lenEnd + 2 + len + 2 > buf.length) {
        complete = false;
        break;
      }
      args.push(buf.toString('utf8', lenEnd + 2, lenEnd + 2 + len));
      p = lenEnd + 2 + len + 2;
    }
    if (!complete) break;
    commands.push(args);
    pos = p;
  }
  return { commands, consumed: pos };
}
