// Regenerates src/gen from proto/ with buf + ts-proto (options in buf.gen.yaml).
// With --check, generates into a temporary directory and fails if anything differs from
// what is committed, so stale generated code cannot land.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const buf = join(pkg, '../../node_modules/.bin/buf');
const check = process.argv.includes('--check');

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

if (!check) {
  rmSync(join(pkg, 'src/gen'), { recursive: true, force: true });
  execFileSync(buf, ['generate'], { cwd: pkg, stdio: 'inherit' });
  console.log('proto: regenerated src/gen');
} else {
  const out = mkdtempSync(join(tmpdir(), 'meso-proto-'));
  try {
    execFileSync(buf, ['generate', '--output', out], { cwd: pkg, stdio: 'inherit' });
    const fresh = join(out, 'src/gen');
    const committed = join(pkg, 'src/gen');
    const a = listFiles(fresh).map((f) => relative(fresh, f)).sort();
    const b = listFiles(committed).map((f) => relative(committed, f)).sort();
    const stale = [];
    for (const f of new Set([...a, ...b])) {
      const x = existsSync(join(fresh, f)) ? readFileSync(join(fresh, f), 'utf8') : null;
      const y = existsSync(join(committed, f)) ? readFileSync(join(committed, f), 'utf8') : null;
      if (x !== y) stale.push(f);
    }
    if (stale.length > 0) {
      console.error(`proto: src/gen is stale (${stale.join(', ')}); run 'npm run proto:generate --workspace @meso/proto' and commit the result`);
      process.exit(1);
    }
    console.log('proto: src/gen matches proto/');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
