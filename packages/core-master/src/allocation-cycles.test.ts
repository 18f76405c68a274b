import { ResourceStatistics } from '@meso/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decline } from './calls/offer-calls.js';
import { MasterFixture, type FakeFramework } from './master.fixture.js';

let fx: MasterFixture;
let fw: FakeFramework;
let agentId: string;

const offers = (): string[] => [...fx.master.model.offers.values()].filter((o) => o.frameworkId === fw.id).map((o) => o.id);
/** Cycles computed so far (run minus skipped). */
const computed = (): number => fx.master.metrics.allocationRuns - fx.master.metrics.allocationSkipped;

beforeEach(async () => {
  fx = await MasterFixture.create({ allocationIntervalMs: 1000 });
  agentId = (await fx.registerAgent()).id;
  fw = await fx.subscribe();
  fx.allocate();
  expect(offers()).toHaveLength(1);
});
afterEach(async () => fx.close());

describe('allocation cycles with nothing new to decide', () => {
  it('are skipped (and counted) until a filter expires; the declined resources come back when it does, not before', async () => {
    await fw.call('DECLINE', (f, r) => decline(fx.master, f, r), { offerIds: [{ value: offers()[0] }], filters: { refuseSeconds: 10 } });
    await fx.settle(); // the cycle the decline asked for: computed, filtered, nothing offered
    expect(offers()).toHaveLength(0);
    const before = { computed: computed(), runs: fx.master.metrics.allocationRuns };
    fx.allocate();
    fx.clock.advance(9_999); // nine periodic cycles
    expect(offers()).toHaveLength(0);
    expect(fx.master.metrics.allocationRuns).toBe(before.runs + 10);
    expect(computed()).toBe(before.computed);
    fx.clock.advance(1); // the periodic cycle at 10 s: the filter is no longer live
    expect(offers()).toHaveLength(1);
    expect(computed()).toBe(before.computed + 1);
    expect(fx.master.renderMetrics()).toMatch(/^meso_master_allocation_skipped_total 10$/m);
  });

  it('a usage report or an acknowledgement does not make the next cycle compute; any other command does', async () => {
    fx.allocate(); // after the offer: computed once more, nothing new
    const base = computed();
    fx.master.commitLocal({ type: 'agentUsageReported', agentId, usage: ResourceStatistics.fromPartial({ cpusUserTimeSecs: 1 }) });
    fx.master.commitLocal({ type: 'statusAcknowledged', frameworkId: fw.id, taskId: 'none', uuid: 'none' });
    fx.allocate();
    expect(computed()).toBe(base);
    fx.master.commitLocal({ type: 'rolesSuppressed', frameworkId: fw.id, roles: [] });
    fx.allocate();
    expect(computed()).toBe(base + 1);
    fx.allocate();
    expect(computed()).toBe(base + 1);
  });
});

describe('after a long allocation cycle', () => {
  it('the offers go out on the next turn of the event loop, those still outstanding only', async () => {
    fw.link.take('offers');
    const second = await fx.registerAgent({ hostname: 'h2' });
    const third = await fx.registerAgent({ hostname: 'h3' });
    fx.master.longCycleMs = 0; // every cycle counts as long
    fx.allocate();
    const agentsOffered = (): string[] => [...fx.master.model.offers.values()].filter((o) => o.frameworkId === fw.id).map((o) => o.agentId).sort();
    expect(agentsOffered()).toEqual([agentId, second.id, third.id].sort()); // decided and recorded at once...
    expect(fw.link.take('offers')).toEqual([]); // ...sent on the next turn
    fx.master.commitLocal({ type: 'agentDisconnected', agentId: third.id, at: fx.clock.now() }); // its offer goes before the send
    await fx.settle();
    const sent = fw.link.take('offers').flatMap((e) => e.offers.map((o) => o.agentId?.value));
    expect(sent).toEqual([second.id]);
    expect(fw.link.take('rescind')).toEqual([]);
  });
});
