import { describe, expect, it } from 'vitest';
import { RedisFwError } from './errors.js';
import { checkFeasible, MIN_CAPACITY_MB, validateCreate } from './sizing.js';

const err = (fn: () => unknown): RedisFwError => {
  try {
    fn();
  } catch (e) {
    return e as RedisFwError;
  }
  throw new Error('expected an error');
};

describe('validateCreate', () => {
  it('accepts a valid request and defaults distribution to no limit', () => {
    expect(validateCreate({ name: 'cache-1', capacityMb: 64, masters: 1, replicas: 2 })).toEqual({ name: 'cache-1', capacityMb: 64, replicas: 2, distribution: 3 });
  });

  it.each([
    [{ name: 'bad name!', capacityMb: 64, replicas: 0 }, 'name', /letters, digits/],
    [{ name: '', capacityMb: 64, replicas: 0 }, 'name', /letters/],
    [{ name: 'a', capacityMb: MIN_CAPACITY_MB - 1, replicas: 0 }, 'capacityMB', /below the minimum of 16 MB/],
    [{ name: 'a', capacityMb: 'lots', replicas: 0 }, 'capacityMB', /whole number/],
    [{ name: 'a', capacityMb: 64, masters: 2, replicas: 0 }, 'masters', /must be 1/],
    [{ name: 'a', capacityMb: 64, replicas: -1 }, 'slaves', /0-100/],
    [{ name: 'a', capacityMb: 64, replicas: 1, distribution: 0 }, 'Distribution', />= 1/],
  ])('refuses %j naming %s', (input, field, message) => {
    const e = err(() => validateCreate(input));
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', field });
    expect(e.message).toMatch(message);
  });
});

describe('checkFeasible', () => {
  const agents = [{ agentId: 'a', memMb: 1024, cpus: 2 }, { agentId: 'b', memMb: 1024, cpus: 2 }];
  it('refuses a capacity above every agent', () => {
    expect(err(() => checkFeasible(agents, 2000, 1, 1, 0.1))).toMatchObject({ code: 'UNSATISFIABLE', field: 'capacityMB', message: expect.stringMatching(/above every agent \(the largest has 1024 MB\)/) });
  });
  it('refuses replicas that cannot be spread under distribution', () => {
    expect(err(() => checkFeasible(agents, 64, 3, 1, 0.1))).toMatchObject({ code: 'UNSATISFIABLE', field: 'slaves', message: expect.stringMatching(/1 master \+ 2 replicas cannot be spread with at most 1 per agent over 2 agents/) });
  });
  it('accepts what fits, and anything while no agent is known yet', () => {
    expect(() => checkFeasible(agents, 64, 4, 2, 0.1)).not.toThrow();
    expect(() => checkFeasible([], 64, 40, 1, 0.1)).not.toThrow();
  });
});

describe('checkFeasible with volumes', () => {
  it('refuses a volume above every agent disk, and counts disk in the spread', () => {
    const agents = [{ agentId: 'a', memMb: 4096, cpus: 4, diskMb: 1000 }, { agentId: 'b', memMb: 4096, cpus: 4, diskMb: 300 }];
    expect(err(() => checkFeasible(agents, 64, 1, 1, 0.1, undefined, 1200))).toMatchObject({ code: 'UNSATISFIABLE', field: 'capacityMB', message: expect.stringMatching(/needs a volume of 1200 MB, above every agent's disk \(the largest has 1000 MB\)/) });
    expect(err(() => checkFeasible(agents, 64, 5, 5, 0.1, undefined, 256))).toMatchObject({ field: 'slaves', message: expect.stringMatching(/room for 4 servers of 96 MB with 256 MB volumes/) });
  });
});
