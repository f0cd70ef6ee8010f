// `styxlab serve` mounted by the real Linux kernel client (v9fs in Debian's kernel, under QEMU), in
// each dialect, in one boot: three connections to one server, mounted with version=9p2000,
// 9p2000.u and 9p2000.L and no aname (the whole namespace). Every step is checked in the guest
// (set -e) and its output here.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { catGif, fortunes } from '../../shared/fs/index.ts';
import { outputSection, prepareLinux, runInLinux } from '../support/linuxvm.ts';
import { type Served, startServe } from '../support/styxlab.ts';

const DIALECTS = ['9p2000', '9p2000.u', '9p2000.L'] as const;

function script(): string {
  const steps = DIALECTS.map((v, ch) => {
    const m = `/mnt/${v}`;
    const r = `${m}/ram`;
    return `
echo "== ${v} mount"; mount9p -c ${ch} ${m} version=${v}; grep " ${m} " /proc/mounts
echo "== ${v} ls"; ls -l ${m}
echo "== ${v} hello"; cat ${m}/hellofs/hello
echo "== ${v} fortune"; cat ${m}/slightlyfs/fortune
echo "== ${v} gif"; md5sum ${m}/slightlyfs/cat.gif
echo "written in ${v}" > ${r}/f
echo "== ${v} write"; cat ${r}/f
mkdir ${r}/dir
echo "== ${v} mkdir"; ls -ld ${r}/dir
mv ${r}/f ${r}/g
echo "== ${v} mv"; ls ${r}; cat ${r}/g
mv ${r}/g ${r}/dir/h
echo "== ${v} mv into dir"; ls ${r} ${r}/dir
chmod 600 ${r}/dir/h
echo "== ${v} chmod"; ls -l ${r}/dir/h; stat -c '%a %s' ${r}/dir/h
rm ${r}/dir/h; rmdir ${r}/dir
echo "== ${v} rm"; ls -A ${r}
echo "== ${v} dd"; dd if=${m}/dev/zero bs=65536 count=16 2>/dev/null | wc -c
echo "== ${v} dd bytes"; dd if=${m}/dev/zero bs=65536 count=16 2>/dev/null | tr -d '\\000' | wc -c
umount ${m}
echo "== ${v} umount"; grep -c " ${m} " /proc/mounts || true
`;
  });
  return `set -e\n${steps.join('')}echo "== end"\n`;
}

describe('Linux v9fs client (QEMU) against styxlab serve', () => {
  let s: Served | undefined;

  before(async () => {
    await prepareLinux();
    // -d: the trace shows which dialect each mount spoke.
    s = await startServe(['-d']);
  });
  after(async () => { await s?.stop(); });

  it('mounts the namespace in 9p2000, 9p2000.u and 9p2000.L: list, read, write, mkdir, mv, chmod, rm, dd, umount', async () => {
    assert.ok(s);
    const r = await runInLinux({ ports: DIALECTS.map(() => s!.port), script: script(), timeoutMs: 300_000 });
    const ctx = `output:\n${r.output}\nconsole (tail):\n${r.console.split('\n').slice(-30).join('\n')}\nserver stderr:\n${s.stderr()}`;
    assert.equal(r.code, 0, ctx);
    const section = (name: string): string => outputSection(r, name, ctx);
    const gifMd5 = createHash('md5').update(catGif).digest('hex');
    for (const v of DIALECTS) {
      const at = `[${v}] `;
      // The kernel's mount options tell the dialects apart (.L is its default, shown as access=client).
      const opt = { '9p2000': /,noextend,/, '9p2000.u': /,version=9p2000\.u,/, '9p2000.L': /,access=client,/ }[v];
      const mount = section(`${v} mount`);
      assert.match(mount, new RegExp(`^none /mnt/${v.replace('.', '\\.')} 9p `), at + ctx);
      assert.match(mount, opt, at + mount);
      const ls = section(`${v} ls`);
      for (const name of ['hellofs', 'slightlyfs', 'ram', 'dev']) assert.match(ls, new RegExp(`^d\\S+\\s.*\\s${name}$`, 'm'), at + ls);
      assert.equal(section(`${v} hello`), 'Hello, World!\n', at);
      const fortune = section(`${v} fortune`);
      assert.ok(fortunes.includes(fortune.replace(/\n$/, '')), at + fortune);
      assert.equal(section(`${v} gif`).split(/\s+/)[0], gifMd5, at);
      assert.equal(section(`${v} write`), `written in ${v}\n`, at);
      assert.match(section(`${v} mkdir`), /^d\S+\s.*\/ram\/dir\n$/, at);
      assert.equal(section(`${v} mv`), `dir\ng\nwritten in ${v}\n`, at);
      assert.match(section(`${v} mv into dir`), /:\ndir\n\n.*\/dir:\nh\n$/, at);
      const chmod = section(`${v} chmod`);
      assert.match(chmod, /^-rw-------\s/m, at + chmod);
      assert.match(chmod, new RegExp(`^600 ${`written in ${v}\n`.length}$`, 'm'), at + chmod);
      assert.equal(section(`${v} rm`), '', at);
      assert.equal(section(`${v} dd`).trim(), String(16 * 65536), at);
      assert.equal(section(`${v} dd bytes`).trim(), '0', `${at}dev/zero gave non-zero bytes`);
      assert.equal(section(`${v} umount`).trim(), '0', at);
    }
    assert.equal(section('end'), '');
    // It was the kernel speaking each dialect (the server's -d trace), and the server logged
    // nothing besides the trace: no bad input, no handler errors.
    const err = s.stderr();
    for (const d of ['9P2000', '9P2000.u', '9P2000.L']) assert.match(err, new RegExp(`^\\[\\d+\\] -> Rmsg\\.Version\\(65535,\\d+,"${d.replace('.', '\\.')}"\\)$`, 'm'));
    const other = err.split('\n').filter((line) => line !== '' && !/^\[\d+\] (<-|->) [TR]msg\./.test(line));
    assert.deepEqual(other, []);
  });
});
