// Listening TCP sockets from /proc/net/tcp and /proc/net/tcp6. Pure parsing.

/** A socket in LISTEN state. */
export interface ListeningSocket {
  port: number;
  inode: number;
}

/** TCP_LISTEN in the `st` column. */
const LISTEN = '0A';

/**
 * The listening sockets in the text of /proc/net/tcp or /proc/net/tcp6:
 * `sl local_address rem_address st ... uid timeout inode`, addresses as `HEX:PORT`.
 */
export function parseListeningSockets(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const local = f[1] ?? '';
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const inode = Number(f[9]);
    if (Number.isInteger(port) && Number.isInteger(inode) && inode > 0) out.push({ port, inode });
  }
  return out;
}

/** The inode of a `socket:[12345]` fd link, else undefined. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
