import { describe, expect, it } from 'vitest';
import { SchedulerError } from './errors.js';
import { EventQueue } from './event-queue.js';

describe('EventQueue', () => {
  it('buffers, hands items over in order, and reports each as done when the next is asked for', async () => {
    const done: number[] = [];
    const q = new EventQueue<number>((n) => done.push(n));
    q.push(1);
    q.push(2);
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect(done).toEqual([]);
    expect(await it.next()).toEqual({ value: 2, done: false });
    expect(done).toEqual([1]);
    const waiting = it.next();
    q.push(3);
    expect(await waiting).toEqual({ value: 3, done: false });
    expect(done).toEqual([1, 2]);
    await it.return!();
    expect(done).toEqual([1, 2, 3]);
  });

  it('drains then ends, or ends at once with discard', async () => {
    const q = new EventQueue<number>();
    q.push(1);
    q.end();
    q.push(2); // ignored
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect((await it.next()).done).toBe(true);
    const d = new EventQueue<number>();
    d.push(1);
    d.end({ discard: true });
    expect((await d[Symbol.asyncIterator]().next()).done).toBe(true);
  });

  it('allows one consumer at a time', () => {
    const q = new EventQueue<number>();
    q[Symbol.asyncIterator]();
    expect(() => q[Symbol.asyncIterator]()).toThrow(SchedulerError);
  });
});
