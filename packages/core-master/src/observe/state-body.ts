import type { Resources, TaskState } from '@meso/proto';
import type { AgentRecord, MasterModel, TaskRecord, TaskStateEntry } from '../model/model.js';
import { MASTER_VERSION } from '../version.js';
import { agentAvailable } from '../model/snapshots.js';
import { agentJson, frameworkJson, resourcesToJson, taskJson } from './state-json.js';

// The /state document as bytes, fast at 10k agents and 100k tasks (43 MB):
// - each task's and agent's JSON text is kept beside its record (a WeakMap) with what it was
//   made from, and made again only when one of those changed;
// - the lists of tasks and agents are kept as UTF-8 blocks of BLOCK records, each re-made
//   only when one of its texts changed (or moved), so an unchanged list costs a walk of
//   identity checks, not a join and an encoding of tens of megabytes;
// - the task lists' chunks are kept with the model's tasksVersion (moved only by commands
//   that may touch a task);
// - the whole body is kept with the model's version: while no command is applied, /state
//   costs nothing but the write.
// The bytes are exactly those of `JSON.stringify(stateJson(model))` (see the unit test).

/** The /state body: its pieces in order, and their total length in bytes. */
export interface StateBody {
  chunks: readonly Buffer[];
  length: number;
}

/** Records per cached block of a list. */
const BLOCK = 1024;

/**
 * A text of a list with its stamp: a number given to each text when it is made (never
 * reused), so that a cached block is checked by comparing numbers, not 600-character strings.
 */
interface Piece {
  text: string;
  stamp: number;
}

let stamps = 0;

interface TaskFragment extends Piece {
  state: TaskState;
  statuses: TaskStateEntry[];
  statusCount: number;
  resources: Resources;
  sandbox: string;
  name: string;
  role: string;
  agentId: string;
  executorId: string;
  text: string;
}

const taskFragments = new WeakMap<TaskRecord, TaskFragment>();

/** A task's JSON; records change in place (state, statuses pushed, sandbox) or get new resources. */
function taskText(t: TaskRecord): Piece {
  const f = taskFragments.get(t);
  if (
    f &&
    f.state === t.state &&
    f.statuses === t.statuses &&
    f.statusCount === t.statuses.length &&
    f.resources === t.resources &&
    f.sandbox === t.sandbox &&
    f.name === t.name &&
    f.role === t.role &&
    f.agentId === t.agentId &&
    f.executorId === t.executorId
  ) {
    return f;
  }
  const text = JSON.stringify(taskJson(t));
  const made: TaskFragment = { state: t.state, statuses: t.statuses, statusCount: t.statuses.length, resources: t.resources, sandbox: t.sandbox, name: t.name, role: t.role, agentId: t.agentId, executorId: t.executorId, text, stamp: ++stamps };
  taskFragments.set(t, made);
  return made;
}

/** An agent's JSON around its resources (which change with every offer), kept until the rest changes. */
interface AgentFragment extends Piece {
  status: AgentRecord['status'];
  maintenance: AgentRecord['maintenance'];
  hostname: string;
  endpoint: string;
  attributes: AgentRecord['attributes'];
  total: Resources;
  registeredTime: number;
  reregisteredTime: number | undefined;
  isolators: AgentRecord['isolators'];
  usage: AgentRecord['usage'];
  head: string;
  tail: string;
  used: Resources | undefined;
  offered: Resources | undefined;
}

const agentFragments = new WeakMap<AgentRecord, AgentFragment>();
const RESOURCES_MARK = '"resources":null';

/** The JSON text of resources, once per (immutable) Resources. */
const resourcesTexts = new WeakMap<Resources, string>();
function resourcesText(r: Resources): string {
  if (r.isEmpty()) return '{}'; // what a declined offer leaves in `offered`: a new empty Resources each time
  let text = resourcesTexts.get(r);
  if (text === undefined) resourcesTexts.set(r, (text = JSON.stringify(resourcesToJson(r))));
  return text;
}

/**
 * An agent's JSON; a DRAINING agent's status depends on its tasks, so it is made every time.
 * Offers made and declined change only `offered` (and the free resources): then the text is
 * the kept head and tail around the resources' texts, not a new stringify of the agent.
 */
function agentText(model: MasterModel, a: AgentRecord): Piece {
  if (a.maintenance === 'DRAINING') return { text: JSON.stringify(agentJson(model, a)), stamp: ++stamps };
  let f = agentFragments.get(a);
  if (
    !f ||
    f.status !== a.status ||
    f.maintenance !== a.maintenance ||
    f.hostname !== a.hostname ||
    f.endpoint !== a.endpoint ||
    f.attributes !== a.attributes ||
    f.total !== a.total ||
    f.registeredTime !== a.registeredTime ||
    f.reregisteredTime !== a.reregisteredTime ||
    f.isolators !== a.isolators ||
    f.usage !== a.usage
  ) {
    // `resources` keeps its place among the keys; before it come only strings and attributes (never null).
    const json = JSON.stringify({ ...agentJson(model, a), resources: null });
    const at = json.indexOf(RESOURCES_MARK);
    f = {
      status: a.status,
      maintenance: a.maintenance,
      hostname: a.hostname,
      endpoint: a.endpoint,
      attributes: a.attributes,
      total: a.total,
      registeredTime: a.registeredTime,
      reregisteredTime: a.reregisteredTime,
      isolators: a.isolators,
      usage: a.usage,
      head: json.slice(0, at),
      tail: json.slice(at + RESOURCES_MARK.length),
      used: undefined,
      offered: undefined,
      text: '',
      stamp: 0,
    };
    agentFragments.set(a, f);
  }
  if (f.used !== a.used || f.offered !== a.offered) {
    const free = resourcesText(agentAvailable(a));
    f.text = `${f.head}"resources":{"total":${resourcesText(a.total)},"used":${resourcesText(a.used)},"offered":${resourcesText(a.offered)},"free":${free}}${f.tail}`;
    f.stamp = ++stamps;
    f.used = a.used;
    f.offered = a.offered;
  }
  return f;
}

/** A JSON array of texts as UTF-8 blocks, each kept until one of its texts changes (or moves). */
class ListCache {
  private blocks: { stamps: number[]; bytes: Buffer }[] = [];

  /** `[`, the blocks, `]`: pushed onto `out`. */
  render(pieces: Iterable<Piece>, out: Buffer[]): void {
    out.push(OPEN);
    let index = 0;
    let block: Piece[] = [];
    const flush = (): void => {
      const prev = this.blocks[index];
      if (prev && sameStamps(prev.stamps, block)) {
        out.push(prev.bytes);
      } else {
        const texts = block.map((p) => p.text).join(',');
        const bytes = Buffer.from(index === 0 ? texts : `,${texts}`);
        this.blocks[index] = { stamps: block.map((p) => p.stamp), bytes };
        out.push(bytes);
      }
      index++;
      block = [];
    };
    for (const piece of pieces) {
      block.push(piece);
      if (block.length === BLOCK) flush();
    }
    if (block.length > 0) flush();
    this.blocks.length = index;
    out.push(CLOSE);
  }
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMPLETED = Buffer.from(',"completedTasks":');

function sameStamps(stamps: readonly number[], block: readonly Piece[]): boolean {
  if (stamps.length !== block.length) return false;
  for (let i = 0; i < stamps.length; i++) if (stamps[i] !== (block[i] as Piece).stamp) return false;
  return true;
}

function* mapIter<T>(items: Iterable<T>, fn: (item: T) => Piece): Iterable<Piece> {
  for (const item of items) yield fn(item);
}

interface ModelCache {
  agents: ListCache;
  tasks: ListCache;
  completedTasks: ListCache;
  /** The model's version the body was made at. */
  version: number;
  body: StateBody | undefined;
  /** The model's tasksVersion the task lists' chunks were made at. */
  tasksVersion: number;
  taskChunks: Buffer[];
}

const caches = new WeakMap<MasterModel, ModelCache>();

/** The /state body of `model` now (the same bytes as `JSON.stringify(stateJson(model))`). */
export function stateJsonBody(model: MasterModel): StateBody {
  let cache = caches.get(model);
  if (!cache) caches.set(model, (cache = { agents: new ListCache(), tasks: new ListCache(), completedTasks: new ListCache(), version: -1, body: undefined, tasksVersion: -1, taskChunks: [] }));
  if (cache.body && cache.version === model.version) return cache.body;
  const head = JSON.stringify({ masterId: model.masterId, version: MASTER_VERSION, startTime: model.startTime / 1000 });
  const chunks: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"agents":`)];
  cache.agents.render(mapIter(model.agents.values(), (a) => agentText(model, a)), chunks);
  chunks.push(
    Buffer.from(
      `,"goneAgents":${JSON.stringify([...model.goneAgents.values()].map((g) => ({ id: g.id, hostname: g.hostname, goneTime: g.goneTime / 1000 })))}` +
        `,"frameworks":${JSON.stringify([...model.frameworks.values()].map(frameworkJson))},"tasks":`,
    ),
  );
  // While no command touched a task (offers made and declined, say), the task lists are not even walked.
  if (cache.tasksVersion !== model.tasksVersion) {
    const taskChunks: Buffer[] = [];
    cache.tasks.render(mapIter(model.tasks.values(), taskText), taskChunks);
    taskChunks.push(COMPLETED);
    cache.completedTasks.render(mapIter(model.completedTasks, taskText), taskChunks);
    cache.taskChunks = taskChunks;
    cache.tasksVersion = model.tasksVersion;
  }
  chunks.push(...cache.taskChunks);
  chunks.push(Buffer.from(`,"outstandingOffers":${model.offers.size}}`));
  const body = { chunks, length: chunks.reduce((n, c) => n + c.length, 0) };
  cache.version = model.version;
  cache.body = body;
  return body;
}

/** The /state body as one string (tests, small models). */
export function stateJsonText(model: MasterModel): string {
  return Buffer.concat(stateJsonBody(model).chunks).toString('utf8');
}
