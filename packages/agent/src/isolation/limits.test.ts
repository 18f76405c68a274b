import { describe, expect, it } from 'vitest';
import { EXECUTOR_OVERHEAD, containerLimits, executorOverhead, portAllowed } from './limits.js';

type Wire = Parameters<typeof containerLimits>[1];
const scalar = (name: string, value: number, role = '*'): Wire[number] => ({ name, type: 1, scalar: value, ranges: [], set: [], role, reservations: [], disk: undefined });
const ports = (begin: number, end: number): Wire[number] => ({ name: 'ports', type: 2, scalar: 0, ranges: [{ begin, end }], set: [], role: '*', reservations: [], disk: undefined });
const MB = 1024 * 1024;

describe('container limits', () => {
  it('sum the executor and every live task, plus the executor overhead', () => {
    const l = containerLimits('/w', [scalar('cpus', 0.1), scalar('mem', 32)], [[scalar('cpus', 0.5), scalar('mem', 64), ports(31000, 31001)], [scalar('disk', 10), ports(31005, 31005)]], EXECUTOR_OVERHEAD);
    expect(l).toEqual({
      cpus: 0.6,
      memBytes: (32 + 64 + EXECUTOR_OVERHEAD.memMb) * MB,
      diskBytes: 10 * MB,
      ports: [
        { begin: 31000, end: 31001 },
        { begin: 31005, end: 31005 },
      ],
      volumes: [],
    });
  });

  it('count a persistent volume by its own size, not as sandbox disk', () => {
    const volume = { ...scalar('disk', 100, 'db'), disk: { persistence: { id: 'v1', principal: '' }, volume: { containerPath: 'data', mode: 0 } } };
    const l = containerLimits('/w', [], [[scalar('disk', 5), volume]], { cpus: 0, memMb: 0 });
    expect(l.diskBytes).toBe(5 * MB);
    expect(l.volumes).toEqual([{ path: '/w/volumes/roles/db/v1', containerPath: 'data', bytes: 100 * MB }]);
  });

  it("add the executor process's own memory for custom executors that declare none, and nothing for a command task (no executor process)", () => {
    expect(executorOverhead('command', [])).toEqual({ cpus: 0, memMb: 0 });
    expect(executorOverhead('custom', [])).toEqual(EXECUTOR_OVERHEAD);
    expect(executorOverhead('custom', [scalar('cpus', 0.1)])).toEqual(EXECUTOR_OVERHEAD);
    expect(executorOverhead('custom', [scalar('cpus', 0.1), scalar('mem', 32)])).toEqual({ cpus: 0, memMb: 0 });
  });

  it('tell a port within the given ranges', () => {
    expect(portAllowed(31001, [{ begin: 31000, end: 31001 }])).toBe(true);
    expect(portAllowed(31002, [{ begin: 31000, end: 31001 }])).toBe(false);
    expect(portAllowed(80, [])).toBe(false);
  });
});
