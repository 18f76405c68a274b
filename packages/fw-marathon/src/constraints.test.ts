import { describe, expect, it } from 'vitest';
import type { Constraint } from './app-definition.js';
import { checkConstraint, type AgentFacts } from './constraints.js';

const agent = (host: string, rack?: string): AgentFacts => ({ host, attributes: rack ? { rack } : {} });
const a1 = agent('h1', 'r1');
const a2 = agent('h2', 'r1');
const a3 = agent('h3', 'r2');

describe('checkConstraint', () => {
  it.each<[string, Constraint, AgentFacts, AgentFacts[], string[], RegExp | undefined]>([
    ['UNIQUE hostname: free host', ['hostname', 'UNIQUE'], a1, [a2], [], undefined],
    ['UNIQUE hostname: taken host', ['hostname', 'UNIQUE'], a1, [a1], [], /hostname:UNIQUE: h1 already runs an instance/],
    ['UNIQUE rack: rack taken by another host', ['rack', 'UNIQUE'], a2, [a1], [], /rack=r1/],
    ['UNIQUE attribute missing', ['zone', 'UNIQUE'], a1, [], [], /has no attribute zone/],
    ['CLUSTER value matches', ['rack', 'CLUSTER', 'r1'], a1, [], [], undefined],
    ['CLUSTER value differs', ['rack', 'CLUSTER', 'r1'], a3, [], [], /is not r1/],
    ['CLUSTER without value follows the first', ['rack', 'CLUSTER'], a3, [a1], [], /is not r1/],
    ['CLUSTER without value, first instance', ['rack', 'CLUSTER'], a3, [], [], undefined],
    ['IS', ['rack', 'IS', 'r2'], a3, [], [], undefined],
    ['IS differs', ['rack', 'IS', 'r2'], a1, [], [], /is not r2/],
    ['LIKE matches whole value', ['hostname', 'LIKE', 'h[12]'], a2, [], [], undefined],
    ['LIKE is anchored', ['hostname', 'LIKE', 'h'], a2, [], [], /does not match/],
    ['UNLIKE', ['rack', 'UNLIKE', 'r1'], a1, [], [], /matches r1/],
    ['UNLIKE ok', ['rack', 'UNLIKE', 'r1'], a3, [], [], undefined],
    ['MAX_PER under', ['rack', 'MAX_PER', '2'], a2, [a1], [], undefined],
    ['MAX_PER full', ['rack', 'MAX_PER', '2'], a2, [a1, a1], [], /already runs 2/],
    ['GROUP_BY spreads', ['rack', 'GROUP_BY'], a2, [a1], ['r1', 'r2'], /another group has 0/],
    ['GROUP_BY emptier group ok', ['rack', 'GROUP_BY'], a3, [a1], ['r1', 'r2'], undefined],
    ['GROUP_BY with n counts unseen groups', ['rack', 'GROUP_BY', '3'], a3, [a1, a3], ['r1', 'r2'], /another group has 0/],
  ])('%s', (_name, c, on, placed, known, want) => {
    const why = checkConstraint(c, on, placed, known);
    if (want === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(want);
  });
});
