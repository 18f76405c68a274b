import { describe, expect, it } from 'vitest';
import { FaultInjector, faultRulesFromEnv, kindOf, parseFaultRules } from './fault-injection.js';
import { refusedWith } from '../master.fixture.js';

describe('fault rules', () => {
  it('parses the documented example from MESO_FAULT_INJECTION', () => {
    const env = { MESO_FAULT_INJECTION: '[{"drop":"status_update","probability":1,"count":2},{"delay":"offers","ms":500}]' };
    expect(faultRulesFromEnv(env)).toEqual([{ drop: 'status_update', probability: 1, count: 2 }, { delay: 'offers', ms: 500 }]);
    expect(faultRulesFromEnv({})).toBeUndefined();
    expect(faultRulesFromEnv({ MESO_FAULT_INJECTION: ' ' })).toBeUndefined();
  });

  it.each([
    ['not JSON', '[{', 'MESO_FAULT_INJECTION'],
    ['not an array', '{"drop":"x"}', 'MESO_FAULT_INJECTION'],
    ['neither drop nor delay', '[{"ms":1}]', 'MESO_FAULT_INJECTION[0]'],
    ['both', '[{"drop":"a","delay":"b","ms":1}]', 'MESO_FAULT_INJECTION[0]'],
    ['a delay without ms', '[{"delay":"offers"}]', 'MESO_FAULT_INJECTION[0].ms'],
    ['a probability above 1', '[{"drop":"ack","probability":2}]', 'MESO_FAULT_INJECTION[0].probability'],
    ['a zero count', '[{"drop":"ack","count":0}]', 'MESO_FAULT_INJECTION[0].count'],
    ['an unknown direction', '[{"drop":"ack","on":"sideways"}]', 'MESO_FAULT_INJECTION[0].on'],
    ['an unknown key', '[{"drop":"ack","every":2}]', 'MESO_FAULT_INJECTION[0].every'],
    ['a camelCase kind', '[{"drop":"statusUpdate"}]', 'MESO_FAULT_INJECTION[0].drop'],
  ])('refuses %s, naming the field', async (_what, text, field) => {
    expect(await refusedWith(() => faultRulesFromEnv({ MESO_FAULT_INJECTION: text }))).toMatchObject({ code: 'INVALID_OPTIONS', field });
  });

  it('kinds are the snake_case proto field names', () => {
    expect(kindOf('statusUpdate')).toBe('status_update');
    expect(kindOf('offers')).toBe('offers');
  });
});

describe('FaultInjector', () => {
  it('drops up to count times, then passes; only in the named direction', () => {
    const f = new FaultInjector(parseFaultRules([{ drop: 'ack', count: 2, on: 'to_agent' }], 'rules'));
    expect(f.decide('from_framework', 'ack')).toEqual({ action: 'pass' });
    expect(f.decide('to_agent', 'ack')).toEqual({ action: 'drop' });
    expect(f.decide('to_agent', 'ping')).toEqual({ action: 'pass' });
    expect(f.decide('to_agent', 'ack')).toEqual({ action: 'drop' });
    expect(f.decide('to_agent', 'ack')).toEqual({ action: 'pass' });
    expect(f.hits).toEqual([2]);
  });

  it('fires with the given probability (injected randomness) and delays by ms', () => {
    const rolls = [0.9, 0.1];
    const f = new FaultInjector(parseFaultRules([{ delay: 'offers', ms: 500, probability: 0.5 }], 'rules'), () => rolls.shift() ?? 0);
    expect(f.decide('to_framework', 'offers')).toEqual({ action: 'pass' });
    expect(f.decide('to_framework', 'offers')).toEqual({ action: 'delay', ms: 500 });
  });

  it('route delivers now, later or never; with no rules it is a plain call', () => {
    const delivered: string[] = [];
    const scheduled: number[] = [];
    const f = new FaultInjector(parseFaultRules([{ drop: 'a' }, { delay: 'b', ms: 7 }], 'rules'));
    const schedule = (fn: () => void, ms: number) => {
      scheduled.push(ms);
      fn();
    };
    f.route('to_agent', 'a', () => delivered.push('a'), schedule);
    f.route('to_agent', 'b', () => delivered.push('b'), schedule);
    f.route('to_agent', 'c', () => delivered.push('c'), schedule);
    expect(delivered).toEqual(['b', 'c']);
    expect(scheduled).toEqual([7]);
    const off = new FaultInjector([]);
    expect(off.enabled).toBe(false);
    off.route('to_agent', 'a', () => delivered.push('off'), schedule);
    expect(delivered).toContain('off');
  });
});
