import { describe, expect, it } from 'vitest';
import { buildExecutorEnv } from './executor-env.js';
import { buildTaskEnv, MAX_PORT_VARIABLES, portVariables } from './task-env.js';

describe('portVariables', () => {
  it('numbers every port of the ranges in order, and lists them in PORTS', () => {
    expect(portVariables([{ begin: 31000, end: 31002 }, { begin: 40000, end: 40000 }])).toEqual({
      PORT0: '31000',
      PORT1: '31001',
      PORT2: '31002',
      PORT3: '40000',
      PORTS: '31000,31001,31002,40000',
    });
  });

  it('is empty without ports and bounded for huge ranges', () => {
    expect(portVariables([])).toEqual({});
    const env = portVariables([{ begin: 1, end: 65535 }]);
    expect(Object.keys(env).filter((k) => k.startsWith('PORT') && k !== 'PORTS')).toHaveLength(MAX_PORT_VARIABLES);
  });
});

describe('buildTaskEnv', () => {
  const input = {
    taskId: 't1',
    frameworkId: 'fw',
    executorId: 't1',
    sandbox: '/sb',
    agentEndpoint: '127.0.0.1:5051',
    hostname: 'node-7',
    ports: [{ begin: 8080, end: 8081 }],
    commandEnv: { APP: 'x', HOST: 'override' },
    base: { PATH: '/bin', MESO_EXECUTOR_TOKEN: 'secret', MESO_CHECKPOINT: '1', MESO_SANDBOX: '/old' },
  };

  it('gives the Meso variables, HOST and ports; the task variables win', () => {
    expect(buildTaskEnv(input)).toEqual({
      PATH: '/bin',
      MESO_TASK_ID: 't1',
      MESO_FRAMEWORK_ID: 'fw',
      MESO_EXECUTOR_ID: 't1',
      MESO_SANDBOX: '/sb',
      MESO_AGENT_ENDPOINT: '127.0.0.1:5051',
      HOST: 'override',
      PORT0: '8080',
      PORT1: '8081',
      PORTS: '8080,8081',
      APP: 'x',
    });
  });

  it('never hands the executor token to a task', () => {
    expect(buildTaskEnv({ ...input, commandEnv: {} })).not.toHaveProperty('MESO_EXECUTOR_TOKEN');
  });
});

describe('buildExecutorEnv', () => {
  it('sets what the executor SDK reads and drops stale MESO_ variables of the agent', () => {
    const env = buildExecutorEnv({
      agentEndpoint: '127.0.0.1:5051',
      frameworkId: 'fw',
      executorId: 'ex',
      sandbox: '/sb',
      token: 'tok',
      runId: 'run-1',
      checkpoint: true,
      shutdownGracePeriodSeconds: 5,
      recoveryTimeoutSeconds: 900,
      commandEnv: { EXTRA: '1' },
      base: { PATH: '/bin', MESO_MASTER: 'x', MESO_LOG_LEVEL: 'debug' },
    });
    expect(env).toEqual({
      PATH: '/bin',
      MESO_LOG_LEVEL: 'debug',
      MESO_AGENT_ENDPOINT: '127.0.0.1:5051',
      MESO_FRAMEWORK_ID: 'fw',
      MESO_EXECUTOR_ID: 'ex',
      MESO_SANDBOX: '/sb',
      MESO_EXECUTOR_TOKEN: 'tok',
      MESO_CHECKPOINT: '1',
      MESO_SHUTDOWN_GRACE_PERIOD: '5',
      MESO_RECOVERY_TIMEOUT: '900',
      MESO_EXECUTOR_RUN_ID: 'run-1',
      EXTRA: '1',
    });
  });
});
