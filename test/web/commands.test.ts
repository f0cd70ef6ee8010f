// The console's commands: word splitting, paths, and each command against a real server (the
// built-in ramfs and slightlyfs, through the real client).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import { ramfs, slightlyfs } from '../../shared/fs/index.ts';
import { LinuxAdapter, Session } from '../../shared/styx/index.ts';
import type { FileServer } from '../../shared/styx/index.ts';
import { transportPair } from '../../shared/transport.ts';
import { type Shell, resolvePath, runCommand, showBytes, tokenize } from '../../web/src/commands.ts';

describe('tokenize', () => {
  test('words, quotes and redirections', () => {
    assert.deepEqual(tokenize('echo hello world > /ram/x'), ['echo', 'hello', 'world', '>', '/ram/x']);
    assert.deepEqual(tokenize('echo "a  b" \'c>d\'>>f'), ['echo', 'a  b', 'c>d', '>>', 'f']);
    assert.deepEqual(tokenize('echo ""'), ['echo', '']);
    assert.deepEqual(tokenize('  ls   -l  '), ['ls', '-l']);
    assert.deepEqual(tokenize('echo "say \\"hi\\""'), ['echo', 'say "hi"']);
    assert.throws(() => tokenize('echo "open'), /unclosed "/);
  });
});

describe('resolvePath', () => {
  test('relative, absolute, dot and dot-dot', () => {
    assert.equal(resolvePath('/', 'a/b'), '/a/b');
    assert.equal(resolvePath('/a/b', '../c'), '/a/c');
    assert.equal(resolvePath('/a', '/x/./y/'), '/x/y');
    assert.equal(resolvePath('/a', '../../..'), '/');
    assert.equal(resolvePath('/a', '.'), '/a');
  });
});

describe('showBytes', () => {
  test('text as text, binary summarized', () => {
    assert.equal(showBytes(new TextEncoder().encode('hi\tthere\n')), 'hi\tthere\n');
    assert.match(showBytes(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 1])), /^\[8 bytes of binary data: 47 49 46 38 39 61 00 01 {2}GIF89a\.\.\]$/);
    assert.match(showBytes(new Uint8Array([0xff, 0xfe])), /2 bytes of binary data/);
  });
});

async function connect(fs: FileServer): Promise<{ client: Client; close(): Promise<void> }> {
  const [a, b] = transportPair();
  const s = new Session(b, new LinuxAdapter(fs.connect()));
  const client = await Client.connect(a, { version: '9P2000.u' });
  return { client, close: async () => { client.close(); s.close(); await s.done; } };
}

describe('commands', () => {
  let ram: Awaited<ReturnType<typeof connect>>;
  let slightly: Awaited<ReturnType<typeof connect>>;
  before(async () => {
    ram = await connect(ramfs());
    slightly = await connect(slightlyfs);
  });
  after(async () => {
    await ram.close();
    await slightly.close();
  });

  async function sh(shell: Shell, line: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    await runCommand(line, shell, (text, kind = 'out') => out.push([kind, text]));
    return out;
  }

  test('echo, cat, append, ls, stat, mkdir, cd, rm on a writable tree', async () => {
    const s: Shell = { client: ram.client, cwd: '/' };
    assert.deepEqual(await sh(s, 'echo hello there > greeting'), []);
    // cat shows whole lines as they come (each console line is one block, so no trailing newline).
    assert.deepEqual(await sh(s, 'cat greeting'), [['out', 'hello there']]);
    assert.deepEqual(await sh(s, 'echo again >> /greeting'), []);
    assert.deepEqual(await sh(s, 'cat /greeting'), [['out', 'hello there\nagain']]);
    assert.deepEqual(await sh(s, 'mkdir d'), []);
    assert.deepEqual(await sh(s, 'ls'), [['out', 'd/\ngreeting']]);
    const long = await sh(s, 'ls -l /');
    assert.match(long[0][1], /^d-rwxr-xr-x +\S+ +0 d\/\n-+rw-r--r-- +\S+ +18 greeting$/);
    const st = await sh(s, 'stat greeting');
    assert.match(st[0][1], /name: {3}greeting/);
    assert.match(st[0][1], /length: 18/);
    assert.deepEqual(await sh(s, 'cd d'), []);
    assert.equal(s.cwd, '/d');
    assert.deepEqual(await sh(s, 'pwd'), [['out', '/d']]);
    assert.deepEqual(await sh(s, 'ls'), [['info', '(empty)']]);
    assert.deepEqual(await sh(s, 'rm ../greeting ../d'), []);
    assert.deepEqual(await sh(s, 'ls /'), [['info', '(empty)']]);
  });

  test('errors come back as console errors with the server\'s words', async () => {
    const s: Shell = { client: slightly.client, cwd: '/' };
    assert.deepEqual(await sh(s, 'cat nothing'), [['err', 'cat: file does not exist']]);
    assert.deepEqual(await sh(s, 'echo x > hello'), [['err', 'echo: permission denied']]);
    assert.deepEqual(await sh(s, 'frob'), [['err', 'frob: unknown command (try help)']]);
    assert.deepEqual(await sh(s, 'cat'), [['err', 'usage: cat path ...']]);
    assert.deepEqual(await sh(s, 'cd hello'), [['err', 'cd: /hello: not a directory']]);
    assert.deepEqual(await sh({ client: null, cwd: '/' }, 'ls'), [['err', 'not connected (see Files: pick a backend)']]);
    // Binary as hex, unless the shell can draw pictures.
    const gif = await sh(s, 'cat cat.gif');
    assert.match(gif[0][1], /^\[\d+ bytes of binary data\]$/);
    assert.match(gif[1][1], /^00000000  47 49 46 38 39 61 /);
    const drawn: string[] = [];
    const withImages: Shell = { ...s, image: (data, mime, name) => drawn.push(`${name} ${mime} ${data.length}`) };
    assert.deepEqual(await sh(withImages, 'cat cat.gif'), []);
    assert.match(drawn[0], /^\/cat\.gif image\/gif \d+$/);
  });
});
