import { MasterError } from '../errors.js';
import type { Master } from '../master.js';

/**
 * Test-only fault injection between the master and its clients, applied in the transport
 * layer only (the master's logic never knows). Off unless rules are given, either as the
 * `faultInjection` option or as JSON in the `MESO_FAULT_INJECTION` environment variable read
 * by `startMaster`, e.g.
 *
 * ```json
 * [{ "drop": "status_update", "probability": 1, "count": 2 }, { "delay": "offers", "ms": 500 }]
 * ```
 *
 * A rule names one message kind, in snake_case, as it crosses the wire:
 * - from agents: `status_update`, `pong`, `executor_exited`, `executor_message`;
 * - to agents: `registered`, `run_task`, `run_task_group`, `kill_task`, `shutdown_executor`,
 *   `shutdown_framework`, `ack`, `ping`, `framework_message`, `update_framework`;
 * - to frameworks (events): `offers`, `update`, `rescind`, `heartbeat`, `failure`, `message`, `error`;
 * - from frameworks (calls): `accept`, `decline`, `revive`, `suppress`, `kill`, `shutdown`,
 *   `acknowledge`, `reconcile`, `message`, `teardown`, `update_framework`.
 *
 * `on` (optional) restricts it to one direction: `from_agent`, `to_agent`, `to_framework`,
 * `from_framework`. `probability` (0..1, default 1) and `count` (how many times at most,
 * default unlimited) shape it; `ms` is the delay of a `delay` rule. A dropped call from a
 * framework is answered OK and not carried out (the HTTP API of Mesos answers 202 before
 * the master acts, so a lost call looks the same to the scheduler).
 */
export interface FaultRule {
  drop?: string;
  delay?: string;
  ms?: number;
  probability?: number;
  count?: number;
  on?: FaultDirection;
}

export type FaultDirection = 'from_agent' | 'to_agent' | 'to_framework' | 'from_framework';

const DIRECTIONS = new Set<string>(['from_agent', 'to_agent', 'to_framework', 'from_framework']);

/** What to do with one message. */
export type FaultDecision = { action: 'pass' } | { action: 'drop' } | { action: 'delay'; ms: number };

const PASS: FaultDecision = { action: 'pass' };

function invalid(field: string, message: string): MasterError {
  return new MasterError('INVALID_OPTIONS', message, field);
}

/** Validates rules (from the option or parsed JSON); throws INVALID_OPTIONS naming `field[i]`. */
export function parseFaultRules(value: unknown, field: string): FaultRule[] {
  if (!Array.isArray(value)) throw invalid(field, `must be a JSON array of rules, got ${JSON.stringify(value)}`);
  return value.map((raw: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw invalid(at, 'must be an object');
    const r = raw as Record<string, unknown>;
    const known = new Set(['drop', 'delay', 'ms', 'probability', 'count', 'on']);
    for (const k of Object.keys(r)) if (!known.has(k)) throw invalid(`${at}.${k}`, `unknown key (expected ${[...known].join(', ')})`);
    const drop = r['drop'];
    const delay = r['delay'];
    if ((drop === undefined) === (delay === undefined)) throw invalid(at, 'needs exactly one of "drop" or "delay"');
    const kind = drop ?? delay;
    if (typeof kind !== 'string' || !/^[a-z_]+$/.test(kind)) throw invalid(`${at}.${drop !== undefined ? 'drop' : 'delay'}`, `must be a snake_case message kind, got ${JSON.stringify(kind)}`);
    const rule: FaultRule = drop !== undefined ? { drop: kind } : { delay: kind };
    if (drop !== undefined && r['ms'] !== undefined) throw invalid(`${at}.ms`, 'only a delay rule takes ms');
    if (delay !== undefined) {
      const ms = r['ms'];
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw invalid(`${at}.ms`, `a delay needs ms >= 0, got ${JSON.stringify(ms)}`);
      rule.ms = ms;
    }
    const p = r['probability'];
    if (p !== undefined) {
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalid(`${at}.probability`, `must be in 0..1, got ${JSON.stringify(p)}`);
      rule.probability = p;
    }
    const count = r['count'];
    if (count !== undefined) {
      if (!Number.isInteger(count) || (count as number) < 1) throw invalid(`${at}.count`, `must be a whole number >= 1, got ${JSON.stringify(count)}`);
      rule.count = count as number;
    }
    const on = r['on'];
    if (on !== undefined) {
      if (typeof on !== 'string' || !DIRECTIONS.has(on)) throw invalid(`${at}.on`, `must be one of ${[...DIRECTIONS].join(', ')}`);
      rule.on = on as FaultDirection;
    }
    return rule;
  });
}

/** Parses the MESO_FAULT_INJECTION environment variable; undefined when unset or empty. */
export function faultRulesFromEnv(env: NodeJS.ProcessEnv = process.env): FaultRule[] | undefined {
  const text = env['MESO_FAULT_INJECTION'];
  if (text === undefined || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid('MESO_FAULT_INJECTION', `is not valid JSON: ${(e as Error).message}`);
  }
  return parseFaultRules(parsed, 'MESO_FAULT_INJECTION');
}

/** `statusUpdate` -> `status_update` (the kinds are the proto field names). */
export function kindOf(camelCase: string): string {
  return camelCase.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Decides, message by message, whether a rule drops or delays it. Rules are tried in
 * order; the first one that matches and fires wins. `random` is injectable for tests.
 */
export class FaultInjector {
  private readonly remaining: (number | undefined)[];
  /** How many messages each rule hit, for tests and logs. */
  readonly hits: number[];

  constructor(
    private readonly rules: readonly FaultRule[],
    private readonly random: () => number = Math.random,
    private readonly onFault: (action: 'drop' | 'delay', direction: FaultDirection, kind: string) => void = () => undefined,
  ) {
    this.remaining = rules.map((r) => r.count);
    this.hits = rules.map(() => 0);
  }

  get enabled(): boolean {
    return this.rules.length > 0;
  }

  /**
   * Delivers a message through the rules: now, later (`schedule`), or never. Without rules
   * it is a plain call of `deliver`.
   */
  route(direction: FaultDirection, kind: string, deliver: () => void, schedule: (fn: () => void, ms: number) => void): void {
    if (this.rules.length === 0) {
      deliver();
      return;
    }
    const d = this.decide(direction, kind);
    if (d.action === 'pass') deliver();
    else if (d.action === 'delay') schedule(deliver, d.ms);
  }

  decide(direction: FaultDirection, kind: string): FaultDecision {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as FaultRule;
      if ((rule.drop ?? rule.delay) !== kind || (rule.on && rule.on !== direction)) continue;
      const left = this.remaining[i];
      if (left !== undefined && left <= 0) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      if (left !== undefined) this.remaining[i] = left - 1;
      this.hits[i] = (this.hits[i] ?? 0) + 1;
      this.onFault(rule.drop !== undefined ? 'drop' : 'delay', direction, kind);
      return rule.drop !== undefined ? { action: 'drop' } : { action: 'delay', ms: rule.ms ?? 0 };
    }
    return PASS;
  }
}

/** Runs a delayed (fault-injected) delivery on the master's clock, unless the master closed. */
export function later(master: Master): (fn: () => void, ms: number) => void {
  return (fn, ms) => {
    master.options.clock.setTimeout(() => {
      if (!master.isClosed) master.safely('a delayed message', fn);
    }, ms);
  };
}
