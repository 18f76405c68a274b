import { Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { ResourceSum } from './resource-sums.js';

const agent = (text: Record<string, number>, ports: [number, number][], role = '*'): Resources =>
  Resources.scalars(text, role).add(Resources.of([{ name: 'ports', kind: 'ranges', ranges: ports.map(([begin, end]) => ({ begin, end })), role }]));

describe('ResourceSum', () => {
  it('gives the numbers of adding everything into one Resources (scalars over roles, ranges as a union)', () => {
    const list = [
      agent({ cpus: 0.1, mem: 1024 }, [[31000, 32000]]),
      agent({ cpus: 0.2, mem: 512.5, disk: 10 }, [[31000, 31500], [33000, 33010]]),
      agent({ cpus: 4, gpus: 1 }, [[40000, 40004]], 'db'),
      Resources.empty(),
      Resources.of([{ name: 'zones', kind: 'set', items: ['a', 'b'], role: '*' }]),
    ];
    const sum = new ResourceSum();
    let reference = Resources.empty();
    for (const r of list) {
      sum.add(r);
      reference = reference.add(r);
    }
    expect(sum.names().sort()).toEqual(reference.names());
    for (const name of [...reference.names(), 'absent']) {
      const expected = reference.scalar(name) || reference.ranges(name).reduce((n, x) => n + x.end - x.begin + 1, 0);
      expect(sum.amount(name), name).toBe(expected);
    }
    expect(sum.amount('cpus')).toBe(4.3); // exactly, as Resources adds in thousandths
    expect(sum.amount('ports')).toBe(1001 + 11 + 5);
  });
});
