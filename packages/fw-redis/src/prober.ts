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
 * server answers "no" at once instead of waiting. A probe made while a connection attempt is
 * in flight (a new client, or a reconnection) waits for it up to the probe timeout: an attempt
 * not yet answered is no evidence that the server is down, one refused or timed out is.
 */
export class Prober {
  private readonly clients = new Map<string, { client: Redis; key: string }>();

  constructor(private readonly timeoutMs: number) {}

  private client(taskId: string, addr: ServerAddress): Redis {
    const key = `${addr.ip}:${addr.port}`;
    const existing = this.clients.get(taskId);
    if (existing && existing.key === key) return existing.client;
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
    this.clients.set(taskId, { client, key });
    return client;
  }

  /** Undefined once the client is connected, else why not: waits out an attempt in flight (up to the timeout). */
  private connected(client: Redis, addr: ServerAddress): Promise<string | undefined> {
    if (client.status === 'ready') return Promise.resolve(undefined);
    if (client.status !== 'wait' && client.status !== 'connecting' && client.status !== 'connect') return Promise.resolve(`not connected to ${addr.ip}:${addr.port} (${client.status})`);
    return new Promise((resolve) => {
      const done = (reason: string | undefined): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('close', onClose);
        resolve(reason);
      };
      const onReady = (): void => done(undefined);
      const onClose = (): void => done(`connection to ${addr.ip}:${addr.port} failed (${client.status})`);
      const timer = setTimeout(() => done(`no connection to ${addr.ip}:${addr.port} within ${this.timeoutMs} ms (${client.status})`), this.timeoutMs);
      client.once('ready', onReady);
      client.once('close', onClose);
    });
  }

  /** INFO of a server, or why it did not answer. */
  async probe(taskId: string, addr: ServerAddress, nowMs: () => number): Promise<ProbeResult> {
    const client = this.client(taskId, addr);
    try {
      const notConnected = await this.connected(client, addr);
      if (notConnected !== undefined) return { ok: false, reason: notConnected };
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
