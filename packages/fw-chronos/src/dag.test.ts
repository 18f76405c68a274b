import { describe, expect, it } from 'vitest';
import { findCycle, isDependentReady, readyDependents, toDot, type DagNode } from './dag.js';

const node = (name: string, parents: string[], o: Partial<DagNode> = {}): DagNode => ({ name, parents, lastSuccessAt: undefined, lastErrorAt: undefined, dependencyCursor: 0, ...o });

describe('findCycle', () => {
  it.each([
    [{ a: [], b: ['a'], c: ['a', 'b'] }, undefined],
    [{ a: ['c'], b: ['a'], c: ['b'] }, ['a', 'c', 'b', 'a']],
    [{ a: ['a'] }, ['a', 'a']],
    [{ x: [], a: ['b'], b: ['x'] }, undefined],
  ])('%j → %j', (edges, cycle) => {
    expect(findCycle(new Map(Object.entries(edges)))).toEqual(cycle);
  });
});

describe('dependents', () => {
  it('runs once all parents succeeded since its last run', () => {
    const nodes = new Map([
      ['a', node('a', [], { lastSuccessAt: 100 })],
      ['b', node('b', [], { lastSuccessAt: 50 })],
      ['c', node('c', ['a', 'b'], { dependencyCursor: 60 })],
    ]);
    expect(readyDependents('a', nodes)).toEqual([]); // b succeeded before c's last run
    nodes.set('b', node('b', [], { lastSuccessAt: 110 }));
    expect(readyDependents('b', nodes)).toEqual(['c']);
  });

  it('a failed parent holds it', () => {
    const parents = new Map([
      ['a', node('a', [], { lastSuccessAt: 100, lastErrorAt: 120 })],
      ['b', node('b', [], { lastSuccessAt: 110 })],
    ]);
    expect(isDependentReady(node('c', ['a', 'b']), parents)).toBe(false);
    parents.set('a', node('a', [], { lastSuccessAt: 130, lastErrorAt: 120 }));
    expect(isDependentReady(node('c', ['a', 'b']), parents)).toBe(true);
    expect(isDependentReady(node('c', ['a', 'b'], { disabled: true }), parents)).toBe(false);
  });

  it('draws the DAG in dot', () => {
    expect(toDot([node('a', []), { ...node('b', ['a']), status: 'success' }])).toBe('digraph G {\n  node [style=filled];\n  "a" [fillcolor=lightgrey];\n  "b" [fillcolor=green];\n  "a" -> "b";\n}\n');
  });
});
