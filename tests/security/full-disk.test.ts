import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { verifyAuditChain } from '../../agent/audit/log.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { diskReserve, RESERVE_FILE } from '../../agent/store/disk-space.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, memoryLogger, openTestAgent, runCli, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { NURSE, ADMIN, addTestUsers, signIn, type WebClient } from '../support/web.js';

/**
 * A full data disk, for real: the data folder is a small tmpfs, filled to
 * the last byte. Reading what is stored must go on (pages, PDFs, the API),
 * the reserve gives sign-in and printing room for a while, audit rows that
 * cannot be written are held and written once there is room, and what cannot
 * be saved is refused in words (507), never a 500.
 */
const mnt = tmpDir('pb-fulldisk-');
const CAN_MOUNT = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]).status === 0;
if (process.env.CI === 'true' && !CAN_MOUNT) throw new Error('the full-disk test needs to mount a tmpfs (run CI as root)');

/** Fill the disk until the file system says no more. */
function fill(name: string): void {
  const fd = fs.openSync(path.join(mnt, name), 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  // Then the last few bytes.
  const small = fs.openSync(path.join(mnt, `${name}.tail`), 'a');
  try {
    for (;;) fs.writeSync(small, Buffer.alloc(512, 1));
  } catch {
    /* full */
  } finally {
    fs.closeSync(small);
  }
}

describe.skipIf(!CAN_MOUNT)('a full data disk', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let app: FastifyInstance;
  let base: string;
  let nurse: WebClient;
  const mem = memoryLogger();
  beforeAll(async () => {
    his = (await startHis({ patients: 3 })).server;
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1') }, printers: { usb: 'id: usb\nname: USB stick\nkind: folder\nuri: usb-out\n' } });
    const yaml = path.join(dir, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('dataDir: data', `dataDir: ${mnt}\ndisk: { reserveMb: 4, lowWaterMb: 2 }`));
    a = openTestAgent(dir);
    const o = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    await addTestUsers(a.db);
    const reserve = diskReserve(mnt, { bytes: 4 * 1024 * 1024, lowWaterBytes: 2 * 1024 * 1024, log: mem.log });
    reserve.check({ make: true });
    expect(fs.existsSync(path.join(mnt, RESERVE_FILE))).toBe(true);
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: mem.log, reserve });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    nurse = await signIn(base, NURSE);
  });
  afterAll(async () => {
    await app?.close();
    a?.db.close();
    await his?.close();
    spawnSync('umount', [mnt]);
  });

  it('keeps serving and printing on the reserve, holds audit rows when even that is gone, and writes them when space returns', async () => {
    const patient = (await (await nurse.fetch('/api/wards/ward-1/census')).json()) as { patients: { key: string; mrn: string }[] };
    const key = patient.patients[0]!.key;
    const mrn = patient.patients[0]!.mrn;

    // 1. The disk fills. The next request gives up the reserve: sign-in and print requests still work.
    fill('filler-1');
    await new Promise((r) => setTimeout(r, 1100)); // the box looks at free space at most once a second
    expect((await nurse.fetch('/ward/ward-1')).status).toBe(200);
    expect(fs.existsSync(path.join(mnt, RESERVE_FILE))).toBe(false);
    expect(mem.lines.some((l) => l.includes('the reserve was released'))).toBe(true);
    const admin = await signIn(base, ADMIN);
    expect((await admin.fetch('/metrics')).status).toBe(200);
    expect(await (await admin.fetch('/metrics')).text()).toMatch(/paperback_disk_reserve_released 1/);
    const queued = await nurse.form('/print', { address: 'ward-1/census', printer: 'usb' });
    expect(queued.status).toBe(303);
    expect(a.db.prepare('SELECT COUNT(*) FROM print_jobs').pluck().get()).toBe(1);

    // 2. The reserve's room is used up too. Reading goes on; audit rows are held.
    fill('filler-2');
    const reads = [
      await nurse.fetch(`/ward/ward-1/patient/${key}`),
      await nurse.fetch(`/documents/ward-1/mar/${mrn}.pdf?download=1`),
      await nurse.fetch('/api/wards/ward-1/census?q=a'),
    ];
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await reads[1]!.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const held = Number(/paperback_audit_held (\d+)/.exec(await (await admin.fetch('/metrics')).text())?.[1]);
    expect(held).toBeGreaterThanOrEqual(3);
    // What cannot be saved is refused in words, not a 500.
    const login = await signIn(base, NURSE).catch((e: Error) => e.message);
    expect(String(login)).toMatch(/507 The box’s disk is full/);
    const print = await nurse.form('/print', { address: 'ward-1/census', printer: 'usb' });
    expect(print.status).toBe(507);
    expect(await print.text()).toMatch(/print a PDF from the browser/);
    // A run that cannot start for lack of space says so and leaves nothing marked running.
    await expect(runJob(a, 'ward-1', { trigger: 'manual' })).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(a.db.prepare("SELECT COUNT(*) FROM job_runs WHERE status = 'running'").pluck().get()).toBe(0);
    // The commands IT reaches for still start on a disk with no byte free.
    const status = await runCli(['--config', a.config.dir, 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('ward-1');
    const verify = await runCli(['--config', a.config.dir, 'verify']);
    expect(verify.stdout, verify.stderr).toMatch(/store OK/);
    // A file that cannot be written leaves no half-written temporary file behind.
    const tmpFiles = () => (fs.readdirSync(path.join(mnt, 'blobs'), { recursive: true }) as string[]).filter((f) => String(f).includes('.tmp-'));
    await expect(a.blobs.putAsync(crypto.randomBytes(300_000))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(() => a.blobs.put(crypto.randomBytes(300_000))).toThrow(/ENOSPC/);
    expect(tmpFiles()).toEqual([]);

    // 3. IT frees the disk: the held rows are written, in order, and the chain is whole.
    fs.rmSync(path.join(mnt, 'filler-1'));
    fs.rmSync(path.join(mnt, 'filler-2'));
    await new Promise((r) => setTimeout(r, 1100));
    expect((await nurse.fetch('/healthz')).status).toBe(200);
    expect(Number(/paperback_audit_held (\d+)/.exec(await (await admin.fetch('/metrics')).text())?.[1])).toBe(0);
    const rows = a.db.prepare("SELECT action, subject FROM audit_log WHERE actor = ? AND action IN ('view', 'download') ORDER BY id").all(NURSE.username) as { action: string; subject: string }[];
    expect(rows).toEqual(expect.arrayContaining([{ action: 'view', subject: `ward-1/patient/${key}` }, { action: 'download', subject: `ward-1/mar/${mrn}` }]));
    expect(verifyAuditChain(a.db).problems).toEqual([]);
  });
});
