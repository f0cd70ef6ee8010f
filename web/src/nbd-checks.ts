// The block-device lesson's checks: they read the user's device with the page's NBD client, the
// way nbdinfo would (the export list, size and flags, sectors, base:allocation block status), and
// say what they expected when it differs. They run in the page (through /gateway/local-nbd, the
// NBD server of `styxlab serve`, to the page's Worker) and in Node tests over any byte stream.
import { NbdClient } from '../../shared/nbd/client.ts';
import { State, TxFlag } from '../../shared/nbd/constants.ts';
import type { Extent } from '../../shared/nbd/messages.ts';
import type { ByteStream } from '../../shared/nbd/stream.ts';
import { CheckFailed, type CheckResult, runChecks, show } from './checks.ts';

export interface DeviceCheckContext {
  /** A connection in transmission on the export. */
  client: NbdClient;
  exportName: string;
  /** A fresh connection to the server (for the export list). */
  dial(): Promise<ByteStream>;
}

export interface DeviceCheck {
  name: string;
  run(ctx: DeviceCheckContext): Promise<void>;
}

/** Runs the checks in order; each failure says what it expected and what came back. */
export function runDeviceChecks(checks: readonly DeviceCheck[], ctx: DeviceCheckContext): Promise<CheckResult[]> {
  return runChecks(checks, ctx, 'device');
}

/** The lesson's disk: this many bytes, sectors numbered up to dataEnd, a hole after. */
export interface SectorDisk {
  size: number;
  dataEnd: number;
}

const SECTOR = 512;
const decoder = new TextDecoder();

/** What sector n holds: "sector n\n" and zeroes in the data part, zeroes after. */
function expectedSector(disk: SectorDisk, n: number): Uint8Array {
  const b = new Uint8Array(SECTOR);
  if (n * SECTOR < disk.dataEnd) b.set(new TextEncoder().encode(`sector ${n}\n`));
  return b;
}

function firstDifference(got: Uint8Array, want: Uint8Array): number {
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return i;
  return -1;
}

/** The first line of a sector as text, for messages. */
const head = (b: Uint8Array): string => show(decoder.decode(b.subarray(0, 24)).replace(/\0+$/, ''));

async function expectBytes(ctx: DeviceCheckContext, disk: SectorDisk, offset: number, length: number): Promise<void> {
  const got = await ctx.client.read(offset, length);
  const want = new Uint8Array(length);
  const first = Math.floor(offset / SECTOR);
  for (let n = first; n * SECTOR < offset + length; n++) {
    const s = expectedSector(disk, n);
    const from = Math.max(offset, n * SECTOR);
    const to = Math.min(offset + length, (n + 1) * SECTOR);
    want.set(s.subarray(from - n * SECTOR, to - n * SECTOR), from - offset);
  }
  const at = firstDifference(got, want);
  if (at < 0) return;
  const n = Math.floor((offset + at) / SECTOR);
  const sectorStart = n * SECTOR - offset;
  throw new CheckFailed(
    `byte ${offset + at} (sector ${n}) to be ${want[at]}${sectorStart >= 0 ? `, the sector to start ${head(want.subarray(sectorStart))}` : ''}`,
    `${got[at]}${sectorStart >= 0 ? `, a sector starting ${head(got.subarray(sectorStart))}` : ''}`,
  );
}

/** Block status over the whole disk, merged: what `nbdinfo --map` prints. */
async function allocationMap(client: NbdClient, size: number): Promise<Extent[]> {
  const out: Extent[] = [];
  let pos = 0;
  // Bounded: a device that answers with tiny extents is still mapped in a few thousand requests.
  for (let i = 0; pos < size && i < 4096; i++) {
    const ex = await client.blockStatus(pos, size - pos);
    if (ex.length === 0) break;
    for (const e of ex) {
      const len = Math.min(e.length, size - pos);
      if (len <= 0) break;
      const prev = out[out.length - 1];
      if (prev && prev.flags === e.flags) prev.length += len;
      else out.push({ length: len, flags: e.flags });
      pos += len;
    }
  }
  return out;
}

const mapText = (m: readonly Extent[]): string => {
  let pos = 0;
  return m.map((e) => {
    const s = `${pos}+${e.length} ${e.flags === 0 ? 'data' : e.flags === (State.HOLE | State.ZERO) ? 'hole,zero' : `flags ${e.flags}`}`;
    pos += e.length;
    return s;
  }).join('; ') || 'no extents';
};

/** The checks for a SectorDisk: what nbdinfo, nbdinfo --map and nbdcopy would see. */
export function sectorDiskChecks(disk: SectorDisk): DeviceCheck[] {
  return [
    {
      name: 'the export is listed (nbdinfo --list)',
      async run(ctx) {
        const list = await NbdClient.list(await ctx.dial());
        const names = list.map((e) => e.name);
        if (!names.includes(ctx.exportName)) throw new CheckFailed(`'${ctx.exportName}' among the exports`, names.length ? names.map((n) => `'${n}'`).join(', ') : 'none');
      },
    },
    {
      name: `its size is ${disk.size} bytes, read-only`,
      async run(ctx) {
        const size = ctx.client.size;
        if (size !== BigInt(disk.size)) throw new CheckFailed(`a size of ${disk.size} bytes`, `${size} bytes`);
        if (!ctx.client.can(TxFlag.READ_ONLY)) throw new CheckFailed('a read-only export (no pwrite)', 'a writable one');
      },
    },
    {
      name: 'sectors of the first half say their numbers',
      async run(ctx) {
        const last = disk.dataEnd / SECTOR - 1;
        for (const n of [0, 1, 7, 100, last]) await expectBytes(ctx, disk, n * SECTOR, SECTOR);
        // A read that starts inside one sector and ends inside the next.
        await expectBytes(ctx, disk, 3 * SECTOR + 5, SECTOR);
        // A large read, as nbdcopy makes them.
        await expectBytes(ctx, disk, 0, 256 * 1024);
      },
    },
    {
      name: 'the second half reads as zeroes',
      async run(ctx) {
        await expectBytes(ctx, disk, disk.dataEnd, 64 * 1024);
        await expectBytes(ctx, disk, disk.size - SECTOR, SECTOR);
        await expectBytes(ctx, disk, disk.dataEnd - SECTOR, 2 * SECTOR);
      },
    },
    {
      name: 'block status: data, then a hole that reads as zeroes (nbdinfo --map)',
      async run(ctx) {
        const got = await allocationMap(ctx.client, disk.size);
        const want: Extent[] = [{ length: disk.dataEnd, flags: 0 }, { length: disk.size - disk.dataEnd, flags: State.HOLE | State.ZERO }];
        if (mapText(got) !== mapText(want)) throw new CheckFailed(mapText(want), mapText(got));
      },
    },
  ];
}
