import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.js';
import { parseWeightsFlag } from './roles.js';

describe('--weights', () => {
  it('parses ROLE=WEIGHT items separated by commas', () => {
    expect(parseWeightsFlag('prod=3,dev=1')).toEqual({ prod: 3, dev: 1 });
    expect(parseWeightsFlag(' eng/web = 0.5 ,')).toEqual({ 'eng/web': 0.5 });
  });

  it.each([
    ['prod=0', "--weights: 'prod=0': the weight of prod must be a number > 0"],
    ['prod=-2', "'prod=-2': the weight of prod must be a number > 0"],
    ['prod=NaN', "'prod=NaN': the weight of prod must be a number > 0"],
    ['prod', "--weights: 'prod' is not ROLE=WEIGHT"],
    ['prod=1,prod=2', 'role prod is given twice'],
  ])('refuses %s as a usage error (exit 2) naming the item', (text, message) => {
    let error: unknown;
    try {
      parseWeightsFlag(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toContain(message);
  });
});
