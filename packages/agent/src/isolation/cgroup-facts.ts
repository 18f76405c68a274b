// Reads what cgroup detection decides on: /proc/self/mountinfo, /proc/self/cgroup, and
// probes (a child cgroup made and removed; cgroup.controllers read).
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroups, parseMountInfo, parseProcCgroup, type CgroupSupport } from './cgroup-detect.js';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a child cgroup can be made in `dir` (made and removed at once). */
function canMakeChild(dir: string): boolean {
  const probe = join(dir, `meso-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Detects the cgroups this process can use. */
export function detectMachineCgroups(): CgroupSupport {
  return detectCgroups(parseMountInfo(read('/proc/self/mountinfo')), parseProcCgroup(read('/proc/self/cgroup')), {
    writable: canMakeChild,
    v2Controllers: (dir) => {
      const text = read(join(dir, 'cgroup.controllers'));
      return text === '' ? undefined : text.trim().split(/\s+/);
    },
  });
}
