// The wrapper a command task runs under: what it reports, and that it really records the
// task's exit status (a real /bin/sh; the task in a group of its own; SIGTERM to the whole
// group reaches the task, not the wrapper).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missingWrapperTools, parseExitFile, taskExit, taskProgram, wrapTask, TASK_WRAPPER_NAME } from './task-wrapper.js';

const command = (over: Partial<Parameters<typeof taskProgram>[0]>): Parameters<typeof taskProgram>[0] => ({ shell: true, value: '', arguments: [], env: {}, user: '', ...over });

describe('taskExit / parseExitFile', () => {
  it('reads a status above 128 as the signal the shell reports it for', () => {
    expect(taskExit(0, null)).toEqual({ code: 0, signal: null });
    expect(taskExit(3, null)).toEqual({ code: 3, signal: null });
    expect(taskExit(139, null)).toEqual({ code: null, signal: 'SIGSEGV' });
    expect(taskExit(143, null)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(taskExit(null, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(taskExit(255, null)).toEqual({ code: 255, signal: null });
  });

  it('takes a recorded status, and nothing from an empty or garbled file', () => {
    expect(parseExitFile('3\n')).toEqual({ code: 3, signal: null });
    expect(parseExitFile('137\n')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(parseExitFile('')).toBeUndefined();
    expect(parseExitFile('x1\n')).toBeUndefined();
  });
});

describe('taskProgram / wrapTask', () => {
  it('runs a shell command through /bin/sh -c and argv commands as given', () => {
    expect(taskProgram(command({ value: 'echo hi' }))).toEqual({ file: '/bin/sh', args: ['-c', 'echo hi'] });
    expect(taskProgram(command({ shell: false, value: '/bin/echo', arguments: ['/bin/echo', 'a', 'b'] }))).toEqual({ file: '/bin/echo', args: ['a', 'b'] });
  });

  it('switches user after the wrapper, which stays root to write the status', () => {
    const w = wrapTask({ file: '/bin/true', args: [] }, '/w/meta/exits/r1', { uid: 1000, gid: 100 });
    expect(w.file).toBe('/bin/sh');
    expect(w.args.slice(2)).toEqual([TASK_WRAPPER_NAME, '/w/meta/exits/r1', '/usr/bin/setsid', '/usr/bin/setpriv', '--reuid=1000', '--regid=100', '--clear-groups', '--', '/bin/true']);
  });
});

describe('missingWrapperTools', () => {
  it('names the util-linux programs a system lacks: setsid always, setpriv only for a root agent', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'meso-no-tools-'));
    const withSetsid = await mkdtemp(join(tmpdir(), 'meso-setsid-'));
    try {
      await writeFile(join(withSetsid, 'setsid'), '#!/bin/sh\n', { mode: 0o755 });
      expect(missingWrapperTools(true, [empty])).toEqual(['setsid', 'setpriv']);
      expect(missingWrapperTools(true, [empty, withSetsid])).toEqual(['setpriv']);
      expect(missingWrapperTools(false, [withSetsid])).toEqual([]);
      expect(missingWrapperTools(false, [empty])).toEqual(['setsid']);
    } finally {
      await Promise.all([empty, withSetsid].map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});

describe('the wrapper, for real', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function run(script: string, statusFile: string, onStart?: (pid: number) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const w = wrapTask(taskProgram(command({ value: script })), statusFile);
    const child = spawn(w.file, w.args, { detached: true, stdio: 'ignore' });
    if (child.pid) onStart?.(child.pid);
    return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  it('records the exit status and exits with it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meso-wrapper-'));
    const file = join(dir, 'status');
    expect(await run('exit 3', file)).toEqual({ code: 3, signal: null });
    expect(parseExitFile(await readFile(file, 'utf8'))).toEqual({ code: 3, signal: null });
  });

  it('outlives a SIGTERM to its group to record how the task ended (the task handled it)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'meso-wrapper-'));
    const file = join(dir, 'status');
    const ready = join(dir, 'ready');
    let pid = 0;
    const ended = run(`trap 'exit 7' TERM; touch ${ready}; while :; do sleep 0.05; done`, file, (p) => (pid = p));
    const deadline = Date.now() + 20_000;
    while (!(await readFile(ready).then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error('the task did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The wrapper's group, then the task's own group (it runs under setsid).
    process.kill(-pid, 'SIGTERM');
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().trim().split(/\s+/).map(Number);
    for (const c of children) process.kill(-c, 'SIGTERM');
    expect(await ended).toEqual({ code: 7, signal: null });
    expect(parseExitFile(await readFile(file, 'utf8'))).toEqual({ code: 7, signal: null });
  });
});
