import { describe, expect, it } from 'vitest';
import { MasterError } from './errors.js';
import { MASTER_DEFAULTS, resolveMasterOptions, type MasterOptions } from './options.js';

describe('resolveMasterOptions', () => {
  it('fills the defaults', () => {
    const o = resolveMasterOptions({ workDir: '/tmp/x' });
    expect(o).toMatchObject({ ...MASTER_DEFAULTS, workDir: '/tmp/x' });
    expect(o.offerTimeoutMs).toBeUndefined();
    expect(o).toMatchObject({ agentReregisterTimeoutMs: 600_000, agentRemovalTimeoutMs: 600_000, faultInjection: [] });
  });

  it.each([
    [{}, 'workDir'],
    [{ workDir: '/w', port: 70000 }, 'port'],
    [{ workDir: '/w', port: 1.5 }, 'port'],
    [{ workDir: '/w', host: '' }, 'host'],
    [{ workDir: '/w', allocationIntervalMs: 0 }, 'allocationIntervalMs'],
    [{ workDir: '/w', offerTimeoutMs: -1 }, 'offerTimeoutMs'],
    [{ workDir: '/w', heartbeatIntervalSeconds: Number.NaN }, 'heartbeatIntervalSeconds'],
    [{ workDir: '/w', agentPingIntervalSeconds: 0 }, 'agentPingIntervalSeconds'],
    [{ workDir: '/w', maxMissedPings: 0 }, 'maxMissedPings'],
    [{ workDir: '/w', agentReregisterTimeoutMs: 0 }, 'agentReregisterTimeoutMs'],
    [{ workDir: '/w', agentRemovalTimeoutMs: -5 }, 'agentRemovalTimeoutMs'],
    [{ workDir: '/w', faultInjection: [{ drop: 'ack', ms: 'x' }] }, 'faultInjection[0].ms'],
  ])('refuses %j naming %s', (options, field) => {
    try {
      resolveMasterOptions(options as MasterOptions);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MasterError);
      expect(e).toMatchObject({ code: 'INVALID_OPTIONS', field });
      expect((e as Error).message.startsWith(`${field}: `)).toBe(true);
    }
  });
});
