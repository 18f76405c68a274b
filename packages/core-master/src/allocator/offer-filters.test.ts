import { Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { filterList, filterLookup, OfferFilters } from './offer-filters.js';
import { seeded, int } from './random-world.fixture.js';
import type { OfferFilter } from './types.js';

const cpus = (n: number): Resources => Resources.scalars({ cpus: n });
const filter = (frameworkId: string, agentId: string, until: number, n = 1): OfferFilter => ({ frameworkId, agentId, resources: cpus(n), until });
const untils = (list: readonly OfferFilter[] | undefined): number[] => (list ?? []).map((f) => f.until).sort((a, b) => a - b);

describe('OfferFilters', () => {
  it('looks filters up by (framework, agent) pair', () => {
    const index = OfferFilters.of([filter('f1', 'a1', 10), filter('f1', 'a1', 20), filter('f1', 'a2', 30), filter('f2', 'a1', 40)]);
    expect(index.size).toBe(4);
    expect(untils(index.forPair('f1', 'a1'))).toEqual([10, 20]);
    expect(untils(index.forPair('f2', 'a1'))).toEqual([40]);
    expect(index.forPair('f2', 'a2')).toBeUndefined();
  });

  it('drops the filters whose until has come, and tells the next expiry after now', () => {
    const index = OfferFilters.of([filter('f1', 'a1', 30), filter('f1', 'a1', 10), filter('f2', 'a2', 20)]);
    expect(index.nextExpiry(0)).toBe(10);
    index.expire(10); // until 10 is not live at 10
    expect(untils(index.forPair('f1', 'a1'))).toEqual([30]);
    expect(index.nextExpiry(15)).toBe(20);
    expect(index.nextExpiry(25)).toBe(30);
    expect(index.forPair('f2', 'a2')).toBeUndefined();
    expect(index.nextExpiry(30)).toBe(Number.POSITIVE_INFINITY);
    expect(index.size).toBe(0);
  });

  it("drops a framework's filters at once; their expiry later does not touch newer filters of the pair", () => {
    const index = OfferFilters.of([filter('f1', 'a1', 10), filter('f1', 'a2', 50), filter('f2', 'a1', 60)]);
    index.removeFramework('f1');
    expect(index.size).toBe(1);
    expect(index.forPair('f1', 'a1')).toBeUndefined();
    index.add(filter('f1', 'a1', 100));
    index.expire(55); // pops the dropped 10 and 50: the new filter of (f1, a1) stays
    expect(untils(index.forPair('f1', 'a1'))).toEqual([100]);
    expect(untils(index.forPair('f2', 'a1'))).toEqual([60]);
    expect(index.size).toBe(2);
    expect(index.nextExpiry(55)).toBe(60);
  });

  it('agrees with a plain list under random adds, expiries and framework drops (heap rebuilt along the way)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = seeded(seed);
      const index = new OfferFilters(8);
      let list: OfferFilter[] = [];
      let now = 0;
      for (let step = 0; step < 3000; step++) {
        const op = rand();
        if (op < 0.7) {
          const f = filter(`f${int(rand, 0, 3)}`, `a${int(rand, 0, 20)}`, now + int(rand, 1, 500));
          index.add(f);
          list.push(f);
        } else if (op < 0.8) {
          const fw = `f${int(rand, 0, 3)}`;
          index.removeFramework(fw);
          list = list.filter((f) => f.frameworkId !== fw);
        } else {
          now += int(rand, 0, 50);
          index.expire(now);
          list = list.filter((f) => f.until > now);
        }
        expect(index.size, `seed ${seed} step ${step}`).toBe(list.length);
      }
      const live = list.map((f) => f.until);
      expect(index.nextExpiry(now), `seed ${seed}`).toBe(live.length > 0 ? Math.min(...live) : Number.POSITIVE_INFINITY);
      for (const f of list) expect(index.forPair(f.frameworkId, f.agentId)).toContain(f);
      expect(untils(index.list())).toEqual(untils(list));
    }
  });

  it('filterLookup indexes a list and passes an index through; filterList does the reverse', () => {
    const list = [filter('f1', 'a1', 10)];
    expect(untils(filterLookup(list).forPair('f1', 'a1'))).toEqual([10]);
    const index = OfferFilters.of(list);
    expect(filterLookup(index)).toBe(index);
    expect(filterList(index)).toEqual(list);
    expect(filterList(list)).toBe(list);
  });
});
