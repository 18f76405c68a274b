import { StatusUpdate, type Clock, type Logger, type TaskState, type TimerHandle } from '@meso/proto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateStore } from '@meso/state';
import { listKeys } from './checkpoint-files.js';
import { isTerminal, stateName } from './task-states.js';

/** Retries of an unacknowledged update double up to this (Mesos: 10 min). */
export const MAX_STATUS_UPDATE_RETRY_MS = 10 * 60_000;
/** Uuids remembered per task after their acknowledgement, to drop duplicates. */
const ACKED_MEMORY = 64;
/** Finished streams kept in memory (to drop late duplicates) before the oldest are forgotten. */
const FINISHED_MEMORY = 10_000;

/** What the manager needs. */
export interface StatusUpdateManagerOptions {
  /** Where streams are checkpointed (the agent's meta store). */
  store: StateStore;
  /** The store's directory: streams are then listed file by file, so an unreadable one is set aside alone. */
  directory?: string;
  clock: Clock;
  logger: Logger;
  /** First retry delay; doubles up to `maxRetryMs`. */
  retryMs: number;
  /** Defaults to 10 min. */
  maxRetryMs?: number;
  /** Sends an update to the master (only called while resumed). */
  forward(update: StatusUpdate): void;
}

/** The result of offering an update to the manager. */
export type UpdateOutcome =
  /** Checkpointed and queued (or sent). */
  | 'accepted'
  /** Already known (pending or acknowledged): dropped, but safe to acknowledge to the executor. */
  | 'duplicate'
  /** The task's terminal update was already acknowledged: dropped. */
  | 'terminated';

/** The result of a framework acknowledgement. */
export type AckOutcome = 'acknowledged' | 'duplicate' | 'unexpected';

interface Stream {
  frameworkId: string;
  taskId: string;
  executorId: string;
  pending: StatusUpdate[];
  acked: string[];
  terminalAcked: boolean;
  /**
   * The task's run checkpoint no longer lists it (written after its terminal update was
   * taken in): an acknowledged terminal update then needs no tombstone.
   */
  runSettled: boolean;
  backoffMs: number;
  timer: TimerHandle | undefined;
  /** Serializes checkpoint writes of this stream. */
  chain: Promise<unknown>;
}

interface StoredStream {
  frameworkId: string;
  taskId: string;
  executorId: string;
  pending: unknown[];
  acked: string[];
  /**
   * A tombstone: the task's terminal update was acknowledged. Kept while a run checkpoint
   * may still list the task as live, so a restarted agent never reports a second terminal state.
   */
  terminated?: boolean;
}

const PREFIX = 'updates';

/** A key segment for any id: itself when safe, else base64url behind a marker. */
export function keySegment(id: string): string {
  return /^[A-Za-z0-9._-]+$/.test(id) && id !== '.' && id !== '..' && !id.startsWith('_b64_') ? id : `_b64_${Buffer.from(id, 'utf8').toString('base64url')}`;
}

function streamKey(frameworkId: string, taskId: string): string {
  return `${PREFIX}/${keySegment(frameworkId)}/${keySegment(taskId)}`;
}

function mapKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

/**
 * The agent's status update manager: at-least-once delivery of task status updates to
 * the framework, through the master.
 *
 * - Every update is checkpointed before `update()` resolves (so the agent may then
 *   acknowledge it to the executor).
 * - Per task, updates are forwarded strictly in order, one in flight: the next is sent
 *   only after the framework acknowledged the previous one.
 * - An unacknowledged update is re-sent after `retryMs`, doubling up to 10 min.
 * - Duplicates (same uuid, pending or already acknowledged) are dropped.
 * - While paused (no master), nothing is sent; `resume()` re-sends the head of every
 *   stream at once.
 * - `open()` reloads the checkpointed streams (agent restart).
 */
export class StatusUpdateManager {
  private readonly streams = new Map<string, Stream>();
  /** Checkpoint files that could not be read back at open (set aside as `.corrupt`). */
  readonly unreadable: string[] = [];
  private readonly finished: string[] = [];
  private resumed = false;
  private readonly maxRetryMs: number;

  private constructor(private readonly o: StatusUpdateManagerOptions) {
    this.maxRetryMs = o.maxRetryMs ?? MAX_STATUS_UPDATE_RETRY_MS;
  }

  /** Opens the manager and reloads every checkpointed stream (paused until `resume()`). */
  static async open(options: StatusUpdateManagerOptions): Promise<StatusUpdateManager> {
    const m = new StatusUpdateManager(options);
    const keys = options.directory ? await listKeys(options.directory, PREFIX) : (await options.store.list(`${PREFIX}/`)).map((e) => e.key);
    for (const key of keys) {
      let v: StoredStream | undefined;
      let pending: StatusUpdate[];
      try {
        v = (await options.store.get<StoredStream>(key))?.value;
        if (v === undefined) continue;
        if (typeof v.frameworkId !== 'string' || typeof v.taskId !== 'string' || !Array.isArray(v.pending) || !Array.isArray(v.acked)) {
          throw new Error('it does not hold a status update stream');
        }
        pending = v.pending.map((p) => StatusUpdate.fromJSON(p));
      } catch (e) {
        // Never a crash loop, never a silent loss: the file is named and set aside; the
        // task's run (if any) still reports it, and the master reconciles what is missing.
        const path = (e as { path?: string }).path ?? join(options.directory ?? '<meta>', `${key}.json`);
        options.logger.error(`cannot reload unacknowledged status updates: ${path} is unreadable (${(e as Error).message}); set aside as ${path}.corrupt`, { file: path });
        await rename(path, `${path}.corrupt`).catch(() => undefined);
        m.unreadable.push(path);
        continue;
      }
      const tombstone = pending.length === 0 && v.terminated === true;
      if (pending.length === 0 && !tombstone) continue;
      m.streams.set(mapKey(v.frameworkId, v.taskId), {
        frameworkId: v.frameworkId,
        taskId: v.taskId,
        executorId: v.executorId,
        pending,
        acked: [...v.acked],
        terminalAcked: tombstone,
        runSettled: false,
        backoffMs: options.retryMs,
        timer: undefined,
        chain: Promise.resolve(),
      });
      if (tombstone) m.finished.push(mapKey(v.frameworkId, v.taskId));
    }
    return m;
  }

  /** Checkpoints and queues an update (its status must carry a task id and a uuid). */
  async update(update: StatusUpdate): Promise<UpdateOutcome> {
    const status = update.status;
    const frameworkId = update.frameworkId?.value ?? '';
    const taskId = status?.taskId?.value ?? '';
    const uuid = status?.uuid ?? '';
    if (!status || taskId === '' || uuid === '') throw new TypeError('a status update needs a task id and a uuid');
    const key = mapKey(frameworkId, taskId);
    let stream = this.streams.get(key);
    if (!stream) {
      stream = {
        frameworkId,
        taskId,
        executorId: update.executorId?.value ?? '',
        pending: [],
        acked: [],
        terminalAcked: false,
        runSettled: false,
        backoffMs: this.o.retryMs,
        timer: undefined,
        chain: Promise.resolve(),
      };
      this.streams.set(key, stream);
    }
    const s = stream;
    return this.serialized(s, async () => {
      if (s.pending.some((p) => p.status?.uuid === uuid) || s.acked.includes(uuid)) {
        this.o.logger.debug('duplicate status update dropped', { taskId, uuid });
        return 'duplicate';
      }
      if (s.terminalAcked) {
        this.o.logger.warn('status update after the terminal one was acknowledged dropped', { taskId, uuid, state: stateName(status.state) });
        return 'terminated';
      }
      if (isTerminal(status.state) && s.pending.some((p) => p.status && isTerminal(p.status.state))) {
        this.o.logger.warn('a second terminal status update of a task dropped', { taskId, uuid, state: stateName(status.state) });
        return 'terminated';
      }
      s.pending.push(update);
      await this.checkpoint(s);
      this.o.logger.debug('status update checkpointed', { taskId, uuid, state: stateName(status.state), queued: s.pending.length });
      if (s.pending.length === 1) this.sendHead(s);
      return 'accepted';
    });
  }

  /** The framework acknowledged `uuid` of a task: drop it and send the task's next update. */
  async acknowledge(frameworkId: string, taskId: string, uuid: string): Promise<AckOutcome> {
    const s = this.streams.get(mapKey(frameworkId, taskId));
    if (!s) {
      this.o.logger.debug('acknowledgement for an unknown stream ignored', { frameworkId, taskId, uuid });
      return 'unexpected';
    }
    return this.serialized(s, async () => {
      const head = s.pending[0];
      if (head?.status?.uuid !== uuid) {
        if (s.acked.includes(uuid)) return 'duplicate';
        this.o.logger.warn('acknowledgement of an update that is not the next one ignored', { taskId, uuid, expected: head?.status?.uuid });
        return 'unexpected';
      }
      s.pending.shift();
      s.acked.push(uuid);
      if (s.acked.length > ACKED_MEMORY) s.acked.splice(0, s.acked.length - ACKED_MEMORY);
      if (head.status && isTerminal(head.status.state)) s.terminalAcked = true;
      this.o.clock.clearTimeout(s.timer);
      s.timer = undefined;
      s.backoffMs = this.o.retryMs;
      await this.checkpoint(s);
      if (s.terminalAcked && s.pending.length === 0) this.retire(s);
      else this.sendHead(s);
      return 'acknowledged';
    });
  }

  /** The master is reachable: re-send the head of every stream now, with fresh backoff. */
  resume(): void {
    this.resumed = true;
    for (const s of this.streams.values()) {
      s.backoffMs = this.o.retryMs;
      this.sendHead(s);
    }
  }

  /** The master is gone: stop sending (updates are still accepted and checkpointed). */
  pause(): void {
    this.resumed = false;
    for (const s of this.streams.values()) {
      this.o.clock.clearTimeout(s.timer);
      s.timer = undefined;
    }
  }

  /** Unacknowledged updates per task (for re-registration), oldest first. */
  pending(): Array<{ frameworkId: string; taskId: string; executorId: string; updates: StatusUpdate[] }> {
    return [...this.streams.values()]
      .filter((s) => s.pending.length > 0)
      .map((s) => ({ frameworkId: s.frameworkId, taskId: s.taskId, executorId: s.executorId, updates: [...s.pending] }));
  }

  /** Whether the update `uuid` of a task is known (pending, or acknowledged recently). */
  isKnown(frameworkId: string, taskId: string, uuid: string): boolean {
    const s = this.streams.get(mapKey(frameworkId, taskId));
    return !!s && (s.acked.includes(uuid) || s.pending.some((p) => p.status?.uuid === uuid));
  }

  /** Whether a task has updates the framework has not acknowledged yet. */
  hasPending(frameworkId: string, taskId: string): boolean {
    return (this.streams.get(mapKey(frameworkId, taskId))?.pending.length ?? 0) > 0;
  }

  /** Whether a task has had a terminal update: acknowledged (remembered across restarts), or pending. */
  isTerminated(frameworkId: string, taskId: string): boolean {
    const s = this.streams.get(mapKey(frameworkId, taskId));
    return !!s && (s.terminalAcked || s.pending.some((p) => p.status !== undefined && isTerminal(p.status.state)));
  }

  /**
   * The task's run checkpoint no longer lists it as live: its acknowledged terminal update
   * needs no tombstone any more (dropped now, or never written).
   */
  runSettled(frameworkId: string, taskId: string): Promise<void> {
    const s = this.streams.get(mapKey(frameworkId, taskId));
    if (!s || s.runSettled) return Promise.resolve();
    s.runSettled = true;
    return this.serialized(s, async () => {
      if (s.terminalAcked && s.pending.length === 0) await this.checkpoint(s);
    }).catch((e: unknown) => this.o.logger.warn('cannot drop a status update tombstone', { taskId, error: (e as Error).message }));
  }

  /** Drops the tombstones of tasks for which `keep` is false (their run checkpoints are gone). Kept in memory. */
  async pruneTombstones(keep: (frameworkId: string, taskId: string) => boolean): Promise<void> {
    for (const s of this.streams.values()) {
      if (s.terminalAcked && s.pending.length === 0 && !s.runSettled && !keep(s.frameworkId, s.taskId)) await this.runSettled(s.frameworkId, s.taskId);
    }
  }

  /** The state of the newest unacknowledged update of a task, if any. */
  latestPendingState(frameworkId: string, taskId: string): TaskState | undefined {
    return this.streams.get(mapKey(frameworkId, taskId))?.pending.at(-1)?.status?.state;
  }

  /**
   * Forgets every stream and its checkpoint: the agent that owned them is gone for the
   * master (reboot, or removed) and its updates can reach no framework any more.
   */
  async discardAll(): Promise<number> {
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.finished.length = 0;
    for (const s of streams) {
      this.o.clock.clearTimeout(s.timer);
      await s.chain;
      await this.o.store.delete(streamKey(s.frameworkId, s.taskId)).catch(() => undefined);
    }
    return streams.filter((s) => s.pending.length > 0).length;
  }

  /** Stops all timers (checkpoints stay). */
  close(): void {
    this.pause();
  }

  private sendHead(s: Stream): void {
    this.o.clock.clearTimeout(s.timer);
    s.timer = undefined;
    const head = s.pending[0];
    if (!head || !this.resumed) return;
    const latest = s.pending[s.pending.length - 1]?.status?.state ?? head.status?.state;
    const update: StatusUpdate = { ...head, ...(latest !== undefined ? { latestState: latest } : {}) };
    try {
      this.o.forward(update);
    } catch (e) {
      this.o.logger.warn('forwarding a status update failed; will retry', { taskId: s.taskId, error: (e as Error).message });
    }
    const uuid = head.status?.uuid;
    const delay = s.backoffMs;
    s.timer = this.o.clock.setTimeout(() => {
      s.timer = undefined;
      if (!this.resumed || s.pending[0]?.status?.uuid !== uuid) return;
      s.backoffMs = Math.min(s.backoffMs * 2, this.maxRetryMs);
      this.o.logger.info('re-sending unacknowledged status update', { taskId: s.taskId, uuid, nextRetryMs: s.backoffMs });
      this.sendHead(s);
    }, delay);
  }

  private retire(s: Stream): void {
    const key = mapKey(s.frameworkId, s.taskId);
    this.finished.push(key);
    if (this.finished.length > FINISHED_MEMORY) {
      const old = this.finished.shift();
      const gone = old !== undefined && old !== key ? this.streams.get(old) : undefined;
      if (old !== undefined && old !== key) this.streams.delete(old);
      if (gone && !gone.runSettled) void this.o.store.delete(streamKey(gone.frameworkId, gone.taskId)).catch(() => undefined);
    }
  }

  private async checkpoint(s: Stream): Promise<void> {
    const key = streamKey(s.frameworkId, s.taskId);
    const tombstone = s.pending.length === 0 && s.terminalAcked && !s.runSettled;
    if (s.pending.length === 0 && !tombstone) {
      await this.o.store.delete(key);
      return;
    }
    const stored: StoredStream = {
      frameworkId: s.frameworkId,
      taskId: s.taskId,
      executorId: s.executorId,
      pending: s.pending.map((p) => StatusUpdate.toJSON(p)),
      acked: s.acked,
      ...(tombstone ? { terminated: true } : {}),
    };
    await this.o.store.put(key, stored);
  }

  private serialized<R>(s: Stream, fn: () => Promise<R>): Promise<R> {
    const run = s.chain.then(fn, fn);
    s.chain = run.catch(() => undefined);
    return run;
  }
}
