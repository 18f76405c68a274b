import { describe, expect, it } from 'vitest';
import { EXECUTOR_DEFAULTS, resolveExecutorOptions } from './options.js';

const handlers = { launch: (): void => undefined, kill: (): void => undefined };
const env = { MESO_AGENT_ENDPOINT: '127.0.0.1:5051', MESO_FRAMEWORK_ID: 'fw', MESO_EXECUTOR_ID: 'ex' };

describe('resolveExecutorOptions', () => {
  it('reads the environment the agent sets', () => {
    const o = resolveExecutorOptions({
      handlers,
      env: { ...env, MESO_SANDBOX: '/sb', MESO_EXECUTOR_TOKEN: 'tok', MESO_CHECKPOINT: '1', MESO_SHUTDOWN_GRACE_PERIOD: '3', MESO_RECOVERY_TIMEOUT: '60' },
    });
    expect(o).toMatchObject({ agentEndpoint: '127.0.0.1:5051', frameworkId: 'fw', executorId: 'ex', sandbox: '/sb', token: 'tok', checkpoint: true, shutdownGracePeriodMs: 3_000, recoveryTimeoutMs: 60_000 });
  });

  it('fills the documented defaults', () => {
    const o = resolveExecutorOptions({ handlers, env });
    expect(o.checkpoint).toBe(false);
    expect(o.recoveryTimeoutMs).toBe(EXECUTOR_DEFAULTS.recoveryTimeoutMs);
    expect(o.shutdownGracePeriodMs).toBe(5_000);
  });

  it('prefers explicit options over the environment', () => {
    expect(resolveExecutorOptions({ handlers, env, executorId: 'mine', checkpoint: true }).executorId).toBe('mine');
  });

  it.each([
    [{ handlers, env: { ...env, MESO_AGENT_ENDPOINT: undefined } }, /^agentEndpoint: is required .*MESO_AGENT_ENDPOINT/],
    [{ handlers, env: { ...env, MESO_AGENT_ENDPOINT: 'nohost' } }, /^agentEndpoint: 'nohost' is not host:port/],
    [{ handlers, env: { ...env, MESO_FRAMEWORK_ID: '' } }, /^frameworkId: is required/],
    [{ handlers, env: { ...env, MESO_CHECKPOINT: 'yes' } }, /^checkpoint: MESO_CHECKPOINT='yes' is not 1 or 0/],
    [{ handlers, env: { ...env, MESO_RECOVERY_TIMEOUT: 'soon' } }, /^recoveryTimeoutMs: MESO_RECOVERY_TIMEOUT='soon'/],
    [{ handlers, env, heartbeatTimeoutMs: 0 }, /^heartbeatTimeoutMs: must be a number >= 1/],
    [{ handlers: { kill: (): void => undefined }, env }, /^handlers.launch: is required/],
  ])('refuses %#, naming the field', (options, message) => {
    expect(() => resolveExecutorOptions(options as never)).toThrow(message);
    try {
      resolveExecutorOptions(options as never);
    } catch (e) {
      expect(e).toMatchObject({ name: 'ExecutorError', code: 'INVALID_OPTIONS' });
    }
  });
});
