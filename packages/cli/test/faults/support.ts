import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Scheduler, type Offer, type SchedulerEvent, type SchedulerOptions, type TaskStatus } from '@meso/sdk-scheduler';
import { pidsWithEnvironment, waitFor, type Cleanup } from '@meso/testing';

/** The fault suite's shared pieces: an event log per scheduler, /state, task pids. */

/** A child-process scheduler (kill -9 it to fail a framework over for real). */
export const SCHEDULER_SCRIPT = fileURLToPath(new URL('./fixtures/scheduler.mjs', import.meta.url));

/** Collects a scheduler's events so a test can wait for the one it needs. */
export class EventLog {
  readonly events: SchedulerEvent[] = [];
  private readonly done: Promise<void>;

  constructor(readonly scheduler: Scheduler) {
    this.done = (async () => {
      for await (const e of scheduler.events()) this.events.push(e);
    })().catch(() => undefined);
  }

  static async connect(cleanup: Cleanup, options: SchedulerOptions): Promise<EventLog> {
    const log = new EventLog(await Scheduler.connect({ connectTimeoutMs: 20_000, ...options }));
    cleanup.onCleanup(() => log.close());
    return log;
  }

  get frameworkId(): string {
    return this.scheduler.frameworkId ?? '';
  }

  /** Updates of one task, in arrival order. */
  updates(taskId: string): TaskStatus[] {
    return this.events.flatMap((e) => (e.type === 'update' && e.status.taskId === taskId ? [e.status] : []));
  }

  /** The first offer matching `match` that was not rescinded, among events from index `from`. */
  async offer(what: string, match: (o: Offer) => boolean = () => true, from = 0, timeoutMs = 30_000): Promise<Offer> {
    return waitFor(
      what,
      () => {
        const rescinded = new Set(this.events.flatMap((e) => (e.type === 'rescind' ? [e.offerId] : [])));
        return this.events
          .slice(from)
          .flatMap((e) => (e.type === 'offers' ? e.offers : []))
          .find((o) => !rescinded.has(o.id) && match(o));
      },
      timeoutMs,
    );
  }

  /** Waits for an update of `taskId` in `state` (and matching `also`), among events from index `from`. */
  async status(taskId: string, state: TaskStatus['state'], also: (s: TaskStatus) => boolean = () => true, from = 0, timeoutMs = 30_000): Promise<TaskStatus> {
    return waitFor(
      `${taskId} ${state} (seen: ${this.updates(taskId).map((s) => `${s.state}/${s.reason ?? ''}`).join(', ')})`,
      () =>
        this.events
          .slice(from)
          .flatMap((e) => (e.type === 'update' ? [e.status] : []))
          .find((s) => s.taskId === taskId && s.state === state && also(s)),
      timeoutMs,
    );
  }

  /** Waits for an event of `type` matching `match`, from index `from`. */
  async event<T extends SchedulerEvent['type']>(type: T, match: (e: Extract<SchedulerEvent, { type: T }>) => boolean = () => true, from = 0, timeoutMs = 30_000): Promise<Extract<SchedulerEvent, { type: T }>> {
    return waitFor(`a ${type} event`, () =>
      this.events.slice(from).find((e): e is Extract<SchedulerEvent, { type: T }> => e.type === type && match(e as Extract<SchedulerEvent, { type: T }>)),
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    await this.scheduler.close().catch(() => undefined);
    await this.done;
  }
}

export interface StateJson {
  masterId: string;
  agents: { id: string; status: string; resources: { total: Record<string, number | string>; used: Record<string, number | string> } }[];
  goneAgents: { id: string }[];
  frameworks: { id: string; connected: boolean; failoverTimeout: number }[];
  tasks: { id: string; frameworkId: string; agentId: string; state: string; sandbox: string }[];
  completedTasks: { id: string; frameworkId: string; agentId: string; state: string }[];
  outstandingOffers: number;
}

export async function state(master: string): Promise<StateJson> {
  const res = await fetch(`http://${master}/state`);
  return (await res.json()) as StateJson;
}

/** Waits until /state satisfies `check`; returns the document. */
export async function stateWhere(master: string, what: string, check: (s: StateJson) => boolean, timeoutMs = 30_000): Promise<StateJson> {
  return waitFor(what, async () => {
    const s = await state(master);
    return check(s) ? s : undefined;
  }, timeoutMs);
}

/** A long task that records its own pid in its sandbox, then runs until killed. */
export const LONG_TASK = { shell: 'echo $$ > task.pid; exec sleep 600' };

/** The pid a LONG_TASK wrote in its sandbox. */
export async function taskPid(sandbox: string): Promise<number> {
  const text = await waitFor(`task.pid in ${sandbox}`, async () => (await readFile(join(sandbox, 'task.pid'), 'utf8')).trim() || undefined);
  return Number(text);
}

/** The parent pid of a process (from /proc/<pid>/stat), or undefined when it is gone. */
export async function parentPid(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The executor process of a sandbox: a process of the sandbox whose parent is not. */
export async function executorPid(sandbox: string): Promise<number> {
  return waitFor(`the executor of ${sandbox}`, async () => {
    const pids = await pidsWithEnvironment(sandbox);
    for (const pid of pids) if (!pids.includes((await parentPid(pid)) ?? -1)) return pid;
    return undefined;
  });
}
