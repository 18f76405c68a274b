// A minimal client of the Docker Engine API (which Podman's `podman system service` also
// serves), over DOCKER_HOST (unix:///path or tcp://host:port) or /var/run/docker.sock.
import { request } from 'node:http';

/** Where the engine listens, from DOCKER_HOST (as the docker CLI and testcontainers read it). */
export function engineAddress(env = process.env) {
  const host = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), label: host };
  const m = /^tcp:\/\/([^:/]+):(\d+)/.exec(host);
  if (!m) throw new Error(`DOCKER_HOST=${host}: expected unix:///path or tcp://host:port`);
  return { host: m[1], port: Number(m[2]), label: host };
}

/**
 * One API call. `body` is a readable stream (sent as application/x-tar) or undefined.
 * Resolves { status, text, json }; rejects with a message naming the engine when it cannot be reached.
 */
export function engineCall(method, path, body) {
  const address = engineAddress();
  return new Promise((resolve, reject) => {
    const req = request(
      { ...address, method, path, headers: body ? { 'content-type': 'application/x-tar' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('error', (e) =>
      reject(new Error(`container engine at ${address.label} not reachable (${e.message}); start Docker, or Podman's API service (see packages/integration-tests/README.md)`)),
    );
    if (body) {
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    } else req.end();
  });
}
