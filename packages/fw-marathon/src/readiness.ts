import type { Clock } from './sdk.js';
import type { AppRecord, TaskRecord } from './model.js';

/** Runs one readiness check: GETs `url`, resolves with the HTTP status (0 when it failed). */
export type ReadinessProbe = (url: string, timeoutMs: number) => Promise<number>;

/** The default probe: `fetch` with the check's timeout. */
export async function fetchProbe(url: string, timeoutMs: number): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * Marathon's readiness checks, run by the scheduler: which tasks of the current config passed
 * their app's check, probing the others at most once per `intervalSeconds` (in the background).
 * Kept in memory: after a restart, running tasks are simply probed again.
 */
export class ReadinessTracker {
  private readonly ready = new Set<string>();
  /** When each task was last probed; -1 while a probe is in flight. */
  private readonly probedAt = new Map<string, number>();

  constructor(
    private readonly probe: ReadinessProbe,
    private readonly clock: Clock,
    /** Called when a task passes (the planner should run again). */
    private readonly onReady: (task: TaskRecord, checkName: string) => void,
  ) {}

  /** Whether a task passed its app's check. */
  isReady(taskId: string): boolean {
    return this.ready.has(taskId);
  }

  /** Forgets an ended task. */
  forget(taskId: string): void {
    this.ready.delete(taskId);
    this.probedAt.delete(taskId);
  }

  /** Running tasks of the current config that have not passed the app's check yet. */
  notReady(rec: AppRecord, tasks: readonly TaskRecord[]): Set<string> {
    if (rec.app.readinessChecks.length === 0) return new Set();
    return new Set(
      tasks
        .filter((t) => t.version === rec.lastConfigChangeAt && t.state === 'TASK_RUNNING' && t.killRequestedAt === undefined && !this.ready.has(t.taskId))
        .map((t) => t.taskId),
    );
  }

  /** Starts the probes that are due for the app's tasks not ready yet. */
  probeDue(rec: AppRecord, tasks: readonly TaskRecord[], now: number): void {
    const check = rec.app.readinessChecks[0];
    if (!check) return;
    const portIndex = rec.app.portDefinitions.findIndex((p) => p.name === check.portName);
    const byId = new Map(tasks.map((t) => [t.taskId, t]));
    for (const id of this.notReady(rec, tasks)) {
      const last = this.probedAt.get(id);
      if (last !== undefined && (last < 0 || now - last < check.intervalSeconds * 1000)) continue;
      const task = byId.get(id)!;
      const port = task.ports[portIndex];
      if (port === undefined) continue;
      const url = `${check.protocol.toLowerCase()}://${task.agentIp ?? task.host}:${port}${check.path}`;
      this.probedAt.set(id, -1);
      void this.probe(url, check.timeoutSeconds * 1000).then((status) => {
        if (!this.probedAt.has(id)) return; // forgotten meanwhile
        this.probedAt.set(id, this.clock.now());
        if (check.httpStatusCodesForReady.includes(status)) {
          this.ready.add(id);
          this.onReady(task, check.name);
        }
      });
    }
  }
}
