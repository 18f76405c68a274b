import { parseArgs } from 'node:util';

/** What `npm run chaos -- ...` accepts. */
export interface ChaosOptions {
  /** How long faults keep coming. */
  minutes: number;
  /** Mean faults per minute (exponential gaps). */
  faultsPerMinute: number;
  agents: number;
  frameworks: number;
  /** After the faults stop: how long the cluster gets to converge before the checks fail. */
  quietSeconds: number;
  /** Random seed (faults, task mix), printed so a run can be repeated. */
  seed: number;
}

export const USAGE = `Usage: npm run chaos -- [--minutes M] [--faults-per-minute F] [--agents N] [--frameworks N] [--quiet-seconds S] [--seed N]

A master and N agents as child processes, frameworks launching short and long tasks, random
faults (master/agent kill -9 + restart, agent SIGSTOP/SIGCONT, executor kill -9, framework
failover) for M minutes; then a quiet period and the invariant checks. Last line:
  chaos: minutes=M tasks=N faults=F violations=V
(exit 1 when V > 0).`;

function num(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}, got '${text}'`);
  return n;
}

export function parseOptions(argv: string[]): ChaosOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      'faults-per-minute': { type: 'string' },
      agents: { type: 'string' },
      frameworks: { type: 'string' },
      'quiet-seconds': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
    minutes: num('minutes', values.minutes, 1, 0.05),
    faultsPerMinute: num('faults-per-minute', values['faults-per-minute'], 8, 0),
    agents: Math.floor(num('agents', values.agents, 3, 1)),
    frameworks: Math.floor(num('frameworks', values.frameworks, 3, 1)),
    quietSeconds: num('quiet-seconds', values['quiet-seconds'], 60, 5),
    seed: Math.floor(num('seed', values.seed, Date.now() % 1_000_000, 0)),
      };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same fault plan. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
