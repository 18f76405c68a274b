import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { endsTask, latest, type SeenUpdate, type TaskRecord } from './framework.js';

/** The parts of the master's /state the checks read. */
export interface StateJson {
  masterId: string;
  agents: { id: string; status: string; resources: { total: Record<string, number | string>; used: Record<string, number | string> } }[];
  frameworks: { id: string; connected: boolean }[];
  tasks: { id: string; frameworkId: string; agentId: string; state: string; sandbox: string }[];
  completedTasks: { id: string; frameworkId: string; agentId: string; state: string }[];
}

const RANK: Record<string, number> = { TASK_STAGING: 0, TASK_STARTING: 1, TASK_RUNNING: 2, TASK_KILLING: 3 };

/**
 * "Its framework saw every state change in order": among the updates the framework got
 * (reconciliation answers aside), nothing follows a terminal update but duplicates of it (at
 * least once), except after LOST/UNREACHABLE: an agent that returns reports the task RUNNING
 * (or how it ended). And the agent's own stream of a task (updates from the agent and the
 * executor) never goes backwards: STAGING < STARTING < RUNNING < KILLING < terminal. Updates
 * the master makes up (UNREACHABLE, RUNNING again when an agent returns) interleave with that
 * stream, as in Mesos, so they are held to the first rule only.
 */
export function streamViolations(t: TaskRecord): string[] {
  const out: string[] = [];
  const stream = t.seen.filter((s) => !s.reconciliation);
  let prev: (typeof stream)[number] | undefined;
  for (const s of stream) {
    if (prev) {
      const revivable = prev.state === 'TASK_UNREACHABLE' || prev.state === 'TASK_LOST';
      if (endsTask(prev.state) && !revivable && s.state !== prev.state) {
        out.push(`task ${t.taskId} (${t.framework}): update ${s.state} (${s.source ?? '?'}/${s.reason ?? '-'}) after terminal ${prev.state} (${prev.source ?? '?'}/${prev.reason ?? '-'}); updates seen: ${describe(t)}`);
      }
    }
    prev = s;
  }
  const agentStream = stream.filter((s) => s.source !== 'MASTER');
  let last: (typeof stream)[number] | undefined;
  for (const s of agentStream) {
    if (last && (rank(s.state) < rank(last.state))) {
      out.push(`task ${t.taskId} (${t.framework}): the agent's updates out of order, ${s.state} after ${last.state}; updates seen: ${describe(t)}`);
    }
    last = s;
  }
  return out;
}

function rank(state: string): number {
  return RANK[state] ?? (endsTask(state) ? 4 : 2);
}

export function describe(t: TaskRecord): string {
  const from = (s: SeenUpdate) => (s.reconciliation ? '(reconciliation)' : `(${s.source ?? '?'}${s.reason ? `/${s.reason}` : ''})`);
  // Runs of the same entry (e.g. one reconciliation answer after another) are shown once, counted.
  const parts: string[] = [];
  let count = 0;
  t.seen.forEach((s, i) => {
    const text = `${s.state.replace('TASK_', '')}${from(s)}`;
    const next = t.seen[i + 1];
    count++;
    if (next && `${next.state.replace('TASK_', '')}${from(next)}` === text) return;
    parts.push(count > 1 ? `${text} x${count}` : text);
    count = 0;
  });
  return parts.join(' > ') || '(nothing)';
}

/** Used above total on any agent at one /state sample. */
export function overcommit(state: StateJson): string[] {
  const out: string[] = [];
  for (const a of state.agents) {
    for (const r of ['cpus', 'mem', 'disk']) {
      const used = Number(a.resources.used[r] ?? 0);
      const total = Number(a.resources.total[r] ?? 0);
      if (used > total + 1e-6) out.push(`agent ${a.id}: ${r} used ${used} > total ${total}`);
      if (used < -1e-6) out.push(`agent ${a.id}: ${r} used ${used} < 0`);
    }
  }
  return out;
}

/**
 * "Every launched task reached a terminal state or is running on a live agent", and the
 * framework's view agrees with the master's.
 */
export function taskProblems(tasks: readonly TaskRecord[], state: StateJson): string[] {
  const out: string[] = [];
  const live = new Map(state.tasks.map((t) => [`${t.frameworkId}/${t.id}`, t]));
  const done = new Map(state.completedTasks.map((t) => [`${t.frameworkId}/${t.id}`, t]));
  const agents = new Map(state.agents.map((a) => [a.id, a]));
  for (const t of tasks) {
    const m = live.get(`${t.frameworkId}/${t.taskId}`);
    const view = latest(t)?.state;
    if (m) {
      if (m.state === 'TASK_RUNNING') {
        const agent = agents.get(m.agentId);
        if (agent?.status !== 'ACTIVE') out.push(`task ${t.taskId} (${t.framework}): RUNNING at the master on agent ${m.agentId} which is ${agent?.status ?? 'unknown'}`);
        if (view !== 'TASK_RUNNING') out.push(`task ${t.taskId} (${t.framework}): the master says RUNNING, the framework last saw ${view ?? 'nothing'}: ${describe(t)}`);
      } else {
        out.push(`task ${t.taskId} (${t.framework}): still ${m.state} at the master (framework saw ${describe(t)})`);
      }
      continue;
    }
    if (!endsTask(view)) {
      out.push(`task ${t.taskId} (${t.framework}): the master has no live task, the framework last saw ${view ?? 'nothing'}${t.launchError ? ` (launch failed: ${t.launchError})` : ''}: ${describe(t)}`);
      continue;
    }
    const ended = done.get(`${t.frameworkId}/${t.taskId}`);
    if (ended && view !== ended.state && view !== 'TASK_LOST' && view !== 'TASK_UNKNOWN') {
      out.push(`task ${t.taskId} (${t.framework}): ended ${ended.state} at the master, the framework saw ${view}: ${describe(t)}`);
    }
    // FINISHED and FAILED come from the agent's reliable stream (retried until acknowledged):
    // learning them only from a reconciliation answer means the update itself was lost.
    if (ended && (ended.state === 'TASK_FINISHED' || ended.state === 'TASK_FAILED') && !t.seen.some((s) => !s.reconciliation && s.state === ended.state)) {
      out.push(`task ${t.taskId} (${t.framework}): ended ${ended.state} at the master, but that update never reached the framework (only reconciliation told it): ${describe(t)}`);
    }
  }
  return out;
}

/** `name=value` pairs of a process's environment, or undefined when it is gone or not ours. */
async function environ(pid: number): Promise<Map<string, string> | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
    const out = new Map<string, string>();
    for (const kv of raw.split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) out.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return out;
  } catch {
    return undefined;
  }
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Live processes of executor runs under `workDirs`, by sandbox. */
export async function processesBySandbox(workDirs: readonly string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  let entries: string[] = [];
  try {
    entries = await readdir('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const env = await environ(Number(e));
    const sandbox = env?.get('MESO_SANDBOX');
    if (!sandbox || !workDirs.some((w) => sandbox.startsWith(w))) continue;
    if (await isZombie(Number(e))) continue;
    out.set(sandbox, [...(out.get(sandbox) ?? []), Number(e)]);
  }
  return out;
}

/**
 * "The registry agrees with the agents": every task /state says RUNNING has live processes
 * (its own pid, for long tasks, from the task.pid it wrote), and no executor run under the
 * agents' work dirs is alive without a live task at the master.
 */
export async function registryProblems(state: StateJson, workDirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const procs = await processesBySandbox(workDirs);
  const liveSandboxes = new Set<string>();
  for (const t of state.tasks) {
    liveSandboxes.add(t.sandbox);
    if (t.state !== 'TASK_RUNNING') continue;
    const pids = procs.get(t.sandbox) ?? [];
    if (pids.length === 0) out.push(`task ${t.id}: RUNNING at the master but no process in its sandbox ${t.sandbox}`);
    const pidText = await readFile(join(t.sandbox, 'task.pid'), 'utf8').catch(() => '');
    const pid = Number(pidText.trim());
    if (pidText && !(await isAlive(pid))) out.push(`task ${t.id}: RUNNING at the master but its process ${pid} is gone`);
  }
  for (const [sandbox, pids] of procs) {
    if (!liveSandboxes.has(sandbox)) out.push(`orphan: processes ${pids.join(',')} of ${sandbox} alive, but the master has no live task there`);
  }
  return out;
}

async function isAlive(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !(await isZombie(pid));
}
