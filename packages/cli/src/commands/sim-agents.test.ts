import { describe, expect, it } from 'vitest';
import { parseFlags } from '../flags.js';
import { SIM_AGENTS_FLAGS, simAgentsOptionsFromFlags } from './sim-agents.js';

const options = (argv: string[]) => simAgentsOptionsFromFlags(parseFlags(argv, SIM_AGENTS_FLAGS).values);

describe('meso sim-agents flags', () => {
  it('turns flags into options, with defaults', () => {
    expect(options(['--count', '10000', '--master', '127.0.0.1:5050', '--task_seconds', '2.5', '--cpus', '4', '--mem', '8192'])).toEqual({
      master: '127.0.0.1:5050',
      count: 10000,
      resources: 'cpus:4;mem:8192',
      agentsPerChannel: 250,
      taskSeconds: 2.5,
    });
    expect(options([]).taskSeconds).toBeUndefined();
  });

  it.each([
    [['--count', '0'], /--count/],
    [['--count', 'many'], /--count/],
    [['--master', 'nowhere'], /--master/],
    [['--task_seconds', '-1'], /--task_seconds/],
    [['--cpus', '0'], /--cpus/],
    [['--mem', 'x'], /--mem/],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => options(argv)).toThrow(message);
  });
});
