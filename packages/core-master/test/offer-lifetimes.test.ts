// MasterTest.OfferTimeout and HierarchicalAllocatorTest.OfferFilter over loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('offer lifetimes', () => {
  it('MasterTest.OfferTimeout: an offer not answered within offerTimeoutMs is rescinded, then offered again', async () => {
    cluster = await TestCluster.start({ offerTimeoutMs: 100 });
    await cluster.agent();
    const fw = await cluster.framework();
    const [offer] = await fw.nextOffers();
    const rescind = await fw.events.take((e) => e.event?.$case === 'rescind', 'RESCIND');
    expect(rescind.event?.$case === 'rescind' && rescind.event.value.offerId?.value).toBe(offer?.id?.value);
    const [again] = await fw.nextOffers();
    expect(again?.id?.value).not.toBe(offer?.id?.value);
    expect(again?.agentId?.value).toBe(offer?.agentId?.value);
  });

  it('HierarchicalAllocatorTest.OfferFilter: a declined agent is not offered again before refuse_seconds have passed', async () => {
    cluster = await TestCluster.start({ allocationIntervalMs: 20 });
    await cluster.agent();
    const fw = await cluster.framework();
    const [offer] = await fw.nextOffers();
    const declined = Date.now();
    await fw.call('decline', { offerIds: [offer?.id], filters: { refuseSeconds: 0.4 } });
    const [again] = await fw.nextOffers();
    expect(Date.now() - declined).toBeGreaterThanOrEqual(390);
    expect(again?.agentId?.value).toBe(offer?.agentId?.value);
  });
});
