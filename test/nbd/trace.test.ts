// The NBD trace text (`styxlab serve -d`, the page's trace panel): a whole session as the server
// sees it, line for line, in the style of the 9P trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NbdClient } from '../../shared/nbd/client.ts';
import { NbdError } from '../../shared/nbd/errors.ts';
import { MemoryDevice } from '../../shared/nbd/memory-device.ts';
import { ServerSession } from '../../shared/nbd/server-session.ts';
import { byteStreamPair } from '../../shared/nbd/stream.ts';

const SESSION = `
-> Server.Greeting(FIXED_NEWSTYLE|NO_ZEROES)
<- Client.Flags(FIXED_NEWSTYLE|NO_ZEROES)
<- Opt.StructuredReply()
-> Rep.Ack(STRUCTURED_REPLY)
<- Opt.SetMetaContext("disk",array[] of {"base:allocation"})
-> Rep.MetaContext(SET_META_CONTEXT,1,"base:allocation")
-> Rep.Ack(SET_META_CONTEXT)
<- Opt.Go("disk",array[] of {NAME,DESCRIPTION,BLOCK_SIZE})
-> Rep.Info(GO,Export(1048576,HAS_FLAGS|SEND_FLUSH|SEND_FUA|SEND_TRIM|SEND_WRITE_ZEROES|SEND_DF|CAN_MULTI_CONN|SEND_CACHE|SEND_FAST_ZERO))
-> Rep.Info(GO,Name("disk"))
-> Rep.Info(GO,Description("memory, 1048576 bytes"))
-> Rep.Info(GO,BlockSize(1,4096,33554432))
-> Rep.Ack(GO)
<- Cmd.Write(16r1,4096,array[512] of byte,FUA)
-> Reply.Simple(16r1,0)
<- Cmd.Read(16r2,4096,512)
-> Chunk.OffsetData(16r2,DONE,4096,array[512] of byte)
<- Cmd.BlockStatus(16r3,0,1048576)
-> Chunk.BlockStatus(16r3,DONE,1,array[2] of {Extent(65536,0),Extent(983040,HOLE|ZERO)})
<- Cmd.Read(16r4,1048000,1000)
-> Chunk.Error(16r4,DONE,EINVAL,"1048000+1000 is beyond the end (1048576)")
<- Cmd.WriteZeroes(16r5,0,65536,NO_HOLE)
-> Reply.Simple(16r5,0)
<- Cmd.Disc(16r6,0,0)
`.trim().split('\n');

test('a session reads line for line', async () => {
  const lines: string[] = [];
  const [a, b] = byteStreamPair();
  const session = new ServerSession(b, {
    id: '1', exports: () => [{ name: 'disk', device: new MemoryDevice(1 << 20) }],
    trace: (dir, text) => lines.push(`${dir} ${text}`),
  });
  const c = await NbdClient.connect(a, { exportName: 'disk' });
  await c.write(4096, new Uint8Array(512).fill(1), { fua: true });
  await c.read(4096, 512);
  await c.blockStatus(0, 1 << 20);
  await assert.rejects(c.read(1048000, 1000), NbdError);
  await c.zero(0, 65536, { noHole: true });
  await c.disconnect();
  await session.done;
  assert.deepEqual(lines, SESSION);
});

test('the client traces the same conversation from its side', async () => {
  const lines: string[] = [];
  const [a, b] = byteStreamPair();
  new ServerSession(b, { id: '2', exports: () => [{ name: '', device: new MemoryDevice(1 << 20) }] });
  const c = await NbdClient.connect(a, { trace: (dir, text) => lines.push(`${dir} ${text}`) });
  await c.write(0, new Uint8Array(10).fill(1));
  await c.read(0, 10);
  // Unwritten, so a hole: the memory device's reply says so instead of sending zeroes.
  await c.read(65536, 10);
  await c.disconnect();
  assert.equal(lines[0], '<- Server.Greeting(FIXED_NEWSTYLE|NO_ZEROES)');
  assert.ok(lines.includes('-> Cmd.Read(16r2,0,10)'));
  assert.ok(lines.includes('<- Chunk.OffsetData(16r2,DONE,0,array[10] of byte)'));
  assert.ok(lines.includes('<- Chunk.OffsetHole(16r3,DONE,65536,10)'));
});
