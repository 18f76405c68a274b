import { describe, expect, it } from 'vitest';
import { mountsUnder, parseMountPoints } from './volume-mounts.js';

const MOUNTINFO = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '42 27 254:0 /w/volumes/roles/db/a /w/slaves/s/runs/r1/data rw,relatime - ext4 /dev/vda rw',
  '43 27 254:0 /w/volumes/roles/db/b /w/slaves/s/runs/r1/data/nested\\040dir ro,relatime - ext4 /dev/vda rw',
  '44 27 254:0 /w/volumes/roles/db/c /w/slaves/s/runs/r10/data rw,relatime - ext4 /dev/vda rw',
  '',
].join('\n');

describe('mount points from /proc/self/mountinfo', () => {
  it('are the fifth field with octal escapes decoded', () => {
    expect(parseMountPoints(MOUNTINFO)).toEqual(['/proc', '/w/slaves/s/runs/r1/data', '/w/slaves/s/runs/r1/data/nested dir', '/w/slaves/s/runs/r10/data']);
  });

  it('under a sandbox are listed deepest first, without a sibling sharing its prefix', () => {
    expect(mountsUnder(parseMountPoints(MOUNTINFO), '/w/slaves/s/runs/r1')).toEqual(['/w/slaves/s/runs/r1/data/nested dir', '/w/slaves/s/runs/r1/data']);
    expect(mountsUnder(parseMountPoints(MOUNTINFO), '/w/slaves/s/runs/r2')).toEqual([]);
  });
});
