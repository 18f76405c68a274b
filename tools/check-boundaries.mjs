// Enforces the dependency direction of ARCHITECTURE.md with the Nx tags in each
// package.json ("nx": { "tags": ["scope:..."] }). Two sources are checked:
// - declared dependencies (dependencies, devDependencies, peerDependencies);
// - every import of a workspace package in the package's src/ and test/ files, which
//   must also be declared, and may not reach into another package (no deep imports).
// Exits non-zero naming each violation.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Which scopes a scope may depend on. */
const ALLOWED = {
  'scope:proto': [],
  'scope:state': [],
  'scope:core-master': ['scope:proto', 'scope:state'],
  'scope:sdk': ['scope:proto'],
  'scope:agent': ['scope:proto', 'scope:state', 'scope:sdk-executor'],
  'scope:framework': ['scope:sdk', 'scope:state'],
  'scope:cli': ['scope:proto', 'scope:state', 'scope:core-master', 'scope:agent', 'scope:sdk', 'scope:framework'],
  'scope:integration-tests': ['*'],
  'scope:tools': ['*'],
  'scope:testing': [],
};
/** Finer grants by package name (the agent's command executor uses only the executor SDK). */
const EXTRA_TAGS = { '@meso/sdk-executor': ['scope:sdk-executor'] };
/** Test-only scopes: any package's tests (test/, *.test.ts) and devDependencies may use them. */
const TEST_SCOPES = new Set(['scope:testing']);
/** Packages nobody may import. */
const PRIVATE_SCOPES = new Set(['scope:integration-tests', 'scope:tools']);

const packagesDir = join(root, 'packages');
const projects = new Map();
for (const dir of readdirSync(packagesDir)) {
  const pj = join(packagesDir, dir, 'package.json');
  if (!existsSync(pj)) continue;
  const pkg = JSON.parse(readFileSync(pj, 'utf8'));
  const tags = [...(pkg.nx?.tags ?? []), ...(EXTRA_TAGS[pkg.name] ?? [])];
  projects.set(pkg.name, { dir: join(packagesDir, dir), pkg, tags });
}

const violations = [];
const scopeOf = (tags) => tags.find((t) => t.startsWith('scope:') && t in ALLOWED);

function allowed(from, to, forTests = false) {
  const target = projects.get(to);
  if (target.tags.some((t) => PRIVATE_SCOPES.has(t))) return false;
  if (target.tags.some((t) => TEST_SCOPES.has(t))) return forTests;
  const rules = ALLOWED[scopeOf(from.tags)] ?? [];
  return rules.includes('*') || target.tags.some((t) => rules.includes(t));
}

function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'gen') return [];
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx|mts|js|mjs)$/.test(name) ? [p] : [];
  });
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

for (const [name, project] of projects) {
  if (!scopeOf(project.tags)) violations.push(`${name}: no scope tag in package.json nx.tags`);
  const devOnly = new Set(Object.keys(project.pkg.devDependencies ?? {}));
  const declared = new Set(
    ['dependencies', 'devDependencies', 'peerDependencies'].flatMap((k) => Object.keys(project.pkg[k] ?? {})),
  );
  for (const dep of declared) {
    if (projects.has(dep) && !allowed(project, dep, devOnly.has(dep))) violations.push(`${name}: may not depend on ${dep} (package.json)`);
  }
  for (const file of [...sourceFiles(join(project.dir, 'src')), ...sourceFiles(join(project.dir, 'test'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const target = [...projects.keys()].find((p) => spec === p || spec.startsWith(`${p}/`));
      if (!target || target === name) continue;
      const where = relative(root, file);
      // The container suite's package is test code through and through (its src/ is its harness).
      const isTest = /\.test\.[mc]?[jt]sx?$/.test(file) || where.split('/').includes('test') || project.tags.includes('scope:integration-tests');
      if (spec !== target) violations.push(`${where}: deep import '${spec}' (import '${target}' only)`);
      if (!allowed(project, target, isTest)) violations.push(`${where}: ${name} may not import ${target}`);
      else if (!declared.has(target)) violations.push(`${where}: imports ${target}, which ${name}'s package.json does not declare`);
    }
  }
}

if (violations.length > 0) {
  console.error(`module boundaries: ${violations.length} violation(s)\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`module boundaries: ${projects.size} packages, no violations`);
