// `file`: a host file as a disk (Node only). Each connection opens its own descriptor; they share
// the kernel's page cache, and fdatasync on one covers writes made through any, so CAN_MULTI_CONN
// is honest. Node has no hole punching or SEEK_HOLE, so there is no trim and no extents: the
// server then reports the whole file as data, which the spec allows.
import { open, stat } from 'node:fs/promises';
import type { BlockConnection, BlockDevice, OpenContext } from '../../shared/nbd/device.ts';
import { NbdError } from '../../shared/nbd/errors.ts';

export class FileDevice implements BlockDevice {
  description: string;

  constructor(readonly path: string, readonly readOnly = false) {
    this.description = `file ${path}`;
  }

  async open(ctx: OpenContext): Promise<BlockConnection> {
    const ro = this.readOnly || ctx.readonly;
    const fh = await open(this.path, ro ? 'r' : 'r+');
    const st = await stat(this.path);
    if (!st.isFile()) {
      await fh.close();
      throw new NbdError(22, `${this.path} is not a regular file`);
    }
    const size = st.size;
    const conn: BlockConnection = {
      size: () => size,
      async pread(buf, offset) {
        let done = 0;
        while (done < buf.length) {
          const { bytesRead } = await fh.read(buf, done, buf.length - done, offset + done);
          // The file shrank under us: what is gone reads as zeroes.
          if (bytesRead === 0) { buf.fill(0, done); break; }
          done += bytesRead;
        }
      },
      flush: () => fh.datasync(),
      capabilities: () => ({ multiConn: true }),
      close: () => fh.close(),
    };
    if (!ro) {
      conn.pwrite = async (data, offset, fua) => {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
          done += bytesWritten;
        }
        if (fua) await fh.datasync();
      };
    }
    return conn;
  }
}
