import { silentLogger } from '@meso/proto';
import { describe, expect, it, vi } from 'vitest';
import { AGENT_DEFAULTS, resolveAgentOptions, type AgentOptions } from './options.js';
import { agentAttributes, agentResources, defaultScalars } from './resources.js';

const base: AgentOptions = { master: '127.0.0.1:5050', workDir: '/var/lib/meso', logger: silentLogger };

describe('resolveAgentOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveAgentOptions(base);
    expect(o).toMatchObject({
      master: '127.0.0.1:5050',
      host: '127.0.0.1',
      port: 5051,
      defaultKillGracePeriodSeconds: 5,
      statusUpdateRetryMs: 10_000,
      executorRegistrationTimeoutMs: 60_000,
      executorReregisterTimeoutMs: 5_000,
    });
    expect(o).toMatchObject({ isolation: undefined, cgroupsEnableCfs: false, cgroupsRoot: 'meso', memoryWatchIntervalMs: 500, diskWatchIntervalMs: 15_000, portsWatchIntervalMs: 30_000, usageIntervalMs: 10_000 });
    expect(AGENT_DEFAULTS.port).toBe(5051);
    expect(o.hostname).not.toBe('');
  });

  it('takes the boot id from the option, else MESO_AGENT_BOOT_ID, else leaves it to /proc', () => {
    vi.stubEnv('MESO_AGENT_BOOT_ID', 'from-env');
    try {
      expect(resolveAgentOptions({ ...base, bootId: 'given' }).bootId).toBe('given');
      expect(resolveAgentOptions(base).bootId).toBe('from-env');
    } finally {
      vi.unstubAllEnvs();
    }
    if (process.env['MESO_AGENT_BOOT_ID'] === undefined) expect(resolveAgentOptions(base).bootId).toBeUndefined();
  });

  it('resolves a relative work dir and accepts port 0', () => {
    const o = resolveAgentOptions({ ...base, workDir: 'rel/dir', port: 0 });
    expect(o.workDir).toMatch(/^\/.*rel\/dir$/);
    expect(o.port).toBe(0);
  });

  it.each<[Partial<AgentOptions>, string, RegExp]>([
    [{ master: '' }, 'master', /^master: is required/],
    [{ master: 'localhost' }, 'master', /^master: 'localhost' is not host:port/],
    [{ master: 'localhost:99999' }, 'master', /^master: 'localhost:99999' is not host:port/],
    [{ workDir: '' }, 'workDir', /^workDir: is required/],
    [{ port: -1 }, 'port', /^port: must be an integer in 0..65535, got -1/],
    [{ port: 1.5 }, 'port', /^port: must be an integer/],
    [{ host: 'a b' }, 'host', /^host: 'a b' is not an address/],
    [{ defaultKillGracePeriodSeconds: -1 }, 'defaultKillGracePeriodSeconds', /must be a number >= 0/],
    [{ statusUpdateRetryMs: 0 }, 'statusUpdateRetryMs', /^statusUpdateRetryMs: must be >= 1/],
    [{ executorRegistrationTimeoutMs: Number.NaN }, 'executorRegistrationTimeoutMs', /must be a number >= 0, got NaN/],
    [{ executorReregisterTimeoutMs: -5 }, 'executorReregisterTimeoutMs', /must be a number >= 0, got -5/],
    [{ bootId: ' ' }, 'bootId', /^bootId: must not be empty/],
    [{ cgroupsRoot: '../escape' }, 'cgroupsRoot', /^cgroupsRoot: '..\/escape' is not a relative cgroup path/],
    [{ memoryWatchIntervalMs: 0 }, 'memoryWatchIntervalMs', /^memoryWatchIntervalMs: must be >= 1/],
    [{ cgroupsEnableCfs: 'yes' as unknown as boolean }, 'cgroupsEnableCfs', /^cgroupsEnableCfs: must be true or false/],
  ])('refuses %j naming %s', (patch, field, message) => {
    let error: unknown;
    try {
      resolveAgentOptions({ ...base, ...patch });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'AgentError', code: 'INVALID_OPTIONS', field });
    expect((error as Error).message).toMatch(message);
  });
});

describe('agent resources', () => {
  const machine = { cpus: 8, memMb: 16_384, diskMb: 100_000 };

  it('detects what is not given: cpus, mem less 1 GB, disk less 5 GB, ports 31000-32000', () => {
    expect(agentResources('', machine).toString()).toBe('cpus:8;disk:94880;mem:15360;ports:[31000-32000]');
    expect(defaultScalars({ cpus: 1, memMb: 1_024, diskMb: 4_000 })).toEqual({ cpus: 1, mem: 512, disk: 2_000 });
  });

  it('keeps what is given, including reservations', () => {
    const r = agentResources('cpus:4;mem:4096;cpus(prod):2;ports:[8000-8010]', machine);
    expect(r.scalar('cpus', '*')).toBe(4);
    expect(r.scalar('cpus', 'prod')).toBe(2);
    expect(r.scalar('mem')).toBe(4096);
    expect(r.ranges('ports')).toEqual([{ begin: 8000, end: 8010 }]);
    expect(r.scalar('disk')).toBe(94_880);
  });

  it('accepts Mesos JSON', () => {
    const r = agentResources('[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]', machine);
    expect(r.scalar('cpus')).toBe(2);
  });

  it.each([
    ['cpus:abc', /^--resources 'cpus:abc': 'abc' is not a number/],
    ['cpus:4;mem', /^--resources 'mem': 'mem' is not of the form name:value/],
    ['ports:[9-1]', /^--resources 'ports:\[9-1\]': range '9-1' ends before it begins/],
    ['cpus:-1', /^--resources 'cpus:-1'/],
  ])('refuses %s with an AgentError naming the fragment', (text, message) => {
    expect(() => agentResources(text, machine)).toThrow(message);
    try {
      agentResources(text, machine);
    } catch (e) {
      expect(e).toMatchObject({ name: 'AgentError', code: 'INVALID_RESOURCES', field: 'resources' });
    }
  });

  it('parses attributes and names a bad fragment', () => {
    expect(agentAttributes('rack:r1;zone:a;level:3')).toHaveLength(3);
    expect(() => agentAttributes('rack:r1;zone')).toThrow(/^--attributes 'zone': is not of the form name:value/);
  });
});
