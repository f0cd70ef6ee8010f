// The mount-name rule and the close codes that the server and the page share (shared/mount).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLOSE_TEXT, Close, MAX_CLOSE_REASON, closeReason } from '../../shared/mount/closecodes.ts';
import { MOUNT_NAME_CHARS, isMountName, mountNameProblem } from '../../shared/mount/names.ts';
import { parseBackend } from '../../server/http/backends.ts';
import { Namespace } from '../../server/namespace/namespace.ts';
import { hellofs } from '../../shared/fs/index.ts';

describe('mount names', () => {
  test('letters, digits, dot, underscore and dash, 1 to 64 of them; not . or ..', () => {
    for (const ok of ['a', 'hello', 'my-fs_2.0', 'x'.repeat(64), '...']) assert.equal(isMountName(ok), true, ok);
    for (const bad of ['', '.', '..', 'x'.repeat(65), 'a/b', 'a b', 'é', 'a\0']) assert.equal(isMountName(bad), false, JSON.stringify(bad));
    assert.equal(mountNameProblem('ok'), null);
    assert.match(mountNameProblem('a/b') ?? '', /^bad mount name 'a\/b': use 1 to 64 letters/);
  });

  test('the rule is also a valid HTML pattern (compiled with the v flag, as browsers do)', () => {
    const re = new RegExp(`^(?:${MOUNT_NAME_CHARS})$`, 'v');
    assert.equal(re.test('a-b.c_d'), true);
    assert.equal(re.test('a/b'), false);
  });

  test('the namespace and the --backend parser apply the same rule', () => {
    const ns = new Namespace();
    assert.throws(() => ns.mount('..', 'builtin', 'builtin', hellofs), /bad mount name '\.\.'/);
    assert.throws(() => ns.mount('a b', 'builtin', 'builtin', hellofs), /bad mount name/);
    ns.mount('fine-1', 'builtin', 'builtin', hellofs);
    assert.equal(parseBackend('my.diod=9p:tcp!127.0.0.1!564').name, 'my.diod');
    assert.throws(() => parseBackend('a b=9p:tcp!127.0.0.1!564'), /want NAME=KIND:ADDRESS/);
  });
});

describe('close codes', () => {
  test('application codes are in 4000-4999 and each has words for the page', () => {
    for (const [name, code] of Object.entries(Close)) {
      if (code < 4000) continue;
      assert.ok(code <= 4999, name);
      assert.ok(CLOSE_TEXT[code], `${name} (${code}) has no text`);
    }
  });

  test('a reason is cut to 123 bytes of UTF-8 at a character boundary', () => {
    assert.equal(closeReason('short'), 'short');
    const long = 'é'.repeat(100); // 200 bytes
    const cut = closeReason(long);
    assert.ok(new TextEncoder().encode(cut).length <= MAX_CLOSE_REASON);
    assert.equal(cut, 'é'.repeat(61));
    assert.equal(closeReason('x'.repeat(200)).length, 123);
  });
});
