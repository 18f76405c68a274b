import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive } from './support/wait.js';
import { commandCheck, httpCheck, tcpCheck } from '../src/health/health-checks.js';

const servers: Array<HttpServer | TcpServer> = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function listen<S extends HttpServer | TcpServer>(server: S): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  servers.splice(servers.indexOf(s), 1);
  return port;
}

const signal = (ms = 5_000): AbortSignal => AbortSignal.timeout(ms);


describe('HTTP check', () => {
  it('is healthy on 200-399 (a redirect is not followed) and unhealthy otherwise, naming the status', async () => {
    const port = await listen(
      createHttpServer((req, res) => {
        const code = Number(req.url?.slice(1)) || 200;
        res.writeHead(code, code === 302 ? { location: '/500' } : {});
        res.end('x');
      }),
    );
    expect(await httpCheck(port, '/200')(signal())).toEqual({ healthy: true, message: `HTTP 200 from GET /200 on port ${port}` });
    expect((await httpCheck(port, '/302')(signal())).healthy).toBe(true);
    expect((await httpCheck(port, '399')(signal())).healthy).toBe(true);
    expect(await httpCheck(port, '/503')(signal())).toEqual({ healthy: false, message: `HTTP 503 from GET /503 on port ${port}` });
    expect((await httpCheck(port, '/404')(signal())).healthy).toBe(false);
  });

  it('is unhealthy when nothing listens, and when aborted while the server hangs', async () => {
    const refused = await httpCheck(await closedPort(), '/')(signal());
    expect(refused.healthy).toBe(false);
    expect(refused.message).toMatch(/ECONNREFUSED/);
    const port = await listen(createHttpServer(() => undefined));
    const hung = await httpCheck(port, '/')(signal(100));
    expect(hung.healthy).toBe(false);
  });
});

describe('TCP check', () => {
  it('is healthy when the port accepts a connection, unhealthy when it refuses', async () => {
    const port = await listen(createTcpServer((s) => s.end()));
    expect(await tcpCheck(port)(signal())).toEqual({ healthy: true, message: `connected to port ${port}` });
    expect((await tcpCheck(await closedPort())(signal())).healthy).toBe(false);
  });
});

describe('COMMAND check', () => {
  const sandbox = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'meso-health-'));
    dirs.push(d);
    return d;
  };
  const sh = (value: string) => ({ shell: true, value, arguments: [], env: { EXTRA: 'from-check' }, user: '' });

  it('runs /bin/sh -c in the sandbox with the task environment and the check own env: exit 0 is healthy', async () => {
    const cwd = await sandbox();
    const ok = await commandCheck({ command: sh('echo "$TASK_VAR $EXTRA $(pwd)" > seen'), cwd, env: { TASK_VAR: 'from-task', PATH: process.env['PATH'] ?? '' } })(signal());
    expect(ok).toEqual({ healthy: true, message: 'command exited with status 0' });
    expect(await readFile(join(cwd, 'seen'), 'utf8')).toBe(`from-task from-check ${cwd}\n`);
  });

  it('is unhealthy on a non-zero exit, with the last line of its output', async () => {
    const cwd = await sandbox();
    const bad = await commandCheck({ command: sh('echo starting; echo "not ready" >&2; exit 3'), cwd, env: {} })(signal());
    expect(bad).toEqual({ healthy: false, message: 'command exited with status 3: not ready' });
  });

  it('runs a program with argv when shell is false', async () => {
    const cwd = await sandbox();
    const r = await commandCheck({ command: { shell: false, value: '/bin/sh', arguments: ['sh', '-c', 'exit 0'], env: {}, user: '' }, cwd, env: {} })(signal());
    expect(r.healthy).toBe(true);
    const missing = await commandCheck({ command: { shell: false, value: '/no/such/program', arguments: [], env: {}, user: '' }, cwd, env: {} })(signal());
    expect(missing.healthy).toBe(false);
  });

  it('kills its whole process group when aborted (a hung check leaves nothing behind)', async () => {
    const cwd = await sandbox();
    const started = Date.now();
    const r = await commandCheck({ command: sh('sleep 60 & echo $$ > pgid; wait'), cwd, env: { PATH: process.env['PATH'] ?? '' } })(signal(300));
    expect(r.healthy).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    const pgid = Number((await readFile(join(cwd, 'pgid'), 'utf8')).trim());
    await expect.poll(() => groupAlive(pgid), { timeout: 5_000 }).toBe(false);
  });

  it('kills what the command left in its group once it exits', async () => {
    const cwd = await sandbox();
    const r = await commandCheck({ command: sh('sleep 60 >/dev/null 2>&1 & echo $$ > pgid; exit 0'), cwd, env: { PATH: process.env['PATH'] ?? '' } })(signal());
    expect(r.healthy).toBe(true);
    const pgid = Number((await readFile(join(cwd, 'pgid'), 'utf8')).trim());
    await expect.poll(() => groupAlive(pgid), { timeout: 5_000 }).toBe(false);
  });
});
