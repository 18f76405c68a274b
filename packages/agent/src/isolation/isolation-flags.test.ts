import { describe, expect, it } from 'vitest';
import { chooseIsolators, IsolationFlagError, type IsolationFacts } from './isolation-flags.js';

const V1: IsolationFacts = { cgroups: { version: 1, dirs: { cpu: '/c', cpuacct: '/a', memory: '/m' } }, pidNamespaces: { ok: true } };
const NONE: IsolationFacts = { cgroups: { version: 0, reason: 'cgroup v1 /sys/fs/cgroup/cpu is not writable by the agent' }, pidNamespaces: { ok: false, reason: 'the agent does not run as root' } };

describe('choosing the isolators', () => {
  it('defaults to cgroups where usable, plus disk and ports, and says why the pid namespace is off', () => {
    expect(chooseIsolators(undefined, V1)).toEqual({
      active: ['cgroups/cpu', 'cgroups/mem', 'disk/du', 'network/ports'],
      notes: ['namespaces/pid is not enabled (add it to --isolation)'],
      warnings: [],
    });
  });

  it('falls back to posix with a loud warning naming why cgroups are not used', () => {
    const c = chooseIsolators('', NONE);
    expect(c.active).toEqual(['posix/cpu', 'posix/mem', 'disk/du', 'network/ports']);
    expect(c.warnings).toEqual([
      'cgroups are not used (cgroup v1 /sys/fs/cgroup/cpu is not writable by the agent): falling back to the posix isolators — memory is enforced by polling, cpu is not limited',
    ]);
    expect(c.notes).toEqual(['namespaces/pid is not available (the agent does not run as root)']);
  });

  it('takes shorthands and names, in a fixed order, each once', () => {
    expect(chooseIsolators('namespaces/pid, cgroups,disk,cgroups/mem', V1).active).toEqual(['cgroups/cpu', 'cgroups/mem', 'disk/du', 'namespaces/pid']);
    expect(chooseIsolators('posix/mem', V1).active).toEqual(['posix/mem']);
  });

  it.each([
    ['cgroups/gpu', V1, "unknown isolator 'cgroups/gpu'"],
    ['cgroups/mem,posix/mem', V1, 'cgroups/mem and posix/mem exclude each other'],
    ['cgroups', NONE, 'cgroups cannot be used here: cgroup v1 /sys/fs/cgroup/cpu is not writable by the agent (use posix instead)'],
    ['posix,namespaces/pid', NONE, 'namespaces/pid cannot be used here: the agent does not run as root'],
  ] as const)('refuses %s', (flag, facts, message) => {
    expect(() => chooseIsolators(flag, facts)).toThrow(IsolationFlagError);
    expect(() => chooseIsolators(flag, facts)).toThrow(message);
  });
});
