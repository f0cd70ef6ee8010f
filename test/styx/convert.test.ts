// The dialect conversions: one mode conversion each way, which keeps both the file type (a symlink
// stays a symlink) and the setuid/setgid bits, and a stat that survives a trip through getattr.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DMDEVICE, DMDIR, DMNAMEDPIPE, DMSETGID, DMSETUID, DMSOCKET, DMSYMLINK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG,
  nullStat,
} from '../../shared/ninep/index.ts';
import { attrToStat, dmToLinuxMode, linuxModeToDM, statToAttr } from '../../shared/styx/index.ts';

describe('dialect conversions', () => {
  it('keep the file type and the setuid and setgid bits, both ways', () => {
    assert.equal(dmToLinuxMode((DMSYMLINK | 0o777) >>> 0), S_IFLNK | 0o777);
    assert.equal(dmToLinuxMode((DMSETUID | 0o755) >>> 0), S_IFREG | 0o4755);
    assert.equal(dmToLinuxMode((DMDIR | DMSETGID | 0o775) >>> 0), S_IFDIR | 0o2775);
    assert.equal(dmToLinuxMode((DMDEVICE | 0o600) >>> 0), S_IFCHR | 0o600);
    for (const m of [0o644, DMDIR | 0o755, DMSYMLINK | 0o777, DMSETUID | DMSETGID | 0o711, DMNAMEDPIPE | 0o600, DMSOCKET | 0o600, DMDEVICE | 0o660]) {
      assert.equal(linuxModeToDM(dmToLinuxMode(m >>> 0)), m >>> 0, `mode ${(m >>> 0).toString(8)}`);
    }
  });

  it('make a stat, a getattr and the stat again without loss', () => {
    const st = { ...nullStat(), qid: { type: 0, vers: 3, path: 42n }, mode: (DMSETUID | 0o755) >>> 0, atime: 10, mtime: 20, length: 5n, name: 'x', nUid: 7, nGid: 8 };
    const back = attrToStat('x', statToAttr(st));
    assert.equal(back.mode, st.mode);
    assert.deepEqual([back.qid, back.atime, back.mtime, back.length, back.nUid, back.nGid], [st.qid, 10, 20, 5n, 7, 8]);
  });
});
