// Share links: the program survives the trip through the hash, and broken or hostile hashes are
// refused rather than trusted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeShare, encodeShare } from '../../web/src/share.ts';
import { exampleSource } from './programs.ts';

test('a program round-trips through a share hash, smaller than it started', async () => {
  const code = exampleSource('slightlyfs');
  const hash = await encodeShare({ doc: 'slightlyfs', name: 'slightly', code });
  assert.match(hash, /^#code=[A-Za-z0-9_-]+$/);
  assert.ok(hash.length < code.length, `${hash.length} >= ${code.length}`);
  assert.deepEqual(await decodeShare(hash), { doc: 'slightlyfs', name: 'slightly', code });
});

test('unicode and empty programs survive too', async () => {
  for (const code of ['', '// ünïcödé ✓ 𝔘\nexport default 1;\n']) {
    const back = await decodeShare(await encodeShare({ doc: 'x', name: 'n', code }));
    assert.equal(back?.code, code);
  }
});

test('hashes that are not share links are ignored; broken ones are refused', async () => {
  assert.equal(await decodeShare(''), null);
  assert.equal(await decodeShare('#section'), null);
  await assert.rejects(decodeShare('#code=AAAA'));
  await assert.rejects(decodeShare('#code=' + 'A'.repeat(70_000)), /too long/);
  // Valid deflate of something that is not a styxlab link.
  const other = await encodeShare({ doc: 'd', name: 'n', code: 'x' });
  assert.ok(other);
});
