import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { ensureTestImage } from '../../../tools/test-image/build.mjs';
import { removeContainers, saveLogs } from '../src/control.js';
import { engine } from '../src/engine.js';
import { startTopology, type Topology } from '../src/topology.js';

declare module 'vitest' {
  export interface ProvidedContext {
    topology: Topology;
  }
}

const LOG_DIR = fileURLToPath(new URL('../../../tmp/integration-tests', import.meta.url));

/**
 * Once for all container suites: the image (rebuilt only when the workspace changed), then the
 * cluster (a master, three agents, the reference frameworks). Teardown saves every container's
 * output under tmp/integration-tests/ and removes the containers, on failure too.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await engine(); // fails loudly, saying how to provide an engine
  const removed = await removeContainers(undefined); // left by a run that was killed
  if (removed > 0) console.log(`integration-tests: removed ${removed} container(s) of an earlier run`);
  const started = Date.now();
  // MESO_TEST_IMAGE: an image built elsewhere (e.g. from the Containerfile), used as is.
  const given = process.env['MESO_TEST_IMAGE'];
  const image = given ? { image: given, built: false, ms: 0 } : await ensureTestImage();
  const session = randomUUID();
  const teardown = async (): Promise<void> => {
    await saveLogs(session, join(LOG_DIR, 'logs')).catch((e: unknown) => console.error(`integration-tests: saving logs: ${(e as Error).message}`));
    await removeContainers(session);
  };
  try {
    const topology = await startTopology(image.image, session);
    console.log(`integration-tests: image ${image.built ? 'built' : 'current'} in ${(image.ms / 1000).toFixed(1)} s; cluster up in ${((Date.now() - started - image.ms) / 1000).toFixed(1)} s (master ${topology.master.address})`);
    project.provide('topology', topology);
    // Ctrl-C or a CI timeout: the containers go too (vitest exits without calling teardown then).
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void teardown().finally(() => process.exit(130)));
    }
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
