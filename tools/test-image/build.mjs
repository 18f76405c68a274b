#!/usr/bin/env node
// Builds the image the container tests run (default tag meso:test) without any registry:
// a root filesystem assembled from this machine (rootfs.mjs) with the built workspace
// (workspace.mjs), imported into the engine at DOCKER_HOST (Docker, or Podman's API service).
// Rebuilds only when something that goes into it changed: the hash of the shipped files,
// node's version and these scripts is kept as the image's label `meso.hash`.
//
//   node tools/test-image/build.mjs        (after `npm run build`; prints what it did and how long it took)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineCall } from './engine.mjs';
import { assembleRootfs, TOOLS } from './rootfs.mjs';
import { describeWorkspace, stageWorkspace } from './workspace.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
export const DEFAULT_IMAGE = 'meso:test';
const LABEL = 'meso.hash';

function imageHash(described) {
  const h = createHash('sha256').update(described.all).update(process.version).update(TOOLS.join(','));
  for (const f of readdirSync(here).filter((n) => n.endsWith('.mjs')).sort()) h.update(readFileSync(join(here, f)));
  return h.digest('hex').slice(0, 32);
}

async function currentLabel(image) {
  const res = await engineCall('GET', `/images/${encodeURIComponent(image)}/json`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`inspecting ${image}: ${res.status} ${res.text}`);
  return { id: res.json.Id, hash: (res.json.Config?.Labels ?? res.json.Labels ?? {})[LABEL] };
}

/** `tar -C rootfs -c .` streamed into POST /images/create?fromSrc=-; returns the new image id. */
async function importRootfs(rootfs, hash) {
  const changes = [`LABEL ${LABEL}=${hash}`, 'ENV PATH=/usr/local/bin:/usr/bin:/bin', 'ENV HOME=/root', 'WORKDIR /app'];
  const query = ['fromSrc=-', ...changes.map((c) => `changes=${encodeURIComponent(c)}`)].join('&');
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const res = await engineCall('POST', `/images/create?${query}`, tar.stdout);
  const ids = [...res.text.matchAll(/sha256:[0-9a-f]{64}/g)].map((m) => m[0]);
  if (res.status !== 200 || ids.length === 0) throw new Error(`importing the root filesystem: ${res.status} ${res.text.slice(-500)}`);
  return ids[ids.length - 1];
}

/**
 * Makes sure `image` holds the current workspace; returns { image, built, ms }.
 * Needs `npm run build` first (it fails naming a package without dist/).
 */
export async function ensureTestImage({ image = DEFAULT_IMAGE, log = (m) => console.log(`test-image: ${m}`) } = {}) {
  const started = Date.now();
  for (const p of ['cli', 'agent', 'core-master', 'fw-marathon', 'fw-chronos', 'fw-batch']) {
    if (!existsSync(join(root, 'packages', p, 'dist'))) throw new Error(`test image: packages/${p}/dist is missing; run \`npm run build\` first`);
  }
  const described = describeWorkspace(root);
  const hash = imageHash(described);
  const current = await currentLabel(image);
  if (current?.hash === hash) {
    log(`${image} is current (${LABEL}=${hash})`);
    return { image, built: false, ms: Date.now() - started };
  }
  log(`building ${image}: ${described.fileCount} workspace files, ${current ? 'workspace changed' : 'no image yet'}`);
  const work = join(root, 'tmp', 'test-image');
  stageWorkspace(root, join(work, 'app'), described, log);
  const rootfs = join(work, 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  assembleRootfs(rootfs, join(work, 'app'));
  const id = await importRootfs(rootfs, hash);
  const [repo, tag = 'latest'] = image.split(/:(?=[^:/]+$)/);
  const tagged = await engineCall('POST', `/images/${id}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`);
  if (tagged.status >= 300) throw new Error(`tagging ${id} as ${image}: ${tagged.status} ${tagged.text}`);
  if (current && current.id !== id) await engineCall('DELETE', `/images/${current.id}`).catch(() => undefined); // the replaced one, if unused
  rmSync(rootfs, { recursive: true, force: true });
  const ms = Date.now() - started;
  log(`built ${image} (${id.slice(7, 19)}, ${LABEL}=${hash}) in ${(ms / 1000).toFixed(1)} s`);
  return { image, built: true, ms };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureTestImage({ image: process.argv[2] ?? DEFAULT_IMAGE }).catch((e) => {
    console.error(`test-image: ${e.message}`);
    process.exit(1);
  });
}
