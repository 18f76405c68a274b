import { ExecutorInfo, Resources } from '@meso/proto';
import { describe, expect, it } from 'vitest';
import { apply } from '../model/apply.js';
import { createModel, type ExecutorRecord, type OfferRecord } from '../model/model.js';
import { offersToWire, offerToWire } from './wire-views.js';

const r = (x: Record<string, number>) => Resources.scalars(x);
const executor = (agentId: string, frameworkId: string, executorId: string): ExecutorRecord => ({ agentId, frameworkId, executorId, role: '*', info: ExecutorInfo.fromPartial({ executorId: { value: executorId } }), resources: r({ cpus: 0.1 }) });
const offer = (id: string, agentId: string, frameworkId: string): OfferRecord => ({ id, agentId, frameworkId, role: '*', resources: r({ cpus: 1 }), createdAt: 0 });

describe('offersToWire', () => {
  it("lists, in each offer, the framework's own executors on the offer's agent, as offerToWire does one by one", () => {
    const m = createModel('m', 0);
    for (const id of ['a1', 'a2']) apply(m, { type: 'agentAdmitted', agent: { id, hostname: `h-${id}`, endpoint: `${id}:1`, version: '', bootId: '', attributes: [], total: r({ cpus: 4 }) }, reregistered: false, tasks: [], executors: [], at: 0 });
    const offers = [offer('o1', 'a1', 'f1'), offer('o2', 'a2', 'f1'), offer('o3', 'a1', 'f2')];
    expect(offersToWire(m, offers).map((o) => o.executorIds.map((e) => e.value))).toEqual([[], [], []]);
    apply(m, { type: 'tasksLaunched', frameworkId: 'f1', agentId: 'a1', offerIds: [], tasks: [], executors: [executor('a1', 'f1', 'e1'), executor('a1', 'f1', 'e2'), executor('a2', 'f2', 'e3')], filters: [], at: 0 });
    const wire = offersToWire(m, offers);
    expect(wire.map((o) => o.executorIds.map((e) => e.value))).toEqual([['e1', 'e2'], [], []]);
    expect(wire).toEqual(offers.map((o) => offerToWire(m, o)));
  });
});
