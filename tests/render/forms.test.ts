import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { documentSpec } from '../../agent/render/documents.js';
import { loadForms } from '../../agent/render/forms.js';
import { loadTranslations } from '../../agent/render/i18n.js';
import { renderPdf } from '../../agent/render/pdf.js';
import { renderSnapshotDocuments } from '../../agent/render/snapshot-documents.js';
import { REPO, tmpDir } from '../support/fixtures.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_TOOLS = have('pdftotext') && have('qpdf') && have('pdftoppm');
const HAVE_ZBAR = have('zbarimg');
if (process.env.CI === 'true' && !(HAVE_TOOLS && HAVE_ZBAR)) throw new Error('poppler-utils, qpdf and zbar-tools are required in CI');

const NOW = new Date('2026-11-22T03:00:00Z');
const TEMPLATES = path.join(REPO, 'templates');
const w = generateHospital({ seed: 21, wards: 1, patientsPerWard: 3, now: NOW }).wards[0]!;
const snap: WardSnapshot = { ward: { id: w.id, name: 'Ward 1' }, asOf: NOW.toISOString(), source: { id: 'his', system: 'HIS', location: null }, beds: w.beds, patients: w.patients, warnings: [] };

/** Read every barcode on page 1 of a PDF back with zbar, as a scanner at the bedside would. */
function barcodesOf(pdf: Buffer): string[] {
  const dir = tmpDir('pb-bar-');
  fs.writeFileSync(path.join(dir, 'd.pdf'), pdf);
  execFileSync('pdftoppm', ['-r', '200', '-png', '-f', '1', '-l', '1', path.join(dir, 'd.pdf'), path.join(dir, 'p')]);
  const png = fs.readdirSync(dir).find((f) => f.endsWith('.png'))!;
  const res = spawnSync('zbarimg', ['--quiet', '--raw', path.join(dir, png)]);
  return res.stdout.toString().split('\n').filter(Boolean);
}

describe.skipIf(!HAVE_TOOLS)('forms and barcodes', () => {
  it('publishes the blank form as it is and a stamped copy per patient with label and marking on every page', async () => {
    expect(loadForms(TEMPLATES).map((f) => f.id)).toEqual(['vital-signs', 'fall-risk', 'downtime-mar', 'lab-request', 'radiology-request', 'pharmacy-order', 'transfer']);
    const out = await renderSnapshotDocuments(snap, { documents: ['census'], forms: ['vital-signs'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: TEMPLATES }, { renderedAt: NOW });
    const blank = out.find((a) => a.meta.address === 'blank/vital-signs')!;
    expect(blank.content).toEqual(fs.readFileSync(path.join(TEMPLATES, 'forms/vital-signs.pdf')));
    const p = snap.patients[0]!;
    const stamped = out.find((a) => a.meta.address === `form/vital-signs/${p.mrn}`)!;
    expect(stamped.meta.patientKey).toBe(p.mrn);
    const file = path.join(tmpDir('pb-form-'), 'f.pdf');
    fs.writeFileSync(file, stamped.content);
    execFileSync('qpdf', ['--check', file]);
    const text = execFileSync('pdftotext', ['-raw', file, '-']).toString().replace(/\s+/g, ' ');
    expect(text).toContain('PHIẾU THEO DÕI DẤU HIỆU SINH TỒN'); // the form itself is untouched
    expect(text).toContain(p.name!);
    expect(text).toContain(`MRN ${p.mrn}`);
    expect(text).toContain('DOWNTIME COPY · Data as of 22/11/2026 10:00 (GMT+7)');
    expect(out.filter((a) => a.meta.address.startsWith('form/vital-signs/'))).toHaveLength(snap.patients.length);
  });

  it.skipIf(!HAVE_ZBAR)('ships the downtime requisitions, stamped per patient with a barcode that scans, and a blank-only MAR for new admissions', async () => {
    const forms = ['downtime-mar', 'lab-request', 'radiology-request', 'pharmacy-order', 'transfer'];
    const out = await renderSnapshotDocuments(snap, { documents: ['census'], forms, language: 'vi', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: TEMPLATES }, { renderedAt: NOW });
    for (const id of forms) expect(out.some((a) => a.meta.address === `blank/${id}`), id).toBe(true);
    // A new admission has no record to stamp: the blank MAR is blank only.
    expect(out.filter((a) => a.meta.address.startsWith('form/downtime-mar/'))).toHaveLength(0);
    const mar = execFileSync('pdftotext', ['-raw', '-', '-'], { input: out.find((a) => a.meta.address === 'blank/downtime-mar')!.content }).toString().replace(/\s+/g, ' ');
    expect(mar).toContain('DỊ ỨNG / ALLERGIES');
    expect(mar).toContain('Số tạm / Downtime no.');
    const p = snap.patients[2]!;
    for (const id of forms.slice(1)) {
      const stamped = out.find((a) => a.meta.address === `form/${id}/${p.mrn}`)!;
      const text = execFileSync('pdftotext', ['-raw', '-', '-'], { input: stamped.content }).toString().replace(/\s+/g, ' ');
      expect(text, id).toContain(p.name!);
      expect(text, id).toContain('(DỰ PHÒNG)');
      expect(barcodesOf(stamped.content), id).toEqual([p.mrn]);
    }
  });

  it.skipIf(!HAVE_ZBAR)('the MRN barcode scans back from a printed MAR and a stamped form', async () => {
    const p = snap.patients[1]!;
    const t = loadTranslations(TEMPLATES, 'en');
    const { pdf } = await renderPdf(documentSpec('mar', snap, p, { t, templatesDir: TEMPLATES, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', size: 'A4', renderedAt: NOW }));
    expect(barcodesOf(pdf)).toEqual([p.mrn]);
    const out = await renderSnapshotDocuments(snap, { documents: ['census'], forms: ['fall-risk'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: TEMPLATES }, { renderedAt: NOW });
    expect(barcodesOf(out.find((a) => a.meta.address === `form/fall-risk/${p.mrn}`)!.content)).toEqual([p.mrn]);
  });
});
