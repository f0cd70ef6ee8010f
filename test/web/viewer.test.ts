// The explorer viewer's choice of view for a file's bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catGif } from '../../shared/fs/index.ts';
import { viewKind } from '../../web/src/viewer.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

test('a whole picture is an image; a cut one is not drawn', () => {
  assert.equal(viewKind(catGif, true), 'image');
  assert.equal(viewKind(catGif.subarray(0, 100), false), 'hex');
});

test('UTF-8 text is text, even cut inside a character when the file goes on', () => {
  assert.equal(viewKind(utf8('hello\nwörld\t\r\n'), true), 'text');
  const cut = utf8('größe').subarray(0, 3); // ends inside 'ö'
  assert.equal(viewKind(cut, false), 'text');
  assert.equal(viewKind(cut, true), 'hex');
});

test('control bytes or invalid UTF-8 are hex', () => {
  assert.equal(viewKind(new Uint8Array(16), false), 'hex');
  assert.equal(viewKind(new Uint8Array([0x68, 0x69, 0xff, 0xfe]), true), 'hex');
  assert.equal(viewKind(utf8('a\u0001b'), true), 'hex');
});
