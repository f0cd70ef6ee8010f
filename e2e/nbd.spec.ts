// The NBD page against a real nbdkit: a disk image with an MBR, one Linux partition holding ext4
// ("pagefs") and a marker in sector 1, served by `nbdkit file` on loopback and reached through a
// serve of the spec's own (`--backend disk=nbd:...`) over the gateway. The page lists the export,
// shows its size and flags, draws the allocation map naming the partition and the file system,
// pages the hex view to known bytes, and follows the trace.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Peer, PEER_ENV, startNbdkit, startServeNbd } from '../test/support/nbd.ts';
import { type Playground, startPlayground } from '../test/support/playground.ts';
import { expect, test } from './fixtures.ts';

const SIZE = 8 * 1024 * 1024;
const PART_START = 2048;                 // sectors: the partition starts at 1 MiB
const MARKER = 'styxlab NBD page marker, sector 1';
const OUT = join(process.cwd(), 'test-results', 'nbd-shots');

let dir = '';
let nbdkit: Peer | null = null;
let serve: Playground | null = null;
let styxNbd: Peer | null = null;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'styxlab-nbd-page-'));
  const image = join(dir, 'disk.img');
  const mbr = Buffer.alloc(1024);
  const e = 446;
  mbr[e + 4] = 0x83;
  mbr.writeUInt32LE(PART_START, e + 8);
  mbr.writeUInt32LE(SIZE / 512 - PART_START, e + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  mbr.write(MARKER, 512, 'latin1');
  const fd = openSync(image, 'w');
  writeSync(fd, mbr, 0, mbr.length, 0);
  ftruncateSync(fd, SIZE);
  closeSync(fd);
  const mkfs = spawnSync('mkfs.ext4', ['-q', '-F', '-L', 'pagefs', '-E', `offset=${PART_START * 512}`, image, String((SIZE - PART_START * 512) / 1024)], { env: PEER_ENV, encoding: 'utf8' });
  if (mkfs.status !== 0) throw new Error(`mkfs.ext4: ${mkfs.stderr}`);
  nbdkit = await startNbdkit(['file', image]);
  // A second backend with named exports: styxlab's own NBD server.
  styxNbd = await startServeNbd(['--nbd-export', 'big=memory:64M', '--nbd-export', 'small=memory:1M,ro']);
  serve = await startPlayground([
    '--backend', `disk=nbd:tcp!127.0.0.1!${nbdkit.port}`, '--backend', `named=nbd:tcp!127.0.0.1!${styxNbd.port}`,
  ]);
});

test.afterAll(async () => {
  await serve?.stop();
  await nbdkit?.stop();
  await styxNbd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the NBD page: export info, allocation map with partition and file system, hex sectors, trace', async ({ page, errors }) => {
  void errors;
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`${serve!.url}/nbd.html`);
  await expect(page.locator('#nbd-backend')).toHaveValue('disk');
  await expect(page.locator('#nbd-status')).toContainText('disk: 1 export listed');
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.locator('#nbd-status')).toContainText('connected to disk: 8MB');

  const info = page.locator('#nbd-info');
  await expect(info).toContainText(`${SIZE} bytes (8M, ${SIZE / 512} sectors)`);
  await expect(info.locator('tr', { hasText: 'flags' })).toContainText('HAS_FLAGS');
  await expect(info.locator('tr', { hasText: 'block size' })).toContainText(/minimum \d+, preferred \d+, maximum \d+|not announced/);
  await expect(info.locator('tr', { hasText: 'base:allocation' })).toContainText('context id');

  // The map: the MBR's one partition, named with its ext4 file system and label.
  await expect(page.locator('#nbd-label')).toContainText('MBR partition table, 1 partition: 1 Linux');
  await expect(page.locator('#nbd-label')).toContainText('ext4 “pagefs”');
  const map = page.locator('#nbd-map');
  await expect(map.locator('rect[data-partition="1"]')).toHaveCount(1);
  const onMap = map.locator('.map-part[data-partition="1"]');
  await expect(onMap).toContainText('1: Linux');
  await expect(onMap).toContainText('ext4 “pagefs”');
  await expect(onMap).toBeInViewport();
  // A sparse image: mkfs wrote some blocks, the rest are holes.
  await expect(map.locator('rect[data-kind="data"]').first()).toBeAttached();
  await expect(map.locator('rect[data-kind="hole"]').first()).toBeAttached();
  await expect(page.locator('#nbd-parts tbody')).toContainText(`${PART_START * 512} (sector ${PART_START})`);

  // Hex: sector 0 ends with the boot signature; sector 1 holds the marker; the partition's
  // superblock (1 KiB in) has ext's magic 53 ef at 0x38 and the label at 0x78.
  const hex = page.locator('#nbd-hex');
  await expect(hex).toHaveAttribute('data-sector', '0');
  await expect(hex).toContainText(/000001f0  (00 ){8} (00 ){6}55 aa  \|/);
  await page.locator('#nbd-next').click();
  await expect(hex).toHaveAttribute('data-sector', '1');
  await expect(hex).toContainText('|styxlab NBD page|');
  await page.locator('#nbd-sector').fill(String(PART_START + 2));
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(hex).toHaveAttribute('data-sector', String(PART_START + 2));
  await expect(hex).toContainText(/00100430  .{24} 53 ef /);
  await expect(hex).toContainText(/00100470  .*\|.{8}pagefs/);
  await page.locator('#nbd-prev').click();
  await expect(hex).toHaveAttribute('data-sector', String(PART_START + 1));
  // A click halfway along the map shows the sector halfway into the disk.
  const box = map.locator('.map-box');
  const bb = (await box.boundingBox())!;
  await box.click({ position: { x: bb.width / 2, y: 60 } });
  await expect(hex).not.toHaveAttribute('data-sector', String(PART_START + 1));
  const shown = Number(await hex.getAttribute('data-sector'));
  const half = SIZE / 512 / 2;
  expect(Math.abs(shown - half), `sector ${shown} after a click halfway`).toBeLessThan(SIZE / 512 / bb.width + 2);
  await page.locator('#nbd-sector').fill(String(PART_START + 1));
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(hex).toHaveAttribute('data-sector', String(PART_START + 1));

  // The trace follows the handshake, the block status and the reads.
  const trace = page.locator('#nbd-trace');
  await expect(trace).toContainText('Opt.List()');
  await expect(trace).toContainText('Opt.Go(');
  await expect(trace).toContainText('Chunk.BlockStatus(');
  await expect(trace).toContainText(`Cmd.Read(`);

  await page.screenshot({ path: join(OUT, '1400x900.png') });
  await page.setViewportSize({ width: 800, height: 600 });
  await page.screenshot({ path: join(OUT, '800x600.png'), fullPage: true });
});

test('the NBD page picks a backend and one of its listed exports', async ({ page, errors }) => {
  void errors;
  // Reached from the playground's welcome.
  await page.goto(`${serve!.url}/`);
  await page.locator('#welcome').getByRole('link', { name: 'the NBD panel' }).click();
  await expect(page).toHaveURL(/\/nbd\.html$/);
  await expect(page.locator('#nbd-status')).toContainText('disk: 1 export listed');
  await page.locator('#nbd-backend').selectOption('named');
  await expect(page.locator('#nbd-status')).toContainText('named: 2 exports listed');
  await expect(page.locator('#nbd-export option')).toHaveText([/^\(default\)$/, /^big/, /^small/]);
  await page.locator('#nbd-export').selectOption('small');
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.locator('#nbd-status')).toContainText('connected to named/small: 1MB');
  const info = page.locator('#nbd-info');
  await expect(info.locator('tr', { hasText: 'export' }).first()).toContainText('small');
  await expect(info).toContainText('1048576 bytes (1M, 2048 sectors)');
  await expect(info.locator('tr', { hasText: 'read-only' })).toContainText('yes');
  await expect(page.locator('#nbd-label')).toContainText('no partition table or file system recognised');
  await expect(page.locator('#nbd-hex')).toHaveAttribute('data-sector', '0');
  await expect(page.locator('#nbd-hex')).toContainText('000001f0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|');
  await expect(page.locator('#nbd-trace')).toContainText('Opt.Go("small"');
});
