import { isTerminalState, Scheduler, type Offer, type TaskStatus } from '@meso/sdk-scheduler';
import { waitFor, type Cleanup } from '@meso/testing';

/**
 * A framework of one role driven by the test: it keeps every offer and status update it
 * receives; the test decides what to do with them (`takeOffer`, `status`).
 */
export class RoleFramework {
  readonly offers: Offer[] = [];
  readonly statuses: TaskStatus[] = [];
  private done: Promise<void> = Promise.resolve();

  private constructor(
    readonly role: string,
    readonly scheduler: Scheduler,
  ) {}

  static async start(cleanup: Cleanup, master: string, role: string): Promise<RoleFramework> {
    const scheduler = await Scheduler.connect({ master, framework: { name: `fw-${role}`, roles: [role] } });
    const fw = new RoleFramework(role, scheduler);
    fw.done = (async () => {
      for await (const e of scheduler.events()) {
        if (e.type === 'offers') fw.offers.push(...e.offers);
        else if (e.type === 'rescind') fw.drop(e.offerId);
        else if (e.type === 'update') fw.statuses.push(e.status);
      }
    })();
    cleanup.onCleanup(async () => {
      await scheduler.close();
      await fw.done;
    });
    return fw;
  }

  private drop(offerId: string): void {
    const i = this.offers.findIndex((o) => o.id === offerId);
    if (i >= 0) this.offers.splice(i, 1);
  }

  /** The next offer received that matches (others are declined for 0 s so they come back). */
  async takeOffer(what: string, match: (o: Offer) => boolean = () => true, timeoutMs = 60_000): Promise<Offer> {
    return waitFor(
      what,
      async () => {
        for (const o of this.offers.splice(0)) {
          if (match(o)) return o;
          await this.scheduler.decline(o.id, { refuseSeconds: 0 });
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** The status of a task once it is `state`; fails at once naming the state if it ends otherwise. */
  async status(taskId: string, state: string, timeoutMs = 60_000): Promise<TaskStatus> {
    const seen = await waitFor(
      `${taskId} ${state}`,
      () => this.statuses.find((s) => s.taskId === taskId && (s.state === state || isTerminalState(s.state))),
      timeoutMs,
    );
    if (seen.state !== state) throw new Error(`${taskId} is ${seen.state}, not ${state}: ${seen.message ?? ''}`);
    return seen;
  }
}

/** The agent's total from the master's /state (reserved resources keyed `name(role)`, volumes `disk(role)[id:path]`). */
export async function agentTotal(master: string): Promise<Record<string, number | string>> {
  const state = (await (await fetch(`http://${master}/state`)).json()) as { agents: { resources: { total: Record<string, number | string> } }[] };
  return state.agents[0]?.resources.total ?? {};
}

/** POSTs an operator call such as `/reserve` with `{"agent_id", "resources"}`. */
export async function operatorPost(master: string, path: string, agentId: string, resources: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${master}${path}`, { method: 'POST', body: JSON.stringify({ agent_id: agentId, resources }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
