// Assembles the test image's root filesystem from this machine: node and the shared
// libraries `ldd` lists for it, /bin/sh and the basic tools tasks use, redis-server,
// catatonit (PID 1 that reaps orphans), and the built workspace with its production
// dependencies under /app.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Programs copied from the host (by name, looked up on PATH); tasks run shell commands with them. */
export const TOOLS = [
  'sh', 'dash', 'bash', 'cat', 'echo', 'sleep', 'ls', 'mkdir', 'rm', 'touch', 'env', 'true', 'false', 'date', 'printf',
  'test', 'head', 'tail', 'wc', 'grep', 'sed', 'awk', 'kill', 'ps', 'id', 'hostname', 'uname', 'cp', 'mv', 'chmod', 'ln',
  'seq', 'expr', 'tr', 'cut', 'sort', 'uniq', 'tee', 'basename', 'dirname', 'pwd', 'readlink', 'nproc', 'timeout', 'stat',
  'find', 'xargs', 'getent', 'redis-server', 'redis-cli', 'catatonit', 'setsid', 'setpriv',
];
/** Tools the image cannot do without (the rest are copied when the host has them); the agent starts command tasks under setsid and setpriv. */
export const REQUIRED = new Set(['sh', 'sleep', 'cat', 'redis-server', 'catatonit', 'setsid', 'setpriv']);

/** The Debian package of a required tool. */
const PACKAGE_OF = { catatonit: 'catatonit', 'redis-server': 'redis-server', setsid: 'util-linux', setpriv: 'util-linux' };

function which(name) {
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The shared libraries (and the loader) a dynamic executable needs, from `ldd`. */
export function librariesOf(binary) {
  let out;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // a static executable: "not a dynamic executable"
  }
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
}

/** Copies a host file to the same path in `root`, dereferencing symlinks. */
function copyInto(root, path, as = path) {
  const target = join(root, as);
  if (existsSync(target)) return;
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(path), target);
  chmodSync(target, 0o755);
}

/** Creates a merged-/usr skeleton (bin, lib, lib64 → usr/...) with /etc, /tmp and /root. */
function skeleton(root) {
  for (const d of ['usr/bin', 'usr/lib', 'usr/lib64', 'usr/local/bin', 'etc', 'root', 'var/tmp', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(l === 'sbin' ? 'usr/bin' : `usr/${l}`, join(root, l));
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
}

/** Node, the tools and their libraries; throws naming a required tool the host lacks. */
function programs(root) {
  const binaries = [[process.execPath, '/usr/local/bin/node']];
  for (const name of TOOLS) {
    const path = which(name);
    if (!path) {
      if (REQUIRED.has(name)) throw new Error(`test image: the host has no ${name} (install it: apt-get install -y ${PACKAGE_OF[name] ?? 'coreutils'})`);
      continue;
    }
    binaries.push([path, `/usr/bin/${name}`]);
  }
  for (const [path, as] of binaries) {
    copyInto(root, path, as);
    for (const lib of librariesOf(path)) copyInto(root, lib);
  }
  // getent and the shell resolve users through NSS, loaded at run time (not listed by ldd).
  for (const lib of ['/lib/x86_64-linux-gnu/libnss_files.so.2']) if (existsSync(lib)) copyInto(root, lib);
}

/** The whole root filesystem in `root` (which must not exist), with the staged workspace `app` at /app. */
export function assembleRootfs(root, app) {
  mkdirSync(root, { recursive: true });
  skeleton(root);
  programs(root);
  cpSync(app, join(root, 'app'), { recursive: true, verbatimSymlinks: true });
}
