import { SchedulerError } from './errors.js';

/**
 * An unbounded single-consumer async queue: producers `push`, one consumer iterates. `end()`
 * lets the consumer drain what is queued, then finish. `onPulled(item)` runs when the consumer
 * asks for the item after `item` (or stops iterating): the SDK acknowledges updates there, after
 * the loop body has handled them.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private iterating = false;
  /** The item last handed to the consumer, not yet "done with". */
  private current: { item: T } | undefined;

  constructor(private readonly onDone: (item: T) => void = () => undefined) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      this.current = { item };
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /**
   * No more items: the consumer drains what is queued and finishes (or, with `discard`, finishes
   * at once, dropping what is queued). Idempotent.
   */
  end(options: { discard?: boolean } = {}): void {
    if (options.discard) this.items.length = 0;
    if (this.ended) return;
    this.ended = true;
    if (this.waiting && this.items.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  /** Items queued and not yet taken by the consumer. */
  get size(): number {
    return this.items.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Marks the item in the consumer's hands as done (e.g. on close). */
  settleCurrent(): void {
    const c = this.current;
    this.current = undefined;
    if (c) this.onDone(c.item);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterating) {
      throw new SchedulerError('INVALID_ARGUMENT', 'events() can be iterated by one consumer at a time', { field: 'events' });
    }
    this.iterating = true;
    return {
      next: () => {
        this.settleCurrent();
        const item = this.items.shift();
        if (item !== undefined) {
          this.current = { item };
          return Promise.resolve({ value: item, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.settleCurrent();
        this.iterating = false;
        if (this.waiting) {
          const resolve = this.waiting;
          this.waiting = undefined;
          resolve({ value: undefined, done: true });
        }
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
