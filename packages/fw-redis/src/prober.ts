import { Redis } from 'ioredis';
import type { Observation } from './model.js';
import { observationOf, parseInfo } from './redis-info.js';

/** The address of one server. */
export interface ServerAddress {
  ip: string;
  port: number;
}

/** What one probe saw: the server's INFO, or why it did not answer. */
export type ProbeResult = { ok: true; observation: Observation } | { ok: false; reason: string };

/**
 * fw-redis's connections to the servers it runs: one ioredis client per member, reconnecting
 * by itself; commands fail fast while a server is away (no offline queue) so a probe of a dead
 * server answers "no" at once instead of waiting. A client made a moment ago is given up to the
 * probe timeout to connect first: its first probe must not fail just because the connection is
 * still being set up.
 */
export class Prober {
  private readonly clients = new Map<string, { client: Redis; key: string; connectedOnce: Promise<boolean> }>();

  constructor(private readonly timeoutMs: number) {}

  private client(taskId: string, addr: ServerAddress): Redis {
    return this.entry(taskId, addr).client;
  }

  private entry(taskId: string, addr: ServerAddress): { client: Redis; connectedOnce: Promise<boolean> } {
    const key = `${addr.ip}:${addr.port}`;
    const existing = this.clients.get(taskId);
    if (existing && existing.key === key) return existing;
    existing?.client.disconnect();
    const client = new Redis({
      host: addr.ip,
      port: addr.port,
      protocol: 2,
      disableClientInfo: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      retryStrategy: () => Math.max(100, Math.min(500, this.timeoutMs)),
    });
    client.on('error', () => undefined);
    // Settles true at the first connection, false if none within the timeout; either way later
    // probes go straight to the server (failing fast while it is away).
    const connectedOnce = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.timeoutMs);
      timer.unref();
      client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    const entry = { client, key, connectedOnce };
    this.clients.set(taskId, entry);
    return entry;
  }

  /** INFO of a server, or why it did not answer. */
  async probe(taskId: string, addr: ServerAddress, nowMs: () => number): Promise<ProbeResult> {
    const { client, connectedOnce } = this.entry(taskId, addr);
    try {
      const connected = await connectedOnce;
      if (!connected && client.status !== 'ready') return { ok: false, reason: `no connection to ${addr.ip}:${addr.port} yet (${client.status})` };
      const text = await client.info();
      return { ok: true, observation: observationOf(parseInfo(text), nowMs()) };
    } catch (e) {
      return { ok: false, reason: `${(e as Error).message} (${client.status})` };
    }
  }

  /** Runs one command on a server (REPLICAOF, CONFIG SET, ...); rejects when it fails. */
  async command(taskId: string, addr: ServerAddress, name: string, ...args: Array<string | number>): Promise<unknown> {
    return this.client(taskId, addr).call(name, ...args);
  }

  /** Forgets a member's connection. */
  drop(taskId: string): void {
    this.clients.get(taskId)?.client.disconnect();
    this.clients.delete(taskId);
  }

  /** Closes every connection. */
  close(): void {
    for (const { client } of this.clients.values()) client.disconnect();
    this.clients.clear();
  }
}
