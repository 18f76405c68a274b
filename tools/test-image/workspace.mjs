// Stages the built workspace as the image's /app: the root package.json and lockfile, each
// workspace's package.json and published files (dist, ...), and the production dependencies
// (`npm ci --omit=dev`, redone only when the lockfile or a package.json changed).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Workspace directories (relative to the root) from the root package.json's `workspaces` globs (`dir/*` form). */
export function workspaces(root) {
  const globs = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces ?? [];
  return globs.flatMap((g) => {
    const base = g.replace(/\/\*$/, '');
    if (!existsSync(join(root, base))) return [];
    return readdirSync(join(root, base))
      .map((d) => join(base, d))
      .filter((d) => existsSync(join(root, d, 'package.json')));
  });
}

/** What of a workspace goes into the image: its package.json and its `files` that exist (dist by default). */
function shippedPaths(root, ws) {
  const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
  const files = (pkg.files ?? ['dist']).filter((f) => !f.startsWith('!') && !/readme/i.test(f));
  return ['package.json', ...files].map((f) => join(ws, f)).filter((p) => existsSync(join(root, p)));
}

function filesUnder(root, rel) {
  const abs = join(root, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).sort().flatMap((n) => (n.endsWith('.tsbuildinfo') ? [] : filesUnder(root, join(rel, n))));
}

function hashFiles(root, paths) {
  const h = createHash('sha256');
  for (const p of paths) h.update(p).update('\0').update(readFileSync(join(root, p))).update('\0');
  return h.digest('hex');
}

/** The staged paths and two hashes: `deps` (lockfile + package.jsons), `all` (everything shipped). */
export function describeWorkspace(root) {
  const manifests = ['package.json', 'package-lock.json', ...workspaces(root).map((w) => join(w, 'package.json'))];
  const shipped = ['package.json', 'package-lock.json', ...workspaces(root).flatMap((w) => shippedPaths(root, w))];
  const files = shipped.flatMap((p) => filesUnder(root, p));
  return { shipped, deps: hashFiles(root, manifests), all: hashFiles(root, files), fileCount: files.length };
}

/** Fills `app` with the workspace; `npm ci --omit=dev` only when the deps hash changed. */
export function stageWorkspace(root, app, described, log) {
  const stamp = join(app, 'node_modules', '.meso-deps-hash');
  const depsCurrent = existsSync(stamp) && readFileSync(stamp, 'utf8') === described.deps;
  for (const entry of existsSync(app) ? readdirSync(app) : []) if (entry !== 'node_modules' || !depsCurrent) rmSync(join(app, entry), { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  for (const p of described.shipped) cpSync(join(root, p), join(app, p), { recursive: true, filter: (src) => !src.endsWith('.tsbuildinfo') });
  if (!depsCurrent) {
    log(`npm ci --omit=dev in ${relative(root, app)}`);
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] });
    writeFileSync(stamp, described.deps);
  }
}
