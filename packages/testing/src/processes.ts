import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killStrays } from './faults.js';

/** The built `meso` binary of this workspace (tests run after `npm run build`). */
export const MESO_BIN = fileURLToPath(new URL('../../cli/dist/bin/meso.js', import.meta.url));

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A child process whose output is collected, stopped by `Cleanup`. */
export class Proc {
  stdout = '';
  stderr = '';
  exitCode: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess, readonly label: string) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      });
    });
  }

  /** Waits for a stdout line matching `pattern` and returns the match. */
  async line(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitFor(`${this.label} to print ${pattern}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr.slice(-3000)}`, () => {
      if (this.exitCode !== undefined && !pattern.test(this.stdout)) {
        throw new Error(`${this.label} exited ${this.exitCode}: ${this.stderr.slice(-2000)}`);
      }
      return this.stdout.match(pattern) ?? undefined;
    }, timeoutMs);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** kill -9: the process dies at once, without cleaning up (its detached children live on). */
  async kill9(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process freezes (a partition, as far as its peers can tell). */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** SIGCONT: a paused process goes on. */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. A paused process is resumed first. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Tracks what a test started (processes, directories, closables) and removes it all. */
export class Cleanup {
  private readonly procs: Proc[] = [];
  private readonly dirs: string[] = [];
  private readonly closers: Array<() => Promise<unknown>> = [];

  async tempDir(prefix = 'meso-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** Runs `meso ARGS...` as a child process. */
  meso(args: string[], env: Record<string, string> = {}): Proc {
    return this.node(MESO_BIN, args, env, `meso ${args[0] ?? ''}`);
  }

  /** Runs `meso ARGS...` to its end: its exit code and what it printed. */
  async mesoRun(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const proc = this.meso(args, env);
    const code = await proc.exited;
    return { code, stdout: proc.stdout, stderr: proc.stderr };
  }

  /** Runs a Node program (e.g. a framework's bin) as a child process. */
  node(script: string, args: string[], env: Record<string, string> = {}, label = script): Proc {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, MESO_LOG_LEVEL: process.env['MESO_LOG_LEVEL'] ?? 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new Proc(child, label);
    this.procs.push(proc);
    return proc;
  }

  onCleanup(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  async run(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    // In reverse start order: agents (which stop their executors and tasks) before masters.
    for (const proc of this.procs.splice(0).reverse()) await proc.stop();
    // Executors and tasks orphaned by a kill -9 of their agent carry their sandbox (under
    // one of our temp dirs) in their environment: nothing outlives the test.
    await killStrays(this.dirs);
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}
