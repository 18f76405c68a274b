import { describe, expect, it } from 'vitest';
import { resourcesFromWire, resourcesToWire } from './convert.js';
import { parseResources } from './parse.js';
import { Resources } from './resources.js';

describe('persistent volumes in Resources', () => {
  it('are parsed from disk(role)[id:path]:size and printed back the same way', () => {
    const r = parseResources('cpus(db):1;disk(db):500;disk(db)[redis-1:data]:100;disk(db)[logs:var/log:ro]:20');
    expect(r.toString()).toBe('cpus(db):1;disk(db):500;disk(db)[logs:var/log:ro]:20;disk(db)[redis-1:data]:100');
    expect(r.volumes().map((v) => [v.volume.id, v.volume.containerPath, v.volume.mode, v.value])).toEqual([
      ['logs', 'var/log', 'ro', 20],
      ['redis-1', 'data', 'rw', 100],
    ]);
    expect(r.withoutVolumes().toString()).toBe('cpus(db):1;disk(db):500');
  });

  it('are never merged with plain disk or with each other, and count as disk', () => {
    const r = parseResources('disk(db):500;disk(db)[a:data]:100').add(parseResources('disk(db)[b:data]:50'));
    expect(r.volumes()).toHaveLength(2);
    expect(r.scalar('disk')).toBe(650);
    expect(r.contains(parseResources('disk(db)[a:data]:100'))).toBe(true);
    expect(r.contains(parseResources('disk(db)[c:data]:100'))).toBe(false);
    expect(r.subtract(parseResources('disk(db)[a:data]:100')).toString()).toBe('disk(db):500;disk(db)[b:data]:50');
  });

  it.each([
    ['disk[v:data]:10', 'needs disk reserved for a role'],
    ['mem(db)[v:data]:10', 'made of disk, not mem'],
    ['disk(db)[v:/abs]:10', 'must be a relative path'],
    ['disk(db)[v:../up]:10', 'must be a relative path'],
    ['disk(db)[bad id:data]:10', 'not a valid volume id'],
    ['disk(db)[v:data:rx]:10', 'is not a volume like'],
  ])('%s is refused: %s', (text, message) => {
    expect(() => parseResources(text)).toThrow(message);
  });

  it('a missing volume is named in a shortfall', () => {
    const have = parseResources('disk(db):500;disk(db)[a:data]:100');
    expect(have.shortfall(parseResources('disk(db)[b:data]:100;disk(db):600')).sort()).toEqual([
      'disk(db): need 600, have 500',
      'disk(db)[b:data]: no such persistent volume here',
    ]);
  });

  it('survive the wire', () => {
    const r = parseResources('disk(db)[v1:data:ro]:64;disk(db):10;cpus:1');
    const back = resourcesFromWire(resourcesToWire(r));
    expect(back.equals(r)).toBe(true);
    expect(back.volumes()[0]?.volume).toEqual({ id: 'v1', containerPath: 'data', mode: 'ro' });
    expect(Resources.empty().volumes()).toEqual([]);
  });
});
