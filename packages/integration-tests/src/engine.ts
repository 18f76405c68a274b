import { existsSync } from 'node:fs';
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';

/** Where a Docker-compatible engine is usually found: Docker's socket, then Podman's (root) API service. */
const KNOWN_SOCKETS = ['/var/run/docker.sock', '/run/podman/podman.sock'];

/**
 * Points testcontainers at the engine: DOCKER_HOST when set, else the first known socket that
 * exists. Ryuk (testcontainers' reaper, an image pulled from a registry) is off unless asked for:
 * this suite removes its containers itself, on failure too.
 */
export function configureEngine(env: NodeJS.ProcessEnv = process.env): string | undefined {
  env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  if (!env['DOCKER_HOST']) {
    const socket = KNOWN_SOCKETS.find((s) => existsSync(s));
    if (socket) env['DOCKER_HOST'] = `unix://${socket}`;
  }
  return env['DOCKER_HOST'];
}

/** The engine's client; throws a message saying how to provide an engine when none answers. */
export async function engine(): Promise<ContainerRuntimeClient> {
  const host = configureEngine();
  try {
    return await getContainerRuntimeClient();
  } catch (e) {
    throw new Error(
      `integration-tests: no container engine reachable (DOCKER_HOST=${host ?? 'unset'}): ${(e as Error).message}\n` +
        'Start Docker, or Podman\'s Docker API service (`podman system service --time=0 unix:///run/podman/podman.sock` ' +
        'and DOCKER_HOST=unix:///run/podman/podman.sock); see packages/integration-tests/README.md.',
    );
  }
}
