import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStateStore, LogStateStore } from './index.js';

const dirs: string[] = [];
const open: LogStateStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meso-log-'));
  dirs.push(dir);
  return dir;
}

async function openStore(dir: string, compactBytes?: number): Promise<LogStateStore> {
  const s = await LogStateStore.open(dir, compactBytes === undefined ? {} : { compactBytes });
  open.push(s);
  return s;
}

/** The lines of the newest log (the one being appended to). */
async function newestLog(dir: string): Promise<{ path: string; lines: string[] }> {
  const logs = (await readdir(dir)).filter((n) => /^state\.\d+\.log$/.test(n)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  const path = join(dir, logs.at(-1) ?? '');
  return { path, lines: (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '') };
}

describe('log state store', () => {
  it('makes the writes of one turn durable together: one log line (one fsync) for many callers', async () => {
    const dir = await tempDir();
    const s = await openStore(dir);
    await Promise.all([...Array.from({ length: 100 }, (_, i) => s.put(`agents/a${i}`, { i })), s.batch([{ type: 'put', key: 'roles', value: {} }, { type: 'delete', key: 'agents/a0' }])]);
    expect((await newestLog(dir)).lines).toHaveLength(1);
    await s.put('agents/late', 1);
    expect((await newestLog(dir)).lines).toHaveLength(2);
  });

  it('reads everything back after a crash (no close), from the snapshot and the logs', async () => {
    const dir = await tempDir();
    const s = await LogStateStore.open(dir, { compactBytes: 300 }); // compacts along the way
    for (let i = 0; i < 30; i++) await s.put(`agents/a${String(i).padStart(2, '0')}`, { i, pad: 'x'.repeat(20) });
    await s.delete('agents/a00');
    await s.batch([{ type: 'put', key: 'agents/a01', value: 'changed' }]);
    // close() writes nothing more (every answered write is already fsynced): the files are
    // what a kill -9 leaves; it only lets a compaction in progress finish first.
    await s.close();
    const back = await openStore(dir);
    const entries = await back.list('agents/');
    expect(entries).toHaveLength(29);
    expect(entries[0]).toEqual({ key: 'agents/a01', value: 'changed', version: 2 });
    expect((await readdir(dir)).filter((n) => n.endsWith('.log')).length).toBeLessThanOrEqual(3);
  });

  it('a torn last line (a crash while appending a batch) is ignored whole: none of the batch applies', async () => {
    const dir = await tempDir();
    const s = await openStore(dir);
    await s.put('k', 'durable');
    await s.batch([
      { type: 'put', key: 'k', value: 'batch' },
      { type: 'put', key: 'other', value: 'batch' },
    ]);
    const { path, lines } = await newestLog(dir);
    const last = lines[1] ?? '';
    // The batch's line cut anywhere: as a crash before its fsync completed leaves it.
    for (const cut of [1, 70, Math.floor(last.length / 2), last.length - 1]) {
      await writeFile(path, `${lines[0]}\n${last.slice(0, cut)}`);
      const back = await LogStateStore.open(dir);
      expect((await back.list('')).map((e) => [e.key, e.value])).toEqual([['k', 'durable']]);
      await back.close();
    }
  });

  it('damage before the last line is STATE_CORRUPT naming the log, never silently dropped', async () => {
    const dir = await tempDir();
    const s = await openStore(dir);
    await s.put('a', 1);
    await s.put('b', 2);
    const { path, lines } = await newestLog(dir);
    await writeFile(path, `${(lines[0] ?? '').replace('"d":1', '"d":7')}\n${lines[1]}\n`);
    await expect(LogStateStore.open(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', path });
  });

  it('a damaged snapshot is STATE_CORRUPT naming it', async () => {
    const dir = await tempDir();
    const s = await LogStateStore.open(dir, { compactBytes: 100 });
    for (let i = 0; i < 10; i++) await s.put(`k${i}`, 'x'.repeat(30));
    await s.close();
    const path = join(dir, 'state.snapshot');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length - 5));
    await expect(LogStateStore.open(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', path });
  });

  it('migrates a directory of the file-per-key layout: same keys, values and versions, old files gone', async () => {
    const dir = await tempDir();
    const old = await FileStateStore.open(dir);
    await old.put('frameworks/f1', { name: 'web' });
    await old.put('frameworks/f1', { name: 'web', failover: 60 });
    await old.put('agents/s1', { hostname: 'h1' });
    await old.put('roles', { weights: { prod: 2 } });
    await old.close();
    const s = await openStore(dir);
    expect((await s.list('')).map((e) => [e.key, e.value, e.version])).toEqual([
      ['agents/s1', { hostname: 'h1' }, 1],
      ['frameworks/f1', { name: 'web', failover: 60 }, 2],
      ['roles', { weights: { prod: 2 } }, 1],
    ]);
    expect((await readdir(dir)).sort()).toEqual(['state.2.log', 'state.snapshot']);
    await s.put('agents/s2', { hostname: 'h2' });
    await s.close();
    const again = await openStore(dir);
    expect((await again.list('agents/')).map((e) => e.key)).toEqual(['agents/s1', 'agents/s2']);
  });

  it('refuses to migrate a damaged old file (nothing migrated, the old files kept)', async () => {
    const dir = await tempDir();
    const old = await FileStateStore.open(dir);
    await old.put('agents/s1', { hostname: 'h1' });
    await old.put('agents/s2', { hostname: 'h2' });
    await old.close();
    const path = join(dir, 'agents', 's2.json');
    await writeFile(path, '{"format":1,"vers');
    await expect(LogStateStore.open(dir)).rejects.toMatchObject({ code: 'STATE_CORRUPT', path });
    expect((await readdir(join(dir, 'agents'))).sort()).toEqual(['s1.json', 's2.json']);
    expect(await readdir(dir)).not.toContain('state.snapshot');
  });

  it('a migration interrupted after its snapshot finishes at the next open', async () => {
    const dir = await tempDir();
    const old = await FileStateStore.open(dir);
    await old.put('agents/s1', 'one');
    await old.close();
    await (await LogStateStore.open(dir)).close();
    await writeFile(join(dir, 'stale.json'), 'left over by a crash before the old files were removed');
    const s = await openStore(dir);
    expect((await s.list('')).map((e) => e.key)).toEqual(['agents/s1']);
    expect(await readdir(dir)).not.toContain('stale.json');
  });

  it('refuses every write and read after a failed append (what it holds may be ahead of the disk)', async () => {
    const dir = await tempDir();
    const s = await openStore(dir);
    await s.put('k', 1);
    await rm(dir, { recursive: true, force: true });
    // The log's file handle stays valid after the unlink; closing it makes the next append fail.
    await (s as unknown as { log: { close(): Promise<void> } }).log.close();
    await expect(s.put('k', 2)).rejects.toMatchObject({ code: 'STATE_IO' });
    await expect(s.get('k')).rejects.toMatchObject({ code: 'STATE_IO' });
  });

  it('a torn tail in an earlier log stays ignored while the later logs replay (a new log per open)', async () => {
    const dir = await tempDir();
    const a = await LogStateStore.open(dir);
    await a.put('k', 1);
    await a.close();
    const { path } = await newestLog(dir);
    await appendFile(path, 'torn tail without newline');
    const b = await openStore(dir);
    await b.put('k', 2);
    await b.close();
    const c = await openStore(dir);
    expect(await c.get('k')).toEqual({ key: 'k', value: 2, version: 2 });
  });

  it('a crash in the middle of a compaction (new log made, snapshot not yet renamed) loses nothing', async () => {
    const dir = await tempDir();
    const s = await LogStateStore.open(dir, { compactBytes: 200 });
    for (let i = 0; i < 12; i++) await s.put(`k${i}`, 'x'.repeat(30)); // compacted along the way
    await s.batch([{ type: 'put', key: 'k0', value: 'last' }, { type: 'delete', key: 'k1' }]);
    const { path } = await newestLog(dir);
    const generation = Number(path.split('.').at(-2));
    // As a crash leaves it between `compact()`'s first steps and the snapshot's rename.
    await writeFile(join(dir, `state.${generation + 1}.log`), '');
    await writeFile(join(dir, `.snapshot.4242.tmp`), '{"format":1,"gener');
    const back = await openStore(dir);
    const entries = await back.list('');
    expect(entries).toHaveLength(11);
    expect(entries.find((e) => e.key === 'k0')?.value).toBe('last');
    expect(entries.some((e) => e.key === 'k1')).toBe(false);
    expect(await readdir(dir)).not.toContain('.snapshot.4242.tmp');
  });
});
