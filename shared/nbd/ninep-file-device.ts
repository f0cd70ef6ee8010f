// A file of a 9P file server as a disk: `styxlab serve --nbd-export ram=9p:/ram/disk.img`.
// Reads and writes become Tread/Twrite of at most iounit bytes, all issued at once (the 9P client
// pipelines them). The disk's size is the file's length when the connection opens. The file
// server has no cache of its own, so every connection sees every write: CAN_MULTI_CONN is honest.
import type { Client, File } from '../client/index.ts';
import { OREAD, ORDWR } from '../ninep/index.ts';
import type { BlockConnection, BlockDevice, OpenContext } from './device.ts';
import { NbdError } from './errors.ts';

/** Splits [offset, offset+length) into pieces of at most `max` bytes. */
function pieces(offset: number, length: number, max: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let done = 0; done < length; done += max) out.push([offset + done, Math.min(max, length - done)]);
  return out;
}

export class NinepFileDevice implements BlockDevice {
  description: string;

  /** client: resolves with a 9P client attached to the file server holding path. */
  constructor(private readonly client: () => Promise<Client>, readonly path: string) {
    this.description = `9P file ${path}`;
  }

  async open(ctx: OpenContext): Promise<BlockConnection> {
    const c = await this.client();
    const st = await c.stat(this.path);
    const size = Number(st.length);
    if (!Number.isSafeInteger(size)) throw new NbdError(75, `${this.path}: length ${st.length} is too large`);
    let writable = !ctx.readonly;
    let f: File;
    try {
      f = await c.open(this.path, writable ? ORDWR : OREAD);
    } catch (e) {
      if (!writable) throw e;
      // Not ours to write (or a read-only file server): serve it read-only rather than not at all.
      f = await c.open(this.path, OREAD);
      writable = false;
    }
    const unit = Math.max(1, f.iounit);
    const conn: BlockConnection = {
      size: () => size,
      async pread(buf, offset) {
        await Promise.all(pieces(offset, buf.length, unit).map(async ([at, n]) => {
          const data = await f.read(at, n);
          buf.set(data, at - offset);
          // A short read (the file shrank): the rest reads as zeroes.
          if (data.length < n) buf.fill(0, at - offset + data.length, at - offset + n);
        }));
      },
      capabilities: () => ({ multiConn: true }),
      close: () => f.close(),
    };
    if (writable) {
      conn.pwrite = async (data, offset) => {
        await Promise.all(pieces(offset, data.length, unit).map(async ([at, n]) => {
          const wrote = await f.write(at, data.subarray(at - offset, at - offset + n));
          if (wrote !== n) throw new NbdError(28, `short write at ${at}: ${wrote} of ${n} bytes`);
        }));
      };
      conn.flush = () => {};
    }
    return conn;
  }
}
