import type { Master } from '../master.js';
import { kindOf, later, type FaultDirection } from './fault-injection.js';

/**
 * Delivers a message through the master's fault injector when it has rules, else at once
 * (without naming its kind: that is a string made per message, on the hot path of every
 * status update and launch).
 */
export function deliver(master: Master, direction: FaultDirection, $case: string | undefined, fn: () => void): void {
  if (!master.faults.enabled) {
    fn();
    return;
  }
  master.faults.route(direction, kindOf($case ?? ''), fn, later(master));
}
