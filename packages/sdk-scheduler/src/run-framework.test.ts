import { describe, expect, it } from 'vitest';
import { runFrameworkMain, type FrameworkMainIo } from './run-framework.js';

interface Run {
  code: number;
  out: string[];
  err: string[];
  exits: number[];
  started: Array<Record<string, unknown>>;
  closed: number;
}

const OPTIONS = { master: { type: 'string' }, http_port: { type: 'string', default: '7000' }, verbose: { type: 'boolean', default: false } } as const;

async function run(argv: string[], extra: { requireMaster?: boolean; closeFails?: boolean; closeHangs?: boolean; closeTimeoutMs?: number } = {}): Promise<Run> {
  const r: Run = { code: -1, out: [], err: [], exits: [], started: [], closed: 0 };
  let stopped = false;
  const io: FrameworkMainIo = {
    argv,
    stdout: (l) => r.out.push(l),
    stderr: (l) => r.err.push(l),
    waitForStop: async () => {
      stopped = true;
    },
    exit: (c) => r.exits.push(c),
  };
  r.code = await runFrameworkMain(
    {
      name: 'meso-test',
      usage: 'Usage: meso-test --master HOST:PORT',
      options: OPTIONS,
      ...(extra.requireMaster !== undefined ? { requireMaster: extra.requireMaster } : {}),
      ...(extra.closeTimeoutMs !== undefined ? { closeTimeoutMs: extra.closeTimeoutMs } : {}),
      start: async (values, flags) => {
        r.started.push({ master: values.master, port: flags.number('http_port', values.http_port), verbose: values.verbose });
        return {
          address: `127.0.0.1:${values.http_port}`,
          close: async () => {
            expect(stopped).toBe(true);
            r.closed++;
            if (extra.closeFails) throw new Error('store is gone');
            if (extra.closeHangs) await new Promise(() => undefined);
          },
        };
      },
    },
    io,
  );
  return r;
}

describe('runFrameworkMain', () => {
  it('starts with the parsed flags, prints the listening line, waits for the stop, closes and exits 0', async () => {
    const r = await run(['--master', 'm:5050', '--http_port', '0', '--verbose']);
    expect(r.started).toEqual([{ master: 'm:5050', port: 0, verbose: true }]);
    expect(r.out).toEqual(['meso-test listening on 127.0.0.1:0']);
    expect(r.closed).toBe(1);
    expect([r.code, r.exits]).toEqual([0, [0]]);
    expect(r.err).toEqual([]);
  });

  it('--help and -h print the usage and exit 0 without starting', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([flag]);
      expect(r.out).toEqual(['Usage: meso-test --master HOST:PORT']);
      expect([r.code, r.exits, r.started]).toEqual([0, [0], []]);
    }
  });

  it('without --master: exit 2 with the usage, nothing started; unless the program does not require it', async () => {
    const r = await run([]);
    expect(r.err).toEqual(['meso-test: --master is required\n\nUsage: meso-test --master HOST:PORT']);
    expect([r.code, r.exits, r.started]).toEqual([2, [2], []]);
    const optional = await run([], { requireMaster: false });
    expect(optional.code).toBe(0);
    expect(optional.started).toEqual([{ master: undefined, port: 7000, verbose: false }]);
  });

  it('a bad number names the flag and exits 1; an unknown flag exits 1 naming it', async () => {
    for (const value of ['x', '-1', 'Infinity']) {
      const r = await run(['--master', 'm:5050', `--http_port=${value}`]);
      expect(r.err).toEqual([`meso-test: --http_port: expected a non-negative number, got '${value}'`]);
      expect([r.code, r.exits, r.closed]).toEqual([1, [1], 0]);
    }
    const unknown = await run(['--master', 'm:5050', '--bogus']);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/^meso-test: .*--bogus/);
  });

  it('a failing close exits 1 with its message; a close past closeTimeoutMs exits 1', async () => {
    const failed = await run(['--master', 'm:5050'], { closeFails: true });
    expect(failed.err).toEqual(['meso-test: store is gone']);
    expect(failed.exits).toEqual([1]);
    const hung = await run(['--master', 'm:5050'], { closeHangs: true, closeTimeoutMs: 20 });
    expect(hung.err).toEqual(['meso-test: close did not finish within 20 ms']);
    expect(hung.exits).toEqual([1]);
  });
});
