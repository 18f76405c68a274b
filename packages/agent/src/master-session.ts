import type { AgentMessage, AgentRefused, Clock, Logger, MasterMessage, RegisterAgent, TimerHandle } from '@meso/proto';
import type { MasterConnection, MasterLink } from './master-link.js';

/** Mesos's defaults when the master does not say: a ping every 15 s, 5 may be missed. */
export const DEFAULT_PING_INTERVAL_SECONDS = 15;
export const DEFAULT_MAX_MISSED_PINGS = 5;

/** What the session needs from the agent. */
export interface MasterSessionOptions {
  link: MasterLink;
  clock: Clock;
  logger: Logger;
  /** The registration to send on every (re)connection, built fresh each time. */
  registration(): RegisterAgent;
  /** The master registered the agent (again). */
  onRegistered(agentId: string, masterId: string): void;
  /** The connection to a registered master is gone (the session reconnects by itself). */
  onDisconnected(): void;
  /**
   * The master refused the registration; the session stops. `shutdownFrameworks` are the
   * frameworks the master told the agent to shut down before refusing it (AGENT_GONE).
   */
  onRefused(refused: AgentRefused, shutdownFrameworks: string[]): void;
  /** A message from the registered master other than registration and pings. */
  onMessage(message: MasterMessage): void;
  /** First reconnection delay; doubles up to `maxBackoffMs`. Defaults to 500. */
  backoffMs?: number;
  /** Defaults to 15000. */
  maxBackoffMs?: number;
}

/**
 * The agent's side of AgentLink: connect, send `register` (with the agent id once
 * known, so a reconnection is a re-registration), answer pings, and reconnect with
 * backoff when the stream breaks or no ping arrives for ping_interval × max_missed_pings.
 * A refusal is final: it is reported and the session stops.
 */
export class MasterSession {
  private connection: MasterConnection | undefined;
  private generation = 0;
  private registered = false;
  private stopped = false;
  private backoffMs: number;
  private retryTimer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private windowMs = DEFAULT_PING_INTERVAL_SECONDS * DEFAULT_MAX_MISSED_PINGS * 1000;
  /** ShutdownFramework received before registration (a master refusing a gone agent sends them first). */
  private shutdownBeforeRegistration: string[] = [];

  constructor(private readonly o: MasterSessionOptions) {
    this.backoffMs = o.backoffMs ?? 500;
  }

  /** Whether the master has registered the agent on the current connection. */
  get isRegistered(): boolean {
    return this.registered;
  }

  start(): void {
    this.connect();
  }

  /** Sends to the master; false (dropped) when not registered right now. */
  send(message: AgentMessage): boolean {
    if (!this.registered || !this.connection) return false;
    this.connection.send(message);
    return true;
  }

  /** Stops for good. */
  close(): void {
    this.stopped = true;
    this.generation++;
    this.o.clock.clearTimeout(this.retryTimer);
    this.o.clock.clearTimeout(this.watchdog);
    this.connection?.close();
    this.connection = undefined;
    this.registered = false;
    this.o.link.close();
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    this.shutdownBeforeRegistration = [];
    this.arm(gen);
    const connection = this.o.link.open({
      onMessage: (m) => {
        if (gen === this.generation) this.onMessage(m, gen);
      },
      onEnd: (reason) => {
        if (gen === this.generation) this.lost(reason ?? 'stream ended');
      },
    });
    if (gen !== this.generation) {
      connection.close();
      return;
    }
    this.connection = connection;
    connection.send({ message: { $case: 'register', value: { ...this.o.registration(), acceptsBatches: true } } });
  }

  private onMessage(m: MasterMessage, gen: number): void {
    const msg = m.message;
    if (!msg) return;
    switch (msg.$case) {
      case 'registered': {
        const v = msg.value;
        const interval = v.pingIntervalSeconds > 0 ? v.pingIntervalSeconds : DEFAULT_PING_INTERVAL_SECONDS;
        const missed = v.maxMissedPings > 0 ? v.maxMissedPings : DEFAULT_MAX_MISSED_PINGS;
        this.windowMs = interval * missed * 1000;
        this.registered = true;
        this.backoffMs = this.o.backoffMs ?? 500;
        this.arm(gen);
        this.o.onRegistered(v.agentId?.value ?? '', v.masterId);
        return;
      }
      case 'refused':
        this.o.logger.error(`the master refused to register this agent: ${msg.value.message}`, { code: msg.value.code, field: msg.value.field || undefined });
        this.close();
        this.o.onRefused(msg.value, this.shutdownBeforeRegistration.splice(0));
        return;
      case 'ping':
        this.arm(gen);
        this.connection?.send({ message: { $case: 'pong', value: { seq: msg.value.seq } } });
        return;
      case 'batch':
        // Several messages at once (this agent registers with accepts_batches): each in order, as if sent alone.
        for (const inner of msg.value.messages) if (inner.message?.$case !== 'batch') this.onMessage(inner, gen);
        return;
      default:
        if (!this.registered && msg.$case === 'shutdownFramework') {
          this.shutdownBeforeRegistration.push(msg.value.frameworkId?.value ?? '');
          return;
        }
        if (!this.registered) {
          this.o.logger.warn('message from the master before registration ignored', { message: msg.$case });
          return;
        }
        this.o.onMessage(m);
    }
  }

  /** (Re)arms the watchdog: no ping (or registration) within the window means the master is gone. */
  private arm(gen: number): void {
    this.o.clock.clearTimeout(this.watchdog);
    this.watchdog = this.o.clock.setTimeout(() => {
      if (gen !== this.generation) return;
      this.connection?.close();
      this.lost(`no ping from the master for ${this.windowMs} ms`);
    }, this.windowMs);
  }

  private lost(reason: string): void {
    if (this.stopped) return;
    this.generation++;
    this.connection = undefined;
    this.o.clock.clearTimeout(this.watchdog);
    const wasRegistered = this.registered;
    this.registered = false;
    if (wasRegistered) {
      this.o.logger.warn('lost the master; reconnecting', { reason });
      this.o.onDisconnected();
    } else {
      this.o.logger.info('cannot reach the master; retrying', { reason, inMs: this.backoffMs });
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.maxBackoffMs ?? 15_000);
    this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.o.clock.setTimeout(() => this.connect(), delay);
  }
}
