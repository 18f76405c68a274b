import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStateStore, MemoryStateStore, StateError, type StateStore } from './index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fileStore(): Promise<StateStore> {
  const dir = await mkdtemp(join(tmpdir(), 'meso-state-'));
  dirs.push(dir);
  return FileStateStore.open(dir);
}

// The same behavioural suite runs against every implementation of the contract.
describe.each([
  ['memory', async (): Promise<StateStore> => new MemoryStateStore()],
  ['file', fileStore],
])('%s state store', (_name, make) => {
  it('stores, versions and reads back JSON values', async () => {
    const s = await make();
    expect(await s.get('a/b')).toBeUndefined();
    expect(await s.put('a/b', { x: 1 })).toBe(1);
    expect(await s.put('a/b', { x: 2 })).toBe(2);
    expect(await s.get('a/b')).toEqual({ key: 'a/b', value: { x: 2 }, version: 2 });
  });

  it('compare-and-set refuses a stale version and changes nothing', async () => {
    const s = await make();
    await s.put('k', 'one', { expectedVersion: 0 });
    await expect(s.put('k', 'two', { expectedVersion: 0 })).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect((await s.get('k'))?.value).toBe('one');
    await expect(s.delete('k', { expectedVersion: 7 })).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect(await s.delete('k', { expectedVersion: 1 })).toBe(true);
    expect(await s.delete('k')).toBe(false);
  });

  it('lists by prefix in key order', async () => {
    const s = await make();
    await s.put('frameworks/b', 2);
    await s.put('frameworks/a', 1);
    await s.put('agents/x', 3);
    expect((await s.list('frameworks/')).map((e) => [e.key, e.value])).toEqual([
      ['frameworks/a', 1],
      ['frameworks/b', 2],
    ]);
  });

  it('refuses bad keys and values with a typed error', async () => {
    const s = await make();
    await expect(s.put('../escape', 1)).rejects.toMatchObject({ code: 'STATE_INVALID_KEY' });
    await expect(s.put('a//b', 1)).rejects.toBeInstanceOf(StateError);
    await expect(s.put('k', undefined)).rejects.toMatchObject({ code: 'STATE_INVALID_VALUE' });
  });

  it('serializes concurrent writes to one key', async () => {
    const s = await make();
    const versions = await Promise.all(Array.from({ length: 20 }, (_, i) => s.put('n', i)));
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('file state store durability', () => {
  it('keeps values across reopening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meso-state-'));
    dirs.push(dir);
    const a = await FileStateStore.open(dir);
    await a.put('registry/agents', ['a1']);
    await a.close();
    const b = await FileStateStore.open(dir);
    expect((await b.get('registry/agents'))?.value).toEqual(['a1']);
  });

  it('names a truncated file instead of losing it silently', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meso-state-'));
    dirs.push(dir);
    const s = await FileStateStore.open(dir);
    await s.put('registry/agents', { ids: ['a1', 'a2'] });
    const path = join(dir, 'registry', 'agents.json');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length / 2));
    await expect(s.get('registry/agents')).rejects.toMatchObject({ code: 'STATE_CORRUPT', path });
  });

  it('detects a value changed behind its back by the checksum', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meso-state-'));
    dirs.push(dir);
    const s = await FileStateStore.open(dir);
    await s.put('k', { n: 1 });
    const path = join(dir, 'k.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"n":1', '"n":2'));
    await expect(s.list('')).rejects.toThrow(/k\.json fails its checksum/);
  });
});
