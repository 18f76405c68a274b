import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@meso/proto';
import { onTestFailed } from 'vitest';
import { startAgent, type AgentHandle, type AgentOptions } from '../../src/index.js';
import { removeAgentCgroups } from '../../src/isolation/isolation.js';
import { TestMaster, type TestMasterOptions } from './test-master.js';
import { groupAlive } from './wait.js';

/**
 * Everything one test starts — a test master, an agent, temp dirs, pids of task groups —
 * stopped and removed by `cleanup()` in afterEach, failed test or not.
 */
export class Harness {
  master!: TestMaster;
  agent!: AgentHandle;
  workDir = '';
  readonly logs: string[] = [];
  private readonly groups = new Set<number>();
  private readonly dirs: string[] = [];

  async start(options: { master?: TestMasterOptions; agent?: Partial<AgentOptions> } = {}): Promise<this> {
    onTestFailed(() => {
      console.log(`--- agent log ---\n${this.logs.slice(-200).join('\n')}`);
    });
    this.master = await TestMaster.start(options.master);
    this.workDir = await this.tempDir('meso-agent-');
    this.agentOptions = options.agent ?? {};
    await this.startAgent();
    return this;
  }

  private agentOptions: Partial<AgentOptions> = {};

  /** Starts an agent on the harness's master and work dir (again, after a close, to test restarts). */
  async startAgent(): Promise<AgentHandle> {
    this.agent = await startAgent({
      master: this.master.address,
      port: 0,
      workDir: this.workDir,
      resources: 'cpus:4;mem:4096',
      hostname: 'test-host',
      logger: createLogger('agent', { level: 'debug', write: (l) => void this.logs.push(l) }),
      ...this.agentOptions,
    });
    return this.agent;
  }

  async tempDir(prefix: string): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  /** Remembers a process group to kill at cleanup (in case the agent under test leaked it). */
  track(pgid: number): number {
    this.groups.add(pgid);
    return pgid;
  }

  /** Reads a pid a task wrote into its sandbox. */
  async pidFile(sandbox: string, name = 'pid'): Promise<number | undefined> {
    try {
      const text = (await readFile(join(sandbox, name), 'utf8')).trim();
      return text === '' ? undefined : this.track(Number(text));
    } catch {
      return undefined;
    }
  }

  async cleanup(): Promise<void> {
    await this.agent?.close().catch(() => undefined);
    await this.master?.close().catch(() => undefined);
    for (const g of this.groups) {
      if (groupAlive(g)) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    // An agent closed without shutting its executors down leaves its containers' cgroups.
    if (this.workDir) await removeAgentCgroups(this.workDir);
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}
