import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { openDb } from '../../agent/store/db.js';
import { runJob } from '../../agent/schedule/run.js';
import { claimJob, enqueuePrint, getPrintJob, printJobEvents } from '../../agent/print/queue.js';
import { getPrinterStatus, submitPdf } from '../../agent/print/ipp.js';
import { ippJobName } from '../../agent/print/worker.js';
import { resolveDocument } from '../../agent/print/resolve.js';
import { printMarkingText } from '../../agent/print/marking.js';
import { loadTranslations } from '../../agent/render/i18n.js';
import { currentSnapshot } from '../../agent/store/snapshots.js';
import { startPrintWorker, type PrintWorkerDeps } from '../../agent/print/worker.js';
import { jobYaml, openTestAgent, runCli, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { HAVE_CUPSD, HAVE_IPPEVEPRINTER, REQUIRE_PEERS, freePort, startCups, startIppPrinter, type IppPrinterHandle } from '../support/printers.js';

if (REQUIRE_PEERS && !HAVE_IPPEVEPRINTER) throw new Error('ippeveprinter (cups-ipp-utils) is required in CI; .ci/run installs it');

const printerYaml = (id: string, uri: string, extra = '') => `id: ${id}\nname: Printer ${id}\nuri: ${uri}\ndefaults: { media: iso_a4_210x297mm }\n${extra}`;

let his: FhirTestServer;
let patients: { mrn: string | null; name: string | null }[];
beforeAll(async () => {
  const h = await startHis({ patients: 4 });
  his = h.server;
  patients = h.hospital.wards[0]!.patients;
});
afterAll(async () => {
  await his.close();
});

/** A config folder with these printers and a published snapshot to print from. */
async function agentWith(printers: Record<string, string>): Promise<TestAgent> {
  const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1') }, printers }));
  const o = await runJob(a, 'ward-1', { trigger: 'manual' });
  expect(o.status, o.error ?? '').toBe('succeeded');
  return a;
}

const fast = (a: TestAgent, extra: Partial<PrintWorkerDeps> = {}) =>
  startPrintWorker({ db: a.db, blobs: a.blobs, printers: () => a.config.printers, configDir: a.config.dir, log: a.log, pollMs: 100, backoffMs: () => 150, ...extra });

function queue(a: TestAgent, address: string, printerId: string, copies = 1): number {
  const d = resolveDocument(a.config, a.db, a.blobs, address);
  return enqueuePrint(a.db, { artifactId: d.artifact.id, sha256: d.artifact.sha256, address, jobName: d.printJobName, printerId, copies, requestedBy: 'test-nurse' });
}

describe.skipIf(!HAVE_IPPEVEPRINTER)('printing to a real IPP printer (ippeveprinter)', () => {
  const printers: IppPrinterHandle[] = [];
  const printer = async (o: Parameters<typeof startIppPrinter>[0] = {}) => {
    const p = await startIppPrinter({ command: '/bin/true', ...o });
    printers.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of printers) await p.stop();
  });

  it('prints a MAR: the printer receives the same bytes, under a name staff recognise', async () => {
    const p = await printer();
    const a = await agentWith({ ward: printerYaml('ward', p.uri) });
    const mrn = patients[0]!.mrn!;
    const id = queue(a, `ward-1/mar/${mrn}`, 'ward');
    const w = fast(a);
    const job = await w.waitFor(id, 30_000);
    await w.stop();
    expect(job.state, job.error ?? '').toBe('completed');
    const [file] = p.received();
    const art = resolveDocument(a.config, a.db, a.blobs, `ward-1/mar/${mrn}`).artifact;
    expect(fs.readFileSync(file!)).toEqual(a.blobs.get(art.sha256));
    // The printer's job name has ward, document and initials, never the full name.
    expect(job.jobName).toMatch(/^ward-1 mar [A-Z]{2,4} bed \S+$/);
    expect(job.jobName).not.toContain(patients[0]!.name!);
    expect(path.basename(file!)).toContain(job.jobName.toLowerCase().replace(/ /g, '_'));
    expect(printJobEvents(a.db, id).map((e) => e.state)).toEqual(['queued', 'sending', 'processing', 'completed']);
  });

  it('stamps every page the printer receives with where the data came from, a lookup code, when and by whom; the stored PDF stays as it was', async () => {
    const p = await printer();
    const a = await agentWith({ ward: printerYaml('ward', p.uri) });
    const id = queue(a, 'ward-1/census', 'ward');
    const marking = printMarkingText(a.db, loadTranslations(a.config.templatesDir, 'vi'), a.config.box.timeZone);
    // The marking's time fixed, not the worker's clock: a worker on a fixed clock would not see a job queued later.
    const w = fast(a, { marking: (job) => marking(job, new Date('2026-12-05T02:30:00Z')) });
    const job = await w.waitFor(id, 30_000);
    await w.stop();
    expect(job.state, job.error ?? '').toBe('completed');
    const [file] = p.received();
    const art = resolveDocument(a.config, a.db, a.blobs, 'ward-1/census').artifact;
    const snapshotId = currentSnapshot(a.db, 'ward-1')!.id;
    const pages = execFileSync('pdftotext', ['-layout', file!, '-'], { encoding: 'utf8' }).split('\f').filter((t) => t.trim());
    const pageCount = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file!], { encoding: 'utf8' }))![1]);
    expect(pages.length).toBe(pageCount);
    for (const page of pages) {
      expect(page.replace(/\s+/g, ' ')).toContain(`Bản in từ hồ sơ điện tử FHIR server · mã tra cứu S${snapshotId}-${art.sha256.slice(0, 8)} · in lúc 05/12/2026 09:30 (GMT+7) · người in test-nurse`);
    }
    // The stored document is the one the snapshot published, unstamped.
    expect(execFileSync('pdftotext', ['-', '-'], { input: a.blobs.get(art.sha256), encoding: 'utf8' })).not.toContain('mã tra cứu');
  });

  it('keeps retrying while the printer is unreachable and prints when it is back', async () => {
    const p = await printer();
    await p.stop();
    const a = await agentWith({ ward: printerYaml('ward', p.uri) });
    const id = queue(a, 'ward-1/census', 'ward');
    const w = fast(a);
    const until = Date.now() + 10_000;
    while ((getPrintJob(a.db, id)!.attempts ?? 0) < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(getPrintJob(a.db, id)).toMatchObject({ state: 'queued', error: expect.stringMatching(/cannot reach printer ward/) });
    await p.start();
    const job = await w.waitFor(id, 30_000);
    await w.stop();
    expect(job.state).toBe('completed');
    expect(p.received()).toHaveLength(1);
  });

  it('moves a job the printer aborts to the fallback printer', async () => {
    const bad = await printer({ command: '/bin/false' });
    const good = await printer();
    const a = await agentWith({ ward: printerYaml('ward', bad.uri, 'fallback: spare\nfailoverAfter: 2\n'), spare: printerYaml('spare', good.uri) });
    const id = queue(a, 'ward-1/census', 'ward');
    const w = fast(a);
    const job = await w.waitFor(id, 30_000);
    await w.stop();
    expect(job).toMatchObject({ state: 'completed', printerId: 'ward', currentPrinterId: 'spare' });
    const events = printJobEvents(a.db, id);
    expect(events.filter((e) => /aborted the job/.test(e.detail ?? ''))).toHaveLength(2);
    expect(events.some((e) => /failover from ward to spare/.test(e.detail ?? ''))).toBe(true);
    expect(good.received()).toHaveLength(1);
  });

  it('gives up after the last attempt and keeps the job, failed, with the reason', async () => {
    const a = await agentWith({ ward: printerYaml('ward', `ipp://127.0.0.1:${await freePort()}/ipp/print`) });
    const id = queue(a, 'ward-1/census', 'ward');
    const w = fast(a, { maxAttempts: 3 });
    const job = await w.waitFor(id, 30_000);
    await w.stop();
    expect(job).toMatchObject({ state: 'failed', attempts: 3, error: expect.stringMatching(/cannot reach printer ward/) });
  });

  it('says clearly when a printer does not accept PDF, and points to CUPS', async () => {
    const p = await printer({ formats: 'image/pwg-raster' });
    const a = await agentWith({ ward: printerYaml('ward', p.uri) });
    const id = queue(a, 'ward-1/census', 'ward');
    const w = fast(a);
    const job = await w.waitFor(id, 30_000);
    await w.stop();
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/does not accept PDF.*through a CUPS queue/);
    expect(p.received()).toHaveLength(0);
  });

  it('resumes queued jobs after the agent restarts, including one caught mid-send', async () => {
    const p = await printer();
    const a = await agentWith({ ward: printerYaml('ward', p.uri) });
    const ids = [queue(a, 'ward-1/census', 'ward'), queue(a, `ward-1/mar/${patients[1]!.mrn}`, 'ward'), queue(a, `ward-1/mar/${patients[2]!.mrn}`, 'ward', 2), queue(a, `ward-1/mar/${patients[3]!.mrn}`, 'ward')];
    // The agent died while sending the first one, before the printer had it ...
    claimJob(a.db, ids[0]!);
    // ... and just after the printer accepted the fourth, before it could write that down.
    claimJob(a.db, ids[3]!);
    const fourth = getPrintJob(a.db, ids[3]!)!;
    const cfg = a.config.printers.get('ward')!;
    await submitPdf(cfg, a.config.dir, a.blobs.get(fourth.sha256), { jobName: ippJobName(fourth), user: 'test', copies: 1, media: cfg.defaults.media, sides: cfg.defaults.sides }, await getPrinterStatus(cfg, a.config.dir));
    a.db.close();
    const db = openDb(a.config.dataDir);
    const w = startPrintWorker({ db, blobs: a.blobs, printers: () => a.config.printers, configDir: a.config.dir, log: a.log, pollMs: 100 });
    const jobs = await Promise.all(ids.map((id) => w.waitFor(id, 30_000)));
    await w.stop();
    expect(jobs.map((j) => j.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(printJobEvents(db, ids[0]!).some((e) => /resumed after a restart; the printer does not have it, sending again/.test(e.detail ?? ''))).toBe(true);
    // The printer had the fourth (by its tagged name): followed, not sent twice.
    expect(printJobEvents(db, ids[3]!).some((e) => /found at ward as job \d+ after a restart: not sent again/.test(e.detail ?? ''))).toBe(true);
    expect(p.received()).toHaveLength(4);
    db.close();
  });

  it('`paperback printers` shows live state and `paperback print` waits for completion', async () => {
    const p = await printer();
    const a = await agentWith({ ward: printerYaml('ward', p.uri), usb: 'id: usb\nname: USB stick\nkind: folder\nuri: usb-out\n' });
    a.db.close();
    const list = await runCli(['--config', a.config.dir, 'printers', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout);
    expect(rows.find((r: { id: string }) => r.id === 'ward').status).toMatchObject({ reachable: true, state: 'idle', accepting: true, formats: expect.arrayContaining(['application/pdf']) });
    const res = await runCli(['--config', a.config.dir, 'print', `ward-1/mar/${patients[3]!.mrn}`, '--printer', 'ward']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/completed on ward/);
    expect(p.received()).toHaveLength(1);
    const usb = await runCli(['--config', a.config.dir, 'print', 'ward-1/census', '--printer', 'usb', '--copies', '2']);
    expect(usb.code, usb.stderr).toBe(0);
    const written = fs.readdirSync(path.join(a.config.dir, 'usb-out')).filter((f) => f.endsWith('.pdf'));
    expect(written).toHaveLength(2);
    // Patient data on a stick: readable by the agent's user only.
    for (const f of written) expect(fs.statSync(path.join(a.config.dir, 'usb-out', f)).mode & 0o777).toBe(0o600);
    const missing = await runCli(['--config', a.config.dir, 'print', 'ward-1/mar/NOPE', '--printer', 'ward']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/no document "mar\/NOPE"/);
  });
});

if (REQUIRE_PEERS && !HAVE_CUPSD) throw new Error('cupsd is required in CI; .ci/run installs cups');

describe.skipIf(!HAVE_IPPEVEPRINTER || !HAVE_CUPSD)('printing through a real CUPS queue', () => {
  it('prints through CUPS, waits while the queue is paused, and completes when resumed', async () => {
    const device = await startIppPrinter({ command: '/bin/true' });
    const cups = await startCups();
    try {
      cups.addQueue('Ward3', device.uri);
      const a = await agentWith({ ward: printerYaml('ward', cups.queueUri('Ward3')) });
      const w = fast(a);
      const first = await w.waitFor(queue(a, 'ward-1/census', 'ward'), 60_000);
      expect(first.state, first.error ?? '').toBe('completed');
      cups.disable('Ward3');
      const id = queue(a, 'ward-1/census', 'ward');
      const until = Date.now() + 10_000;
      while (!/stopped \(paused\)/.test(getPrintJob(a.db, id)!.error ?? '') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(getPrintJob(a.db, id)).toMatchObject({ state: 'queued', error: expect.stringMatching(/printer ward is stopped \(paused\)/) });
      cups.enable('Ward3');
      const second = await w.waitFor(id, 60_000);
      await w.stop();
      expect(second.state).toBe('completed');
      // CUPS passes the document on (re-written by its PDF filter): check what the device got.
      const got = device.received();
      expect(got.length).toBe(2);
      const text = execFileSync('pdftotext', ['-layout', got[0]!, '-']).toString();
      expect(text).toMatch(/DOWNTIME COPY/);
    } finally {
      await cups.stop();
      await device.stop();
    }
  });
});
