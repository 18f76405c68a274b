import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@meso/sdk-scheduler';
import { encode, parseCommands, RespProtocolError, type RespValue } from './resp.js';

/** A replica as `SENTINEL replicas` lists it. */
export interface ReplicaView {
  ip: string;
  port: number;
  runId: string;
  /** `slave`, plus `,disconnected` / `,s_down` when it does not answer. */
  flags: string;
  linkUp: boolean;
  offset: number;
  priority: number;
  masterIp: string;
  masterPort: number;
}

/** What the discovery server asks of fw-redis. */
export interface Discovery {
  instanceNames(): string[];
  masterAddress(name: string): { ip: string; port: number } | undefined;
  replicas(name: string): ReplicaView[] | undefined;
  onSwitchMaster(listener: (s: { name: string; from?: { ip: string; port: number }; to: { ip: string; port: number } }) => void): () => void;
}

const SWITCH_MASTER = '+switch-master';

/** Glob match as Redis's PSUBSCRIBE does it (`*`, `?`, `[...]`). */
export function globMatch(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(text);
}

/**
 * A small Sentinel: the commands clients use to find a master (`SENTINEL
 * get-master-addr-by-name`, `SENTINEL replicas`/`slaves`, `SENTINEL sentinels`, PING) and
 * `+switch-master` on pub/sub, answered from fw-redis's recorded topology — so an unmodified
 * Sentinel client (ioredis with `sentinels` and `name`) follows a failover by itself. RESP2 only:
 * HELLO 3 is answered NOPROTO, and clients fall back.
 */
export class SentinelServer {
  private readonly server: Server;
  private readonly subscribers = new Map<Socket, { channels: Set<string>; patterns: Set<string> }>();
  private readonly sockets = new Set<Socket>();
  private unsubscribe: (() => void) | undefined;

  private constructor(private readonly discovery: Discovery, private readonly log: Logger) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on `host:port` (0: a free port). */
  static async listen(discovery: Discovery, host: string, port: number, log: Logger): Promise<SentinelServer> {
    const s = new SentinelServer(discovery, log);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(port, host, () => resolve());
    });
    s.unsubscribe = discovery.onSwitchMaster((e) => s.publish(SWITCH_MASTER, `${e.name} ${e.from?.ip ?? '?'} ${e.from?.port ?? 0} ${e.to.ip} ${e.to.port}`));
    return s;
  }

  /** `host:port` it listens on. */
  get address(): string {
    const a = this.server.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  /** Sends `message` to every subscriber of `channel` (by name or pattern); returns how many got it. */
  publish(channel: string, message: string): number {
    let n = 0;
    for (const [socket, sub] of this.subscribers) {
      if (sub.channels.has(channel)) {
        socket.write(encode(['message', channel, message]));
        n++;
      }
      for (const p of sub.patterns) {
        if (globMatch(p, channel)) {
          socket.write(encode(['pmessage', p, channel, message]));
          n++;
        }
      }
    }
    return n;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        const { commands, consumed } = parseCommands(pending);
        pending = pending.subarray(consumed);
        for (const c of commands) {
          const reply = this.execute(socket, c);
          if (reply !== undefined) socket.write(reply);
          if (c[0]?.toUpperCase() === 'QUIT') socket.end();
        }
      } catch (e) {
        socket.end(encode({ error: `ERR Protocol error: ${(e as RespProtocolError).message}` }));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.subscribers.delete(socket);
    });
  }

  private subscription(socket: Socket): { channels: Set<string>; patterns: Set<string> } {
    let sub = this.subscribers.get(socket);
    if (!sub) this.subscribers.set(socket, (sub = { channels: new Set(), patterns: new Set() }));
    return sub;
  }

  /** Answers one command (a string of RESP, possibly several replies), or nothing. */
  private execute(socket: Socket, args: string[]): string | undefined {
    const cmd = (args[0] ?? '').toUpperCase();
    const sub = this.subscribers.get(socket);
    const count = (): number => (sub ? sub.channels.size + sub.patterns.size : 0);
    switch (cmd) {
      case 'PING':
        return sub && count() > 0 ? encode(['pong', args[1] ?? '']) : args[1] !== undefined ? encode(args[1]) : encode({ simple: 'PONG' });
      case 'HELLO':
        return encode({ error: 'NOPROTO this sentinel speaks RESP2 only' });
      case 'CLIENT':
      case 'AUTH':
      case 'SELECT':
      case 'QUIT':
        return encode({ simple: 'OK' });
      case 'ROLE':
        return encode(['sentinel', this.discovery.instanceNames()]);
      case 'INFO': {
        const names = this.discovery.instanceNames();
        const lines = ['# Sentinel', `sentinel_masters:${names.length}`, ...names.map((n, i) => {
          const m = this.discovery.masterAddress(n);
          return `master${i}:name=${n},status=${m ? 'ok' : 'odown'},address=${m ? `${m.ip}:${m.port}` : ''},slaves=${this.discovery.replicas(n)?.length ?? 0},sentinels=1`;
        })];
        return encode(`${lines.join('\r\n')}\r\n`);
      }
      case 'SUBSCRIBE':
      case 'PSUBSCRIBE': {
        const s = this.subscription(socket);
        const set = cmd === 'SUBSCRIBE' ? s.channels : s.patterns;
        return args.slice(1).map((ch) => {
          set.add(ch);
          return encode([cmd.toLowerCase(), ch, s.channels.size + s.patterns.size]);
        }).join('');
      }
      case 'UNSUBSCRIBE':
      case 'PUNSUBSCRIBE': {
        const s = this.subscription(socket);
        const set = cmd === 'UNSUBSCRIBE' ? s.channels : s.patterns;
        const names = args.length > 1 ? args.slice(1) : [...set];
        if (names.length === 0) return encode([cmd.toLowerCase(), null, count()]);
        return names.map((ch) => {
          set.delete(ch);
          return encode([cmd.toLowerCase(), ch, s.channels.size + s.patterns.size]);
        }).join('');
      }
      case 'SENTINEL':
        return encode(this.sentinel(args.slice(1)));
      default:
        return encode({ error: `ERR unknown command '${args[0] ?? ''}'` });
    }
  }

  private sentinel(args: string[]): RespValue {
    const sub = (args[0] ?? '').toLowerCase();
    const name = args[1];
    const needName = (): string | { error: string } => (name === undefined ? { error: `ERR wrong number of arguments for 'sentinel|${sub}' command` } : name);
    switch (sub) {
      case 'get-master-addr-by-name': {
        const n = needName();
        if (typeof n !== 'string') return n;
        const m = this.discovery.masterAddress(n);
        return m ? [m.ip, String(m.port)] : null;
      }
      case 'replicas':
      case 'slaves': {
        const n = needName();
        if (typeof n !== 'string') return n;
        const list = this.discovery.replicas(n);
        if (!list) return { error: 'ERR No such master with that name' };
        return list.map((r) => [
          'name', `${r.ip}:${r.port}`, 'ip', r.ip, 'port', String(r.port), 'runid', r.runId, 'flags', r.flags,
          'master-link-status', r.linkUp ? 'ok' : 'err', 'master-host', r.masterIp, 'master-port', String(r.masterPort),
          'slave-priority', String(r.priority), 'slave-repl-offset', String(r.offset), 'replica-announced', '1',
        ]);
      }
      case 'sentinels': {
        const n = needName();
        if (typeof n !== 'string') return n;
        // The other sentinels watching this master: fw-redis is the only one.
        return this.discovery.masterAddress(n) || this.discovery.replicas(n) ? [] : { error: 'ERR No such master with that name' };
      }
      case 'masters':
        return this.discovery.instanceNames().map((n) => this.masterFields(n));
      case 'master': {
        const n = needName();
        if (typeof n !== 'string') return n;
        return this.discovery.replicas(n) ? this.masterFields(n) : { error: 'ERR No such master with that name' };
      }
      default:
        this.log.debug(`unknown SENTINEL ${sub}`);
        return { error: `ERR unknown subcommand '${args[0] ?? ''}'` };
    }
  }

  private masterFields(name: string): RespValue {
    const m = this.discovery.masterAddress(name);
    return ['name', name, 'ip', m?.ip ?? '', 'port', String(m?.port ?? 0), 'flags', m ? 'master' : 'master,o_down', 'num-slaves', String(this.discovery.replicas(name)?.length ?? 0), 'num-other-sentinels', '0', 'quorum', '1'];
  }
}
