import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { renderSnapshotDocuments } from '../../agent/render/snapshot-documents.js';
import { REPO, tmpDir } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * The text layer is whole: every glyph drawn, in every font and weight, maps to
 * its characters (no empty ToUnicode entry), so pdftotext, search, copy and
 * screen readers read what is printed. And a bed label is never broken mid-label.
 */
const NOW = new Date('2026-11-22T03:00:00Z');

function ward(): WardSnapshot {
  const w = generateHospital({ seed: 9, wards: 1, patientsPerWard: 14, now: NOW }).wards[0]!;
  // Labels as long as real ones get: a bed code with its unit, a room suffix.
  w.beds[0]!.label = 'HSTC-12A-01';
  w.beds[1]!.label = 'CCU-Giường 3B';
  return { ward: { id: w.id, name: 'Khoa Hồi sức tích cực — ICU' }, asOf: NOW.toISOString(), source: { id: 'his', system: 'Test HIS', location: 'https://his.example/fhir' }, beds: w.beds, patients: w.patients, warnings: [] };
}

/** The ToUnicode map of every font of a PDF, as the list of entries each range or char block gives. */
function toUnicodeEntries(pdf: Buffer): string[] {
  const dir = tmpDir('pb-tounicode-');
  fs.writeFileSync(path.join(dir, 'in.pdf'), pdf);
  execFileSync('qpdf', ['--qdf', '--object-streams=disable', path.join(dir, 'in.pdf'), path.join(dir, 'out.pdf')]);
  const text = fs.readFileSync(path.join(dir, 'out.pdf'), 'latin1');
  fs.rmSync(dir, { recursive: true, force: true });
  const entries: string[] = [];
  for (const m of text.matchAll(/beginbfrange([^]*?)endbfrange/g)) for (const e of m[1]!.matchAll(/<([0-9a-fA-F]*)>/g)) entries.push(e[1]!);
  for (const m of text.matchAll(/beginbfchar([^]*?)endbfchar/g)) for (const e of m[1]!.matchAll(/<([0-9a-fA-F]*)>/g)) entries.push(e[1]!);
  return entries;
}

describe('the text layer', () => {
  it('maps every glyph of every document kind, in both languages, to its characters', async () => {
    const snap = ward();
    let checked = 0;
    // Both languages in one process: the font's glyph cache is shared across documents, as in a render thread.
    for (const language of ['vi', 'en'] as const) {
      const docs = await renderSnapshotDocuments(snap, { documents: ['census', 'allergies', 'mar', 'summary'], forms: ['vital-signs'], language, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Hữu nghị', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
      for (const d of docs) {
        if (!d.content || d.meta.mediaType !== 'application/pdf' || d.meta.address.startsWith('blank/') || d.meta.address.startsWith('form/')) continue;
        const entries = toUnicodeEntries(d.content);
        expect(entries.length, d.meta.address).toBeGreaterThan(10);
        expect(entries.filter((e) => e === ''), `${language}:${d.meta.address} has glyphs with no text`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBe(2 * (2 + 2 * snap.patients.length));
  }, 120_000);

  it("reads back, on each patient's MAR and summary, her name and every drug, dose and allergy drawn", async () => {
    const snap = ward();
    const docs = await renderSnapshotDocuments(snap, { documents: ['mar', 'summary'], language: 'vi', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
    // Compared without whitespace: how a cell wraps is layout, which letters come out is the text layer.
    const squash = (x: string) => x.replace(/\s+/g, '');
    let compared = 0;
    for (const p of snap.patients) {
      for (const kind of ['mar', 'summary']) {
        const d = docs.find((x) => x.meta.address === `${kind}/${p.mrn}`)!;
        const text = squash(pdfText(d.content!).text);
        for (const s of [p.name!, ...p.orders.items.flatMap((o) => [o.drug, o.dose ?? '']), ...p.allergies.items.map((a) => a.substance)].filter(Boolean)) {
          expect(text, `${kind}/${p.mrn}: ${s}`).toContain(squash(s));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(200);
  }, 120_000);

  it('reads back every patient name, bed label and Vietnamese heading of the census as drawn', async () => {
    const snap = ward();
    const docs = await renderSnapshotDocuments(snap, { documents: ['census', 'allergies'], language: 'vi', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
    const census = pdfText(docs.find((d) => d.meta.address === 'census')!.content!).text;
    for (const p of snap.patients) expect(census).toContain(p.name!);
    // Whole, not broken across lines mid-label.
    for (const b of snap.beds) expect(census).toContain(` ${b.label} `);
    for (const heading of ['Giường', 'Bệnh nhân', 'Cách ly / dị ứng / cảnh báo', 'Danh sách bệnh nhân khoa']) expect(census).toContain(heading);
    const allergies = pdfText(docs.find((d) => d.meta.address === 'allergies')!.content!).text;
    expect(allergies).toContain('Danh sách dị ứng và thuốc nguy cơ cao');
    // The shipped templates carry no demo mark: only the demo's own site and source names say "Demo".
    for (const d of docs) if (d.content && d.meta.mediaType === 'application/pdf') expect(pdfText(d.content).text).not.toMatch(/\bdemo\b/i);
  }, 60_000);
});
