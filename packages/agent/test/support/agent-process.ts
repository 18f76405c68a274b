import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const fixture = fileURLToPath(new URL('../fixtures/agent-process.mjs', import.meta.url));

/** An agent running as a child process (so a test can `kill -9` it), with its output kept. */
export class AgentProcess {
  readonly lines: string[] = [];
  readonly log: string[] = [];
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.lines.push(...d.split('\n').filter((l) => l !== '')));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.log.push(...d.split('\n').filter((l) => l !== '')));
    child.once('exit', () => (this.exited = true));
  }

  static start(options: Record<string, unknown>): AgentProcess {
    const env = { ...process.env, MESO_LOG_LEVEL: 'debug' };
    return new AgentProcess(spawn(process.execPath, [fixture, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'], env }));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The agent id of its (latest) registration. */
  async registered(what = 'the agent process to register', timeoutMs = 20_000): Promise<string> {
    const n = this.lines.length;
    void n;
    return waitFor(() => this.lines.filter((l) => l.startsWith('registered ')).at(-1)?.slice('registered '.length), { what, timeoutMs });
  }

  /** Waits for a log line containing `text`. */
  async logged(text: string, timeoutMs = 20_000): Promise<string> {
    return waitFor(() => this.log.find((l) => l.includes(text)), { what: `agent log '${text}'`, timeoutMs });
  }

  /** kill -9, and wait until it is gone. */
  async crash(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await waitFor(() => this.exited, { what: 'the agent process to die' });
  }

  async stop(): Promise<void> {
    await this.crash();
  }
}

/**
 * Kills every process of the executor runs under `workDir` (executors and tasks carry
 * MESO_EXECUTOR_RUN_ID and a MESO_SANDBOX inside the work dir), with their groups.
 */
export function killRunsUnder(workDir: string): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!env.includes('MESO_EXECUTOR_RUN_ID=') || !env.includes(`=${workDir}/`)) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
        killed++;
      } catch {
        // gone or not a group leader
      }
    }
  }
  return killed;
}
