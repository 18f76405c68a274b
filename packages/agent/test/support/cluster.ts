import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import { removeAgentCgroups } from '../../src/isolation/isolation.js';
import { AgentProcess, killRunsUnder } from './agent-process.js';
import { TestMaster, type TestMasterOptions } from './test-master.js';
import { waitFor } from './wait.js';

/**
 * One test's master, work dir and agent processes (children, so a test can kill -9 them);
 * `cleanup()` stops them all, failed test or not, and unmounts whatever the agent left
 * mounted under the work dir before removing it.
 */
export class Cluster {
  master!: TestMaster;
  workDir = '';
  readonly agents: AgentProcess[] = [];

  async start(master: TestMasterOptions = {}, prefix = 'meso-recovery-'): Promise<this> {
    onTestFailed(() => {
      for (const [i, a] of this.agents.entries()) console.log(`--- agent process ${i} log ---\n${a.log.slice(-150).join('\n')}`);
    });
    this.master = await TestMaster.start(master);
    this.workDir = await mkdtemp(join(tmpdir(), prefix));
    return this;
  }

  /** Starts an agent process on the cluster's work dir (port 0: a restart reuses the previous port). */
  agent(extra: Record<string, unknown> = {}): AgentProcess {
    const a = AgentProcess.start({
      master: this.master.address,
      port: 0,
      workDir: this.workDir,
      resources: 'cpus:4;mem:4096',
      hostname: 'test-host',
      bootId: 'boot-1',
      executorReregisterTimeoutMs: 5_000,
      ...extra,
    });
    this.agents.push(a);
    return a;
  }

  async cleanup(): Promise<void> {
    for (const a of this.agents) await a.stop().catch(() => undefined);
    await this.master?.close().catch(() => undefined);
    if (this.workDir) {
      await waitFor(() => killRunsUnder(this.workDir) === 0, { what: 'every process of the test to be gone', timeoutMs: 5_000 }).catch(() => undefined);
      await removeAgentCgroups(this.workDir);
      for (const p of await mountsUnder(this.workDir)) execFileSync('umount', ['-l', p]);
      await rm(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Mount points at or below `dir` in /proc/self/mountinfo, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** The agent processes run the built package: fails with how to build it when dist is missing. */
export async function requireBuiltAgent(): Promise<void> {
  await readFile(new URL('../../dist/index.js', import.meta.url)).catch(() => {
    throw new Error('build first: npx tsc -b packages/agent/tsconfig.json');
  });
}
