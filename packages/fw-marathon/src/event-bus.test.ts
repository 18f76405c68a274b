import { describe, expect, it } from 'vitest';
import { EventBus } from './event-bus.js';

describe('EventBus', () => {
  it('gives increasing ids and replays what a client missed', () => {
    const bus = new EventBus(10, () => 0);
    for (let i = 0; i < 5; i++) bus.publish('status_update_event', { i });
    expect(bus.since(2)).toMatchObject({ gap: false, events: [{ id: 3 }, { id: 4 }, { id: 5 }] });
    expect(bus.since(5)).toEqual({ gap: false, events: [] });
  });

  it('says so when the bounded buffer no longer holds what was missed', () => {
    const bus = new EventBus(3, () => 0);
    for (let i = 0; i < 5; i++) bus.publish('e', { i });
    const r = bus.since(1);
    expect(r.gap).toBe(true);
    expect(r.events.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(bus.since(2).gap).toBe(false);
  });

  it('adds eventType and timestamp, and delivers to listeners until unsubscribed', () => {
    const bus = new EventBus(3, () => Date.UTC(2026, 0, 1));
    const seen: number[] = [];
    const off = bus.subscribe((e) => seen.push(e.id));
    expect(bus.publish('deployment_info', {}).data).toEqual({ eventType: 'deployment_info', timestamp: '2026-01-01T00:00:00.000Z' });
    off();
    bus.publish('x', {});
    expect(seen).toEqual([1]);
  });
});
