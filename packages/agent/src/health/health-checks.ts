// The checks that do I/O, one per HealthCheck type. Each resolves (never rejects) with a
// CheckResult and stops its I/O when its AbortSignal aborts: the HealthChecker aborts a
// check at the policy's timeout. Every check targets the task on this host (127.0.0.1).
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { CommandInfo } from '@meso/sdk-executor';
import type { CheckRun } from './health-checker.js';
import type { CheckResult } from './health-state.js';

const HOST = '127.0.0.1';
/** Output of a command check kept for its message. */
const MAX_OUTPUT_BYTES = 4096;

const aborted = (): CheckResult => ({ healthy: false, message: 'aborted' });

/** HTTP GET http://127.0.0.1:<port><path>: healthy on a status from 200 to 399 (redirects are not followed). */
export function httpCheck(port: number, path: string): CheckRun {
  const target = path.startsWith('/') ? path : `/${path}`;
  return (signal) =>
    new Promise<CheckResult>((resolve) => {
      if (signal.aborted) return resolve(aborted());
      const req = request({ host: HOST, port, path: target, method: 'GET', signal, agent: false, headers: { 'user-agent': 'meso-health-check' } }, (res) => {
        const code = res.statusCode ?? 0;
        res.resume();
        resolve({ healthy: code >= 200 && code < 400, message: `HTTP ${code} from GET ${target} on port ${port}` });
        res.on('error', () => undefined);
        req.destroy();
      });
      req.on('error', (e) => resolve({ healthy: false, message: `GET ${target} on port ${port}: ${e.message}` }));
      req.end();
    });
}

/** TCP connect to 127.0.0.1:<port>: healthy once the connection is established. */
export function tcpCheck(port: number): CheckRun {
  return (signal) =>
    new Promise<CheckResult>((resolve) => {
      if (signal.aborted) return resolve(aborted());
      const socket = connect({ host: HOST, port });
      const done = (result: CheckResult): void => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(result);
      };
      const onAbort = (): void => done(aborted());
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done({ healthy: true, message: `connected to port ${port}` }));
      socket.once('error', (e) => done({ healthy: false, message: `connect to port ${port}: ${e.message}` }));
    });
}

/** Where and as whom a command check runs: the task's sandbox, environment and user. */
export interface CommandCheckSpec {
  command: CommandInfo;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
}

/**
 * Runs the command (`/bin/sh -c value`, or `value` with `arguments` as argv when `shell` is
 * false) in its own process group: healthy when it exits 0. On abort, and after it exits,
 * the whole group is SIGKILLed, so nothing it started outlives the check.
 */
export function commandCheck(spec: CommandCheckSpec): CheckRun {
  return (signal) =>
    new Promise<CheckResult>((resolve) => {
      if (signal.aborted) return resolve(aborted());
      const c = spec.command;
      const argv = c.arguments.length > 0 ? c.arguments : [c.value];
      const [file, args, argv0] = c.shell ? ['/bin/sh', ['-c', c.value], undefined] : [c.value, argv.slice(1), argv[0]];
      const child = spawn(file, args, {
        cwd: spec.cwd,
        env: { ...spec.env, ...c.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(argv0 !== undefined ? { argv0 } : {}),
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      });
      let output = '';
      const collect = (chunk: Buffer): void => {
        if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString('utf8').slice(0, MAX_OUTPUT_BYTES - output.length);
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      const killGroup = (): void => {
        if (!child.pid) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is gone
        }
      };
      let settled = false;
      const done = (result: CheckResult): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        killGroup();
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(result);
      };
      const onAbort = (): void => done(aborted());
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', (e) => done({ healthy: false, message: `cannot run the health check command: ${e.message}` }));
      let exit: { code: number | null; sig: NodeJS.Signals | null } | undefined;
      const finish = (): void => {
        if (!exit) return;
        const last = output.trim().split('\n').at(-1)?.slice(0, 200) ?? '';
        const how = exit.sig ? `terminated by ${exit.sig}` : `exited with status ${exit.code ?? -1}`;
        done({ healthy: exit.code === 0, message: `command ${how}${last ? `: ${last}` : ''}` });
      };
      child.once('exit', (code, sig) => {
        exit = { code, sig };
        // What it left running goes now; that also closes the pipes, so its output is complete.
        killGroup();
        setTimeout(finish, 1_000).unref();
      });
      child.once('close', finish);
    });
}
