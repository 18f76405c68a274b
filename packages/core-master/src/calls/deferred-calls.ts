import type { DeferredCall } from '../master.js';
import { taskKey } from '../model/model.js';

const UNNAMED = '';

/**
 * The calls waiting for an agent to re-register after a master restart, indexed by the agent
 * they name ('' when none) and by their task, so an agent's re-registration retries only the
 * calls it can answer (those naming it, those about the tasks it reported or lost) instead of
 * every waiting call: O(agents × calls) at recovery otherwise. `take` keeps arrival order.
 */
export class DeferredCalls {
  private readonly byAgent = new Map<string, Set<Entry>>();
  private readonly byTask = new Map<string, Set<Entry>>();
  private readonly entries = new Set<Entry>();
  private seq = 0;

  get size(): number {
    return this.entries.size;
  }

  /** How many waiting calls are of this kind. */
  count(kind: DeferredCall['kind']): number {
    let n = 0;
    for (const e of this.entries) if (e.call.kind === kind) n++;
    return n;
  }

  add(call: DeferredCall): void {
    const e: Entry = { call, seq: this.seq++, agent: agentOf(call), task: taskOf(call) };
    this.entries.add(e);
    bucket(this.byAgent, e.agent).add(e);
    bucket(this.byTask, e.task).add(e);
  }

  /**
   * Removes and returns, in arrival order, the calls naming `agentId`, those about one of
   * `taskKeys`, and (when `unnamed`) those naming no agent.
   */
  take(agentId: string, taskKeys: Iterable<string>, unnamed: boolean): DeferredCall[] {
    const out = new Set<Entry>();
    for (const e of this.byAgent.get(agentId) ?? []) out.add(e);
    if (unnamed) for (const e of this.byAgent.get(UNNAMED) ?? []) out.add(e);
    for (const k of taskKeys) for (const e of this.byTask.get(k) ?? []) out.add(e);
    for (const e of out) this.remove(e);
    return [...out].sort((a, b) => a.seq - b.seq).map((e) => e.call);
  }

  /** Removes and returns every call, in arrival order. */
  takeAll(): DeferredCall[] {
    const all = [...this.entries].sort((a, b) => a.seq - b.seq).map((e) => e.call);
    this.entries.clear();
    this.byAgent.clear();
    this.byTask.clear();
    return all;
  }

  /** Whether some waiting call names no agent. */
  hasUnnamed(): boolean {
    return (this.byAgent.get(UNNAMED)?.size ?? 0) > 0;
  }

  private remove(e: Entry): void {
    this.entries.delete(e);
    unbucket(this.byAgent, e.agent, e);
    unbucket(this.byTask, e.task, e);
  }
}

interface Entry {
  call: DeferredCall;
  seq: number;
  agent: string;
  task: string;
}

function agentOf(call: DeferredCall): string {
  return (call.kind === 'kill' ? call.request.agentId?.value : call.agentId) || UNNAMED;
}

function taskOf(call: DeferredCall): string {
  return taskKey(call.frameworkId, call.kind === 'kill' ? (call.request.taskId?.value ?? '') : call.taskId);
}

function bucket(map: Map<string, Set<Entry>>, key: string): Set<Entry> {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  return s;
}

function unbucket(map: Map<string, Set<Entry>>, key: string, e: Entry): void {
  const s = map.get(key);
  if (!s) return;
  s.delete(e);
  if (s.size === 0) map.delete(key);
}
