import { describe, expect, it } from 'vitest';
import { classifyVolumeDir, planVolumes, type VolumeKey } from './volume-plan.js';

const v = (id: string, role = 'db'): VolumeKey => ({ role, id });

describe('planVolumes: (desired, previous, present, in use) → directories to create and remove', () => {
  it.each([
    {
      name: 'a new volume is created',
      input: { desired: [v('a')], previous: [], present: [], inUse: [] },
      plan: { create: [v('a')], remove: [], keptInUse: [] },
    },
    {
      name: 'an existing volume is left as it is (idempotent)',
      input: { desired: [v('a')], previous: [v('a')], present: [v('a')], inUse: [] },
      plan: { create: [], remove: [], keptInUse: [] },
    },
    {
      name: 'a volume no longer listed is removed',
      input: { desired: [v('b')], previous: [v('a'), v('b')], present: [v('a'), v('b')], inUse: [] },
      plan: { create: [], remove: [v('a')], keptInUse: [] },
    },
    {
      name: 'a volume no longer listed that a live task uses is kept',
      input: { desired: [], previous: [v('a')], present: [v('a')], inUse: [v('a')] },
      plan: { create: [], remove: [], keptInUse: [v('a')] },
    },
    {
      name: 'at start (previous = desired) a missing directory is created again, nothing removed',
      input: { desired: [v('a'), v('b')], previous: [v('a'), v('b')], present: [v('b')], inUse: [] },
      plan: { create: [v('a')], remove: [], keptInUse: [] },
    },
    {
      name: 'a volume already gone from disk is not removed twice',
      input: { desired: [], previous: [v('a')], present: [], inUse: [] },
      plan: { create: [], remove: [], keptInUse: [] },
    },
    {
      name: 'the same id in two roles is two volumes',
      input: { desired: [v('a', 'db')], previous: [v('a', 'db'), v('a', 'web')], present: [v('a', 'db'), v('a', 'web')], inUse: [v('a', 'db')] },
      plan: { create: [], remove: [v('a', 'web')], keptInUse: [] },
    },
  ])('$name', ({ input, plan }) => {
    expect(planVolumes(input)).toEqual(plan);
  });
});

describe('classifyVolumeDir: directories under the volumes root', () => {
  const known = [v('a', 'db'), v('x', 'eng/ml')];
  it.each([
    [['db', 'a'], 'volume'],
    [['db'], 'ancestor'],
    [['eng'], 'ancestor'],
    [['eng', 'ml'], 'ancestor'],
    [['eng', 'ml', 'x'], 'volume'],
    [['db', 'b'], 'unknown'],
    [['dbx'], 'unknown'],
    [['eng', 'm'], 'unknown'],
  ])('%j is %s', (segments, kind) => {
    expect(classifyVolumeDir(segments, known)).toBe(kind);
  });
});
