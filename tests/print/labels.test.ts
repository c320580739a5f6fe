import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from 'zpl-renderer-js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { startDowntime, endDowntime } from '../../agent/outage/downtime.js';
import { getPrintJob } from '../../agent/print/queue.js';
import { startPrintWorker, type PrintWorker } from '../../agent/print/worker.js';
import { runJob } from '../../agent/schedule/run.js';
import { syncConfiguredRanges } from '../../agent/store/downtime-numbers.js';
import { buildWebServer } from '../../agent/web/server.js';
import { listAudit } from '../../agent/audit/log.js';
import { jobYaml, openTestAgent, runByHandOnly, startHis, tmpDir, waitFor, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { REQUIRE_PEERS } from '../support/printers.js';
import { addTestUsers, NURSE, signIn, type WebClient } from '../support/web.js';

/**
 * Wristbands and labels as a nurse prints them from the page, read back off
 * what the printer received: ZPL captured by a raw TCP 9100 listener and
 * rendered by zpl-renderer-js (Zebrash), PDFs by poppler; barcodes by
 * zbarimg, the Vietnamese name by tesseract (its Vietnamese data) or pdftotext.
 */
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_TOOLS = have('zbarimg') && have('pdftoppm') && have('pdftotext') && have('tesseract');
if (REQUIRE_PEERS && !HAVE_TOOLS) throw new Error('zbarimg, poppler and tesseract are required in CI');

const NAME = 'Nguyễn Thị Hồng Ngọc';

/** A raw TCP printer on loopback: keeps what each connection sent. */
async function rawPrinter(): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => {
      received.push(Buffer.concat(chunks));
      socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, received, close: () => new Promise((r) => server.close(() => r())) };
}

const work = tmpDir('pb-labels-');
const file = (name: string, data: Buffer | string) => {
  const f = path.join(work, name);
  fs.writeFileSync(f, data);
  return f;
};
const zbar = (png: string) => execFileSync('zbarimg', ['-q', '--raw', png], { encoding: 'utf8' }).trim().split('\n');
const ocr = (png: string) => execFileSync('tesseract', [png, '-', '-l', 'vie', '--psm', '6'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

async function zplToPng(zpl: Buffer, widthMm: number, heightMm: number, dpmm: number, name: string): Promise<string> {
  const { api } = await ready;
  return file(name, Buffer.from(await api.zplToBase64Async(zpl.toString('latin1'), widthMm, heightMm, dpmm), 'base64'));
}

let his: FhirTestServer;
let a: TestAgent;
let app: FastifyInstance;
let worker: PrintWorker;
let zplLabels: Awaited<ReturnType<typeof rawPrinter>>;
let zplBands: Awaited<ReturnType<typeof rawPrinter>>;
let nurse: WebClient;
let patient: { key: string; mrn: string };
const laserDir = path.join(work, 'laser');

describe.skipIf(!HAVE_TOOLS)('wristbands and labels from the ward page', () => {
  beforeAll(async () => {
    const h = await startHis({ patients: 4, now: new Date() });
    his = h.server;
    const p = h.hospital.wards[0]!.patients[1]!;
    const fhirPatient = await his.repo.readResource('Patient', p.id);
    await his.repo.updateResource({ ...fhirPatient, name: [{ use: 'official', text: NAME, family: 'Nguyễn', given: ['Thị', 'Hồng', 'Ngọc'] }] });
    patient = { key: p.mrn!, mrn: p.mrn! };
    zplLabels = await rawPrinter();
    zplBands = await rawPrinter();
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: his.url,
      jobs: { 'ward-1': runByHandOnly(jobYaml('ward-1', 'downtime: { print: [census], printer: laser }\n')) },
      printers: {
        labels: `id: labels\nname: Label printer 3A\nkind: zpl\nuri: socket://127.0.0.1:${zplLabels.port}\nlabel: { widthMm: 50, heightMm: 25, dpmm: 12 }\n`,
        bands: `id: bands\nname: Wristband printer 3A\nkind: zpl\nuri: socket://127.0.0.1:${zplBands.port}\nwristband: { widthMm: 25, lengthMm: 279, dpmm: 8 }\n`,
        // A thermal printer that is switched off, with the ward's laser printer behind it.
        dead: `id: dead\nname: Label printer (off)\nkind: zpl\nuri: socket://127.0.0.1:9\nlabel: { widthMm: 50, heightMm: 25 }\nfallback: laser\nfailoverAfter: 1\n`,
        laser: `id: laser\nname: Ward laser\nkind: folder\nuri: ${laserDir}\n`,
      },
      extraSource: 'downtimeNumbers: { ranges: [ { prefix: "DT3A-", from: 1, to: 2, digits: 4 } ] }\n',
    });
    a = openTestAgent(dir);
    syncConfiguredRanges(a.db, a.config.box.downtimeNumbers.ranges);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    worker = startPrintWorker({ db: a.db, blobs: a.blobs, printers: () => a.config.printers, configDir: dir, log: a.log, pollMs: 100, backoffMs: () => 100 });
    await addTestUsers(a.db);
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, kickPrinter: () => worker.kick() });
    nurse = await signIn(await app.listen({ host: '127.0.0.1', port: 0 }), NURSE);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await worker?.stop();
    await zplLabels?.close();
    await zplBands?.close();
    await his?.close();
  });

  /** Submit the label form as the page does and wait for the queue to finish the job. */
  async function printLabel(fields: Record<string, string>): Promise<ReturnType<typeof getPrintJob>> {
    const res = await nurse.form('/ward/ward-1/labels', fields);
    expect(res.status, await res.clone().text()).toBe(303);
    const id = Number(/\/print-jobs\/(\d+)/.exec(res.headers.get('location') ?? '')?.[1]);
    await worker.waitFor(id, 20_000);
    return getPrintJob(a.db, id);
  }

  it('prints labels for a patient on the census on a thermal printer: the barcode scans and the name reads back', async () => {
    const page = await (await nurse.fetch(`/ward/ward-1/patient/${patient.key}`)).text();
    const link = /href="(\/ward\/ward-1\/labels[^"]+)"/.exec(page)?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    expect(link, 'the patient page links to her wristband and labels').toBe(`/ward/ward-1/labels?patient=${patient.key}`);
    const form = await (await nurse.fetch(link!)).text();
    expect(form).toContain(NAME);
    // A printer with labels loaded comes first and is chosen; the wristband printer is not offered for labels.
    expect(form).toMatch(/name="printer" value="(labels|dead)" checked/);
    expect(form).toContain('value="labels"');
    const job = await printLabel({ patient: patient.key, what: 'labels', count: '2', printer: 'labels' });
    expect(job).toMatchObject({ state: 'completed', reason: 'label' });
    expect(zplLabels.received).toHaveLength(1);
    const zpl = zplLabels.received[0]!.toString('latin1');
    // Two labels of one format; no text left to the printer's fonts (which have no Vietnamese): only pictures and the barcode.
    expect(zpl).toMatch(/^\^XA/);
    expect(zpl).toContain('^PQ2^XZ');
    expect(zpl).not.toMatch(/\^A[0-9A-Z@]/);
    expect(zpl.match(/\^FD/g)).toHaveLength(1);
    const png = await zplToPng(zplLabels.received[0]!, 50, 25, 12, 'label.png');
    expect(zbar(png)).toEqual([patient.mrn]);
    const text = ocr(png);
    // Tesseract reads the stacked marks of "Hồng" and "Ngọc"; at this size it takes the tilde of "ễ" for a plain "ê".
    expect(text).toMatch(/Nguy[ễê]n Thị Hồng Ngọc/);
    expect(text).toContain(`MRN ${patient.mrn}`);
    const audit = listAudit(a.db, { limit: 50 }).filter((r) => r.action === 'label-print');
    expect(audit.map((r) => [r.actor, r.subject])).toEqual([[NURSE.username, `ward-1/patient/${patient.key}`]]);
  });

  it('prints a wristband whose barcode is a ladder across the band, and scans', async () => {
    const job = await printLabel({ patient: patient.key, what: 'wristband', count: '1', printer: 'bands' });
    expect(job?.state).toBe('completed');
    const png = await zplToPng(zplBands.received[0]!, 25, 279, 8, 'band.png');
    // Read as printed (the band lying along the page): the bars run along the band, so the scan line crosses it.
    expect(zbar(png)).toEqual([patient.mrn]);
  });

  it('prints a sheet of 3 × 8 labels on the ward laser: every label has the name, the allergy line and a barcode that scans', async () => {
    const job = await printLabel({ patient: patient.key, what: 'labels', count: '24', printer: 'laser' });
    expect(job?.state).toBe('completed');
    const pdf = path.join(laserDir, fs.readdirSync(laserDir).find((f) => f.startsWith(String(job!.id).padStart(6, '0')))!);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(text.split(NAME).length - 1).toBe(24);
    expect(text.match(/ALLERGY: |NKA|ALLERGIES UNKNOWN/g)?.length).toBe(24);
    // Each cell on its own, at 300 dpi: 70 × 37.1 mm is 827 × 438 dots.
    let scanned = 0;
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 3; c++) {
        const base = path.join(work, `cell-${r}-${c}`);
        execFileSync('pdftoppm', ['-r', '300', '-png', '-singlefile', '-x', String(c * 827), '-y', String(Math.round(r * 438.4)), '-W', '827', '-H', '438', pdf, base]);
        if (zbar(`${base}.png`)[0] === patient.mrn) scanned++;
      }
    }
    expect(scanned).toBe(24);
  });

  it('a label job for a thermal printer that is off is retried, then prints on its fallback as an A4 sheet', async () => {
    const job = await printLabel({ patient: patient.key, what: 'labels', count: '3', printer: 'dead' });
    expect(job).toMatchObject({ state: 'completed', currentPrinterId: 'laser', printerId: 'dead' });
    const pdf = path.join(laserDir, fs.readdirSync(laserDir).find((f) => f.startsWith(String(job!.id).padStart(6, '0')))!);
    expect(execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).split(NAME).length - 1).toBe(3);
  });

  it('admits a patient during a downtime: a downtime number, then her wristband and labels; none outside a downtime, none once they run out', async () => {
    const admit = (fields: Record<string, string>) => nurse.form('/ward/ward-1/admit', fields);
    const refusedOutside = await admit({ family: 'Trần', given: 'Văn Bình', birthDate: '1950', sex: 'male', bed: '7' });
    expect(refusedOutside.status).toBe(409);
    expect(await refusedOutside.text()).toMatch(/No downtime is running/);
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'test', declaredBy: 'it.admin' }, new Date());
    try {
      const future = await admit({ family: 'Trần', given: 'Văn Bình', birthDate: '2999-01-01', sex: 'male', bed: '7' });
      expect(future.status).toBe(400);
      const res = await admit({ family: 'Trần', given: 'Văn Bình', birthDate: '1950', sex: 'male', bed: '7' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/ward/ward-1/labels?number=DT3A-0001');
      const census = await (await nurse.fetch('/ward/ward-1')).text();
      expect(census).toMatch(/DT3A-0001<\/strong> · Trần Văn Bình · Bed 7/);
      const job = await printLabel({ number: 'DT3A-0001', what: 'wristband', count: '1', printer: 'laser' });
      expect(job?.state).toBe('completed');
      const pdf = path.join(laserDir, fs.readdirSync(laserDir).find((f) => f.startsWith(String(job!.id).padStart(6, '0')))!);
      const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
      expect(text).toContain('Trần Văn Bình');
      expect(text).toContain('Downtime no. DT3A-0001');
      // Nobody has asked the HIS about her allergies: the band says so, never nothing.
      expect(text).toContain('ALLERGIES UNKNOWN: ask before giving drugs');
      expect(text).toContain('entered on this box during a downtime');
      execFileSync('pdftoppm', ['-r', '300', '-png', '-singlefile', pdf, path.join(work, 'a4band')]);
      expect(zbar(path.join(work, 'a4band.png'))).toEqual(['DT3A-0001']);
      expect((await admit({ family: 'Lê', given: 'Thị Mai', birthDate: '1987-11-30', sex: 'female', bed: '8' })).headers.get('location')).toMatch(/DT3A-0002$/);
      const none = await admit({ family: 'Phạm', given: 'An', birthDate: '2001-05-05', sex: 'unknown', bed: '9' });
      expect(none.status).toBe(409);
      expect(await none.text()).toMatch(/no downtime numbers left/);
      const audit = listAudit(a.db, { limit: 100 }).filter((r) => r.action === 'downtime-admission');
      expect(audit.map((r) => r.subject)).toEqual(['ward-1/admission/DT3A-0001', 'ward-1/admission/DT3A-0002']);
    } finally {
      endDowntime(a.db, dt.id, 'it.admin', 'test over', new Date());
    }
  });
});
