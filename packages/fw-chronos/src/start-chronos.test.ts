import { FakeSchedulerTransport, SchedulerError, silentLogger } from '@meso/sdk-scheduler';
import { MemoryStateStore } from '@meso/state';
import { describe, expect, it } from 'vitest';
import { startChronos } from './start-chronos.js';

describe('startChronos options', () => {
  it.each([
    [{ httpPort: -1 }, /options.httpPort: must be a port/],
    [{ httpPort: 1.5 }, /options.httpPort/],
    [{ master: 'nohost' }, /options.master: must be host:port/],
    [{ failoverTimeoutSeconds: -5 }, /options.failoverTimeoutSeconds/],
    [{ reviveLeadMs: Number.NaN }, /options.reviveLeadMs/],
  ])('refuses %j naming the field', async (bad, message) => {
    await expect(startChronos({ ...bad, store: new MemoryStateStore(), transport: new FakeSchedulerTransport(), logger: silentLogger })).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringMatching(message) });
  });

  it('re-subscribes with the stored framework id, and registers anew if the master removed it', async () => {
    const store = new MemoryStateStore();
    const first = new FakeSchedulerTransport();
    first.frameworkId = 'fw-1';
    const a = await startChronos({ store, transport: first, httpPort: 0, logger: silentLogger });
    expect(a.frameworkId).toBe('fw-1');
    await a.close();

    const second = new FakeSchedulerTransport();
    const b = await startChronos({ store, transport: second, httpPort: 0, logger: silentLogger });
    expect(second.subscriptions[0]?.frameworkInfo?.id?.value).toBe('fw-1');
    expect(second.subscriptions[0]?.frameworkInfo?.failoverTimeout).toBe(604800);
    await b.close();

    const third = new FakeSchedulerTransport();
    third.frameworkId = 'fw-2';
    third.refuseNextSubscribe(new SchedulerError('FRAMEWORK_REMOVED', 'framework fw-1 was removed'));
    const c = await startChronos({ store, transport: third, httpPort: 0, logger: silentLogger });
    expect(c.frameworkId).toBe('fw-2');
    await c.close();
  });
});
