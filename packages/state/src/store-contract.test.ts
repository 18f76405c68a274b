import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checksummedText, recordText } from './records.js';
import { FileStateStore, LogStateStore, MemoryStateStore, StateError, type StateStore } from './index.js';

const dirs: string[] = [];
const stores: StateStore[] = [];
afterEach(async () => {
  // Closed first: a log store may still be compacting after its writers were answered.
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function kept<S extends StateStore>(s: S): S {
  stores.push(s);
  return s;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meso-state-'));
  dirs.push(dir);
  return dir;
}

async function fileStore(): Promise<StateStore> {
  return kept(await FileStateStore.open(await tempDir()));
}

async function logStore(): Promise<StateStore> {
  return kept(await LogStateStore.open(await tempDir(), { compactBytes: 512 })); // compacts often: the contract holds across it
}

// The same behavioural suite runs against every implementation of the contract.
describe.each([
  ['memory', async (): Promise<StateStore> => new MemoryStateStore()],
  ['file', fileStore],
  ['log', logStore],
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

  it('applies a batch of puts and deletes in order and returns each version', async () => {
    const s = await make();
    await s.put('agents/a', 'old');
    const versions = await s.batch([
      { type: 'put', key: 'agents/a', value: 'new', expectedVersion: 1 },
      { type: 'put', key: 'agents/b', value: 'b', expectedVersion: 0 },
      { type: 'put', key: 'agents/b', value: 'b2' },
      { type: 'delete', key: 'agents/c' },
    ]);
    expect(versions).toEqual([2, 1, 2, 0]);
    expect((await s.list('agents/')).map((e) => [e.key, e.value, e.version])).toEqual([
      ['agents/a', 'new', 2],
      ['agents/b', 'b2', 2],
    ]);
    expect(await s.batch([{ type: 'delete', key: 'agents/a' }])).toEqual([0]);
    expect(await s.get('agents/a')).toBeUndefined();
    expect(await s.batch([])).toEqual([]);
  });

  it('a batch with one failing write applies none of them', async () => {
    const s = await make();
    await s.put('k1', 1);
    await expect(
      s.batch([
        { type: 'put', key: 'k2', value: 2 },
        { type: 'delete', key: 'k1' },
        { type: 'put', key: 'k1', value: 3, expectedVersion: 1 }, // k1 was deleted just before: version 0
      ]),
    ).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    await expect(s.batch([{ type: 'put', key: 'k2', value: 2 }, { type: 'put', key: 'bad//key', value: 1 }])).rejects.toMatchObject({ code: 'STATE_INVALID_KEY' });
    await expect(s.batch([{ type: 'put', key: 'k2', value: 2 }, { type: 'put', key: 'k3', value: undefined }])).rejects.toMatchObject({ code: 'STATE_INVALID_VALUE' });
    expect((await s.list('')).map((e) => [e.key, e.value])).toEqual([['k1', 1]]);
  });

  it('resolves every concurrent writer with its own result', async () => {
    const s = await make();
    const results = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => s.put(`many/${String(i).padStart(2, '0')}`, { i })),
      s.batch([{ type: 'put', key: 'x', value: 1 }, { type: 'put', key: 'y', value: 2 }]),
      s.delete('absent'),
    ]);
    expect(results.slice(0, 50)).toEqual(Array.from({ length: 50 }, () => 1));
    expect(results.slice(50)).toEqual([[1, 1], false]);
    expect((await s.list('many/')).map((e) => e.value)).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
  });

  it('refuses every call once closed', async () => {
    const s = await make();
    await s.put('k', 1);
    await s.close();
    await expect(s.get('k')).rejects.toMatchObject({ code: 'STATE_CLOSED' });
    await expect(s.batch([{ type: 'put', key: 'k', value: 2 }])).rejects.toMatchObject({ code: 'STATE_CLOSED' });
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

  it('finishes at open a batch a crash interrupted after its journal: never half-applied', async () => {
    const dir = await tempDir();
    const s = await FileStateStore.open(dir);
    await s.put('agents/a', 'old');
    await s.put('agents/gone', 'old');
    await s.close();
    // The state after a crash between the journal's rename and the first file of the batch
    // (a crash before the rename leaves only a temporary file, ignored: the batch never happened).
    const journal = checksummedText({}, [recordText('agents/a', 2, '"new"'), recordText('agents/b', 1, '"new"'), recordText('agents/gone', 0, undefined)]);
    await writeFile(join(dir, '.batch.0.999.journal'), journal);
    await writeFile(join(dir, '.7.999.tmp'), journal.slice(0, 20));
    const back = await FileStateStore.open(dir);
    expect((await back.list('')).map((e) => [e.key, e.value, e.version])).toEqual([
      ['agents/a', 'new', 2],
      ['agents/b', 'new', 1],
    ]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.journal'))).toEqual([]);
  });

  it('names a damaged batch journal instead of applying part of it', async () => {
    const dir = await tempDir();
    const journal = checksummedText({}, [recordText('k', 1, '"v"')]);
    const path = join(dir, '.batch.0.999.journal');
    await writeFile(path, journal.replace('"v"', '"w"'));
    await expect(FileStateStore.open(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', path });
  });
});
