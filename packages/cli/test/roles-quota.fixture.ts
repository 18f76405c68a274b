import { Scheduler, type Offer } from '@meso/sdk-scheduler';
import { waitFor, type Cleanup } from '@meso/testing';

/** The size of every task a tenant runs (cpus dominate: 0.5 of 4 cpus vs 128 of 4096 MB; 128 MB leaves the command executor room under a memory isolator). */
export const TASK = { cpus: 0.5, mem: 128 } as const;

/**
 * A framework of one role that always wants more: on each offer it launches `perOffer`
 * sleeping tasks ('one', or 'all' that fit) and releases the rest at once (refuse 0 s);
 * offers too small for a task are declined for a second.
 */
export class Tenant {
  readonly running = new Set<string>();
  readonly offers: Offer[] = [];
  readonly failures: string[] = [];
  private next = 0;
  private done: Promise<void> = Promise.resolve();

  private constructor(
    readonly role: string,
    readonly scheduler: Scheduler,
    private readonly perOffer: 'one' | 'all',
  ) {}

  static async start(cleanup: Cleanup, master: string, role: string, perOffer: 'one' | 'all'): Promise<Tenant> {
    const scheduler = await Scheduler.connect({ master, framework: { name: `tenant-${role}`, roles: [role] } });
    const t = new Tenant(role, scheduler, perOffer);
    t.done = t.loop();
    cleanup.onCleanup(async () => {
      await scheduler.close();
      await t.done;
    });
    return t;
  }

  get id(): string {
    return this.scheduler.frameworkId ?? '';
  }

  private async loop(): Promise<void> {
    for await (const e of this.scheduler.events()) {
      if (e.type === 'update') {
        if (e.status.state === 'TASK_RUNNING') this.running.add(e.status.taskId);
        else if (e.status.state !== 'TASK_STARTING' && e.status.state !== 'TASK_STAGING') {
          this.running.delete(e.status.taskId);
          if (e.status.state !== 'TASK_KILLED') this.failures.push(`${e.status.taskId} ${e.status.state} ${e.status.message ?? ''}`);
        }
      }
      if (e.type !== 'offers') continue;
      for (const offer of e.offers) {
        this.offers.push(offer);
        const fit = Math.floor(Math.min(offer.resources.scalar('cpus') / TASK.cpus, offer.resources.scalar('mem') / TASK.mem) + 1e-9);
        const count = this.perOffer === 'one' ? Math.min(1, fit) : fit;
        try {
          if (count === 0) await this.scheduler.decline(offer.id, { refuseSeconds: 1 });
          else {
            const tasks = Array.from({ length: count }, () => ({ taskId: `${this.role}-${this.next++}`, resources: TASK, command: { shell: 'exec sleep 600' } }));
            await this.scheduler.launch(offer, tasks, { refuseSeconds: 0 });
          }
        } catch (err) {
          this.failures.push(`offer ${offer.id}: ${(err as Error).message}`);
        }
      }
    }
  }
}

/** Per framework id, the cpus its live tasks use, from the master's /state. */
export async function usedCpus(master: string): Promise<Map<string, number>> {
  const state = (await (await fetch(`http://${master}/state`)).json()) as { frameworks: { id: string; resources: { used: Record<string, number> } }[] };
  return new Map(state.frameworks.map((f) => [f.id, Number(f.resources.used['cpus'] ?? 0)]));
}

/** Waits until the tenants' tasks use all `totalCpus` of the cluster; the cpus of each, by role. */
export async function waitForSaturation(master: string, tenants: readonly Tenant[], totalCpus: number, timeoutMs: number): Promise<Record<string, number>> {
  return waitFor(
    `the ${totalCpus} cpus all used by tasks`,
    async () => {
      const used = await usedCpus(master);
      const split = Object.fromEntries(tenants.map((t) => [t.role, used.get(t.id) ?? 0]));
      return Object.values(split).reduce((a, b) => a + b, 0) >= totalCpus - TASK.cpus / 2 ? split : undefined;
    },
    timeoutMs,
  );
}
