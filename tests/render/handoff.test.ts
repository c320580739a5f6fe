import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import { patientsInBedOrder } from '../../agent/model/helpers.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { documentSpec, planDocuments, snapshotFor, type RenderContext } from '../../agent/render/documents.js';
import { loadTranslations } from '../../agent/render/i18n.js';
import { renderPdf } from '../../agent/render/pdf.js';
import { REPO } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * The shift handoff sheet, read back from the PDF: every patient in bed
 * order (one with no bed too), a few per landscape page, code status and
 * allergies beside the name, the doses due in the next 12 hours by time, and
 * a medication list that is missing said to be missing.
 */
const NOW = new Date('2026-11-22T03:00:00Z'); // 10:00 in Hà Nội
const TEMPLATES = path.join(REPO, 'templates');
const ctx = (lang: 'en' | 'vi' = 'en'): RenderContext => ({ t: loadTranslations(TEMPLATES, lang), templatesDir: TEMPLATES, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Bạch Mai', size: 'A4', renderedAt: NOW });

function ward(): WardSnapshot {
  const w = generateHospital({ seed: 11, wards: 1, patientsPerWard: 14, now: NOW }).wards[0]!;
  const snap: WardSnapshot = { ward: { id: w.id, name: 'Khoa Nội 1' }, asOf: NOW.toISOString(), source: { id: 'his', system: 'Test HIS', location: null }, beds: w.beds, patients: w.patients, warnings: [] };
  const [a, b, c] = patientsInBedOrder(snap);
  a!.codeStatus = 'DNR';
  a!.orders = { status: 'available', items: [{ id: 'o-1', drug: 'Enoxaparin 40 mg', dose: '40 mg', route: 'SC', frequency: null, scheduledTimes: ['20:00'], prn: false, prnReason: null, start: null, end: null, orderedBy: null, highAlert: true, status: 'active', instructions: null }, { id: 'o-2', drug: 'Paracetamol 500 mg', dose: '1 g', route: 'PO', frequency: null, scheduledTimes: [], prn: true, prnReason: 'pain', start: null, end: null, orderedBy: null, highAlert: false, status: 'active', instructions: null }] };
  b!.orders = { status: 'not-pulled', items: [] };
  // A patient the source gives no bed: still on the handoff, marked.
  c!.bedId = null;
  for (const bed of snap.beds) if (bed.patientId === c!.id) bed.patientId = null;
  return snap;
}

describe('the shift handoff sheet', () => {
  it('lists every patient in bed order, a few per landscape page, with what the next nurse must know first', async () => {
    const snap = ward();
    const { pdf, pages } = await renderPdf(documentSpec('handoff', snapshotFor('handoff', snap, null), null, ctx()));
    const text = pdfText(pdf);
    expect(text.text).toContain('Shift handoff — Khoa Nội 1');
    const inOrder = patientsInBedOrder(snap);
    // Bed order, then the patient with no bed after them, marked.
    // By MRN: a long name may wrap inside its cell.
    const positions = inOrder.map((p) => text.text.indexOf(`MRN ${p.mrn}`));
    for (const [i, pos] of positions.entries()) expect(pos, inOrder[i]!.mrn!).toBeGreaterThan(-1);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    const unplaced = snap.patients.find((p) => p.bedId === null)!;
    expect(inOrder.at(-1)!.id).toBe(unplaced.id);
    expect(text.text.indexOf(`MRN ${unplaced.mrn}`)).toBe(Math.max(...positions));
    expect(text.pages.at(-1)).toMatch(/— ⚠ no bed assigned/);
    // A few patients per page, room to write: 14 patients take at least three pages, none holds more than six.
    expect(pages).toBeGreaterThanOrEqual(3);
    for (const page of text.pages) expect(snap.patients.filter((p) => page.includes(`MRN ${p.mrn}`)).length).toBeLessThanOrEqual(6);
    // The first patient: DNR, her 20:00 dose within 12 h of 10:00, her as-needed drug named as such.
    const first = text.pages.find((pg) => pg.includes(`MRN ${inOrder[0]!.mrn}`))!;
    expect(first).toContain('DNR');
    expect(first).toMatch(/20:00 ⚠ Enoxaparin/);
    expect(first).toMatch(/As needed: Paracetamol/);
    // The second: no medication list in this snapshot, said so, never an empty cell.
    expect(text.text).toContain('MEDICATION LIST UNAVAILABLE');
    expect(text.text).toContain('Diet');
    expect(text.text).toContain('To do / notes');
  });

  it('is in Vietnamese on Vietnamese paper, and is planned after the ward lists, before the patients', () => {
    const snap = ward();
    const planned = planDocuments(snap, ['census', 'allergies', 'handoff', 'mar'], ctx('vi'));
    expect(planned.slice(0, 3).map((d) => [d.address, d.title])).toEqual([
      ['census', 'Danh sách bệnh nhân khoa'],
      ['allergies', expect.any(String)],
      ['handoff', 'Bàn giao ca'],
    ]);
  });
});
