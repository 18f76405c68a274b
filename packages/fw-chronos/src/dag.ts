/**
 * Dependencies between jobs as a DAG. Pure functions over plain records.
 */

/** What the DAG logic needs of a job. */
export interface DagNode {
  name: string;
  parents: readonly string[];
  disabled?: boolean;
  /** Ms since the epoch of the last success / failure (final, after retries); undefined if none. */
  lastSuccessAt: number | undefined;
  lastErrorAt: number | undefined;
  /** When this job was last started because its parents succeeded (or created, at first). */
  dependencyCursor: number;
}

/** A cycle through `edges` (child → parents) as a list of names `[a, b, ..., a]`, or undefined. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const parent of edges.get(name) ?? []) {
      const cycle = visit(parent);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of [...edges.keys()].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Whether a dependent job should run now: every parent succeeded since the dependent's last
 * dependency-triggered run, and no parent's latest outcome is a failure (a failed parent holds it).
 */
export function isDependentReady(child: DagNode, parents: ReadonlyMap<string, DagNode>): boolean {
  if (child.disabled || child.parents.length === 0) return false;
  return child.parents.every((name) => {
    const p = parents.get(name);
    if (!p || p.lastSuccessAt === undefined) return false;
    if (p.lastErrorAt !== undefined && p.lastErrorAt > p.lastSuccessAt) return false;
    return p.lastSuccessAt > child.dependencyCursor;
  });
}

/** The dependents of `parent` that are ready now, by name. */
export function readyDependents(parent: string, nodes: ReadonlyMap<string, DagNode>): string[] {
  const ready: string[] = [];
  for (const node of nodes.values()) {
    if (node.parents.includes(parent) && isDependentReady(node, nodes)) ready.push(node.name);
  }
  return ready.sort();
}

/** The DAG in Graphviz dot: one node per job, an edge parent -> child. */
export function toDot(nodes: Iterable<{ name: string; parents: readonly string[]; status?: string }>): string {
  const lines = ['digraph G {', '  node [style=filled];'];
  const list = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
  for (const n of list) {
    const color = n.status === 'success' ? 'green' : n.status === 'failure' ? 'red' : 'lightgrey';
    lines.push(`  "${n.name}" [fillcolor=${color}];`);
  }
  for (const n of list) for (const p of n.parents) lines.push(`  "${p}" -> "${n.name}";`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
