import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import zlib from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import { PDFDict, PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import type { Patient, WardSnapshot } from '../../agent/model/ward.js';
import { documentSpec, planDocuments, snapshotFor, type RenderContext } from '../../agent/render/documents.js';
import { FONT_FILES } from '../../agent/render/font-files.js';
import { rawTables } from '../../agent/render/fonts.js';
import { renderHtmlFragment } from '../../agent/render/html.js';
import { loadTranslations } from '../../agent/render/i18n.js';
import { TemplateError } from '../../agent/render/markup.js';
import { renderPdf } from '../../agent/render/pdf.js';
import { renderSnapshotDocuments } from '../../agent/render/snapshot-documents.js';
import { REPO, tmpDir } from '../support/fixtures.js';

const HAVE_POPPLER = spawnSync('sh', ['-c', 'command -v pdftotext && command -v qpdf']).status === 0;
if (process.env.CI === 'true' && !HAVE_POPPLER) throw new Error('poppler-utils and qpdf are required in CI');

const NOW = new Date('2026-11-22T03:00:00Z'); // 10:00 in Hà Nội
const TEMPLATES = path.join(REPO, 'templates');
const ctx = (lang: 'en' | 'vi' = 'en', templatesDir = TEMPLATES): RenderContext => ({ t: loadTranslations(templatesDir, lang), templatesDir, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Bạch Mai', size: 'A4', renderedAt: NOW });

function snapshotOf(patients: number, opts: { ordersMin?: number; ordersMax?: number; seed?: number } = {}): WardSnapshot {
  const w = generateHospital({ seed: opts.seed ?? 5, wards: 1, patientsPerWard: patients, now: NOW, ordersMin: opts.ordersMin, ordersMax: opts.ordersMax }).wards[0]!;
  return { ward: { id: w.id, name: 'Khoa Nội 1' }, asOf: NOW.toISOString(), source: { id: 'his', system: 'Test HIS (FHIR R4)', location: 'https://his.example/fhir' }, beds: w.beds, patients: w.patients, warnings: [] };
}

/** Render, check structure with qpdf, and return the text of each page. */
async function pdfPages(spec: ReturnType<typeof documentSpec>): Promise<{ pages: string[]; file: string; raw: string }> {
  const { pdf, pages } = await renderPdf(spec);
  const file = path.join(tmpDir('pb-pdf-'), 'doc.pdf');
  fs.writeFileSync(file, pdf);
  execFileSync('qpdf', ['--check', file]); // throws on a structural problem
  const fonts = execFileSync('pdffonts', [file]).toString().split('\n').slice(2).filter(Boolean);
  for (const f of fonts) expect(f, 'every font is embedded').toMatch(/\byes\s+yes\s+(yes|no)\s+\d+\s+\d+\s*$/);
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
  const texts = text.split('\f').filter((p) => p.trim());
  expect(texts).toHaveLength(pages);
  // Content order with whitespace folded: a wrapped cell reads as one string.
  const raw = execFileSync('pdftotext', ['-raw', file, '-']).toString().replace(/\s+/g, ' ');
  return { pages: texts, file, raw };
}

const bodyFont = fontkit.create(FONT_FILES.body);
const boldFont = fontkit.create(FONT_FILES.bold);
const shapeCache = new Map<object, Set<string>>();
function shapesOf(font: typeof bodyFont): Set<string> {
  let s = shapeCache.get(font);
  if (!s) {
    s = new Set();
    for (let g = 1; g < font.numGlyphs; g++) s.add(font.getGlyph(g).path.toSVG());
    shapeCache.set(font, s);
  }
  return s;
}
/** The bytes of hinting instructions in every glyph: simple glyphs' instructionLength, composites' trailing program. */
function instructionBytes(tables: Map<string, Buffer>): number {
  const long = tables.get('head')!.readInt16BE(50) === 1;
  const loca = tables.get('loca')!;
  const glyf = tables.get('glyf')!;
  const count = loca.length / (long ? 4 : 2) - 1;
  const at = (i: number) => (long ? loca.readUInt32BE(i * 4) : loca.readUInt16BE(i * 2) * 2);
  let total = 0;
  for (let g = 0; g < count; g++) {
    const start = at(g);
    if (at(g + 1) === start) continue;
    const contours = glyf.readInt16BE(start);
    if (contours >= 0) {
      total += glyf.readUInt16BE(start + 10 + 2 * contours);
      continue;
    }
    let p = start + 10;
    for (;;) {
      const flags = glyf.readUInt16BE(p);
      if (flags & 0x0100) total += 1; // a component says instructions follow
      p += 4 + (flags & 1 ? 4 : 2) + (flags & 8 ? 2 : flags & 0x40 ? 4 : flags & 0x80 ? 8 : 0);
      if (!(flags & 0x20)) break;
    }
  }
  return total;
}

describe.skipIf(!HAVE_POPPLER)('documents on paper', () => {
  let snap: WardSnapshot;
  beforeAll(() => {
    snap = snapshotOf(12);
    // A name with diacritics and characters that look like markup, from the HIS.
    snap.patients[0]!.name = 'Nguyễn Thị <b>Hồng</b> & "Đặng"';
    snap.patients[1]!.allergies = { status: 'not-recorded', items: [] };
    snap.patients[2]!.orders = { status: 'not-pulled', items: [] };
  });

  it('census: a row per bed, empty beds shown, stamps and page numbers on every page', async () => {
    const { pages, raw } = await pdfPages(documentSpec('census', snap, null, ctx()));
    const all = pages.join('\n');
    for (const p of snap.patients) {
      expect(all).toContain(p.mrn!);
      expect(raw).toContain(p.name!);
    }
    expect(all).toContain('— empty —');
    expect(all.match(/— empty —/g)!.length).toBe(snap.beds.length - snap.patients.length);
    pages.forEach((page, i) => {
      expect(page).toContain('DOWNTIME COPY — Ward census');
      expect(page).toContain('Data as of 22/11/2026 10:00 (GMT+7)');
      expect(page).toContain('Source: Test HIS (FHIR R4) · https://his.example/fhir');
      expect(page).toContain('Rendered 22/11/2026 10:00 (GMT+7)');
      expect(page).toMatch(new RegExp(`Page ${i + 1} of ${pages.length}`));
      expect(page).toContain('Khoa Nội 1');
    });
  });

  it('MAR: 40 orders run over several pages, each page identifies the patient; high-alert and PRN marked', async () => {
    const big = snapshotOf(1, { ordersMin: 40, ordersMax: 40, seed: 9 });
    const p = big.patients[0]!;
    const { pages } = await pdfPages(documentSpec('mar', big, p, ctx()));
    expect(pages.length).toBeGreaterThan(1);
    const all = pages.join('\n').replace(/\s+/g, ' ');
    for (const o of p.orders.items) expect(all).toContain(o.drug.split(' ')[0]); // every order's drug appears
    expect(p.orders.items.length).toBe(40);
    pages.forEach((page, i) => {
      expect(page).toContain(p.name!);
      expect(page).toContain(`MRN ${p.mrn}`);
      expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
    });
    if (p.orders.items.some((o) => o.highAlert)) expect(all).toContain('⚠ HIGH-ALERT');
    if (p.orders.items.some((o) => o.prn)) expect(all).toContain('As-needed (PRN) medications');
    expect(all).toContain('Doses due from 22/11/2026 10:00 (GMT+7) to 23/11/2026 10:00 (GMT+7)');
  });

  it('a page that changes patient mid-document shows her band, and pages back with the first show the first again', async () => {
    // The band is drawn per page from that page's patient: a document that changes patient shows each her own.
    const big = snapshotOf(2, { ordersMin: 40, ordersMax: 40, seed: 9 });
    const [a, b] = big.patients as [Patient, Patient];
    const spec = documentSpec('mar', big, a, ctx());
    const stampOf = (p: Patient) => ({ name: p.name!, mrn: p.mrn!, birthDate: p.birthDate ?? '', bed: 'Bed X', barcode: p.mrn! });
    const first = spec.patient!;
    spec.blocks = [...spec.blocks, { type: 'page-break', patient: stampOf(b) }, { type: 'text', text: 'second patient' }, { type: 'page-break', patient: null }, { type: 'text', text: 'no patient' }, { type: 'page-break', patient: first }, { type: 'text', text: 'first again' }];
    const { pages } = await pdfPages(spec);
    const n = pages.length;
    expect(n).toBeGreaterThan(4);
    const owner = (page: string) => (page.includes(`MRN ${a.mrn}`) ? 'a' : page.includes(`MRN ${b.mrn}`) ? 'b' : 'none');
    expect(pages.map(owner)).toEqual([...Array<string>(n - 3).fill('a'), 'b', 'none', 'a']);
    expect(pages[n - 3]).toContain(b.name!);
    expect(pages[n - 3]).not.toContain(a.name!);
    pages.forEach((page, i) => {
      expect(page).toContain('DOWNTIME COPY — Medication administration record');
      expect(page).toContain('Data as of 22/11/2026 10:00 (GMT+7)');
      expect(page).toContain(`Page ${i + 1} of ${n}`);
    });
  });

  it('says in words what is missing: allergies not recorded, medication list unavailable', async () => {
    const notRecorded = (await pdfPages(documentSpec('mar', snap, snap.patients[1]!, ctx()))).pages.join('\n');
    expect(notRecorded).toContain('ALLERGIES NOT RECORDED');
    const noOrders = (await pdfPages(documentSpec('mar', snap, snap.patients[2]!, ctx()))).pages.join('\n').replace(/\s+/g, ' ');
    expect(noOrders).toContain('MEDICATION LIST UNAVAILABLE');
    const summary = (await pdfPages(documentSpec('summary', snap, snap.patients[2]!, ctx()))).pages.join('\n').replace(/\s+/g, ' ');
    expect(summary).toContain('MEDICATION LIST UNAVAILABLE');
  });

  it('a ward with no patients still prints a census that says so', async () => {
    const empty = snapshotOf(0);
    empty.beds = [];
    const { pages } = await pdfPages(documentSpec('census', empty, null, ctx()));
    expect(pages).toHaveLength(1);
    expect(pages[0]).toContain('No patients on this ward at the time of the snapshot.');
    expect(pages[0]).toContain('Page 1 of 1');
  });

  it('prints Vietnamese wording and diacritics with no missing glyphs', async () => {
    const { pages, raw } = await pdfPages(documentSpec('summary', snap, snap.patients[0]!, ctx('vi')));
    const all = pages.join('\n') + raw;
    expect(all).toContain('BẢN DỰ PHÒNG — Tóm tắt bệnh nhân');
    expect(all).toContain('Dữ liệu tính đến 22/11/2026 10:00 (GMT+7)');
    expect(all).toContain('Bệnh viện Bạch Mai');
    expect(all).toContain('Nguyễn Thị <b>Hồng</b> & "Đặng"');
    expect(all).not.toContain('\uFFFD');
  });

  it('a census flagged as suspicious carries the warning on every page', async () => {
    const flagged = { ...snap, warnings: [{ code: 'census-shrunk' as const, message: 'the census fell from 30 to 12 patients' }] };
    const { pages } = await pdfPages(documentSpec('census', flagged, null, ctx()));
    for (const page of pages) expect(page).toContain('CHECK THIS CENSUS: the census fell from 30 to 12 patients');
  });

  it('the HTML view of the same template escapes what the HIS sent', () => {
    const html = renderHtmlFragment(documentSpec('census', snap, null, ctx()));
    expect(html).toContain('Nguyễn Thị &lt;b&gt;Hồng&lt;/b&gt; &amp; &quot;Đặng&quot;');
    expect(html).not.toContain('<b>Hồng</b>');
    expect(html).toContain('DOWNTIME COPY — Ward census');
    expect(html).toContain(snap.patients[3]!.mrn!);
  });

  it('plans one census, one allergy list and a MAR and summary per patient, in bed order', async () => {
    const planned = planDocuments(snap, ['census', 'mar', 'summary', 'allergies'], ctx());
    expect(planned.map((d) => d.address).slice(0, 4)).toEqual(['census', 'allergies', `mar/${planned[2]!.patient!.mrn}`, `summary/${planned[2]!.patient!.mrn}`]);
    expect(planned).toHaveLength(2 + 2 * snap.patients.length);
    const artifacts = await renderSnapshotDocuments(snap, { documents: ['census'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'X', templatesDir: TEMPLATES }, { renderedAt: NOW });
    expect(artifacts.map((a) => a.meta.address)).toEqual(['data/ward', 'census']);
  });

  it.skipIf(!HAVE_POPPLER)('each patient sheet published for a ward names her and her bed, and no other patient', async () => {
    const ward = snapshotOf(3);
    const out = await renderSnapshotDocuments(ward, { documents: ['mar', 'summary'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'X', templatesDir: TEMPLATES }, { renderedAt: NOW });
    const dir = tmpDir('pb-sheets-');
    for (const a of out.slice(1)) {
      const p = ward.patients.find((x) => a.meta.address.endsWith(`/${x.mrn}`))!;
      const file = path.join(dir, 'sheet.pdf');
      fs.writeFileSync(file, a.content!);
      const text = execFileSync('pdftotext', [file, '-']).toString();
      expect(text).toContain(ward.beds.find((b) => b.id === p.bedId)!.label);
      expect(text).toContain(p.name);
      for (const other of ward.patients.filter((x) => x !== p)) expect(text).not.toContain(other.name);
    }
    expect(out).toHaveLength(1 + 2 * ward.patients.length);
  });

  it('the census and the ward allergy list drawn from what a render thread is sent are the ones drawn from the whole ward', async () => {
    const ward = snapshotOf(40, { ordersMin: 10, ordersMax: 20 });
    // Same document but for the times pdfkit writes when it ends (creation date, file id).
    const bytesOf = async (kind: 'census' | 'allergies', snap: WardSnapshot) =>
      (await renderPdf(documentSpec(kind, snap, null, ctx('vi')))).pdf.toString('latin1').replace(/\(D:\d+Z\)/g, '').replace(/\/ID \[[^\]]*\]/g, '');
    for (const kind of ['census', 'allergies'] as const) {
      const sent = snapshotFor(kind, ward, null);
      expect(sent.patients.every((p) => p.administrations.items.length === 0)).toBe(true);
      expect(await bytesOf(kind, sent), kind).toBe(await bytesOf(kind, ward));
    }
    // The allergy list names high-alert drugs: its orders are kept.
    expect(snapshotFor('allergies', ward, null).patients.some((p) => p.orders.items.some((o) => o.highAlert))).toBe(true);
    expect(v8.serialize(snapshotFor('census', ward, null)).length).toBeLessThan(v8.serialize(ward).length / 5);
  });
});

describe('templates IT can change', () => {
  const copyTemplates = () => {
    const dir = tmpDir('pb-tpl-');
    fs.cpSync(TEMPLATES, dir, { recursive: true });
    return dir;
  };
  const snap = snapshotOf(3);

  it('a broken template is refused with its file and line', () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'documents/census.hbs');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('{{/each}}', '{{/eahc}}'));
    expect(() => documentSpec('census', snap, null, ctx('en', dir))).toThrow(TemplateError);
    expect(() => documentSpec('census', snap, null, ctx('en', dir))).toThrow(/templates\/documents\/census.hbs:\d+: /);
  });

  it('a misspelt field is an error naming it, not an empty column', () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'documents/census.hbs');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('{{attending}}', '{{atending}}'));
    expect(() => documentSpec('census', snap, null, ctx('en', dir))).toThrow(/census.hbs:\d+: "atending" not defined/);
  });

  it('a tag left open is refused with the output line where it opened', () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'documents/allergies.hbs');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('<column width="9" nowrap="true">{{t "census.bed"}}</column>', '<column width="9" nowrap="true">{{t "census.bed"}}'));
    expect(() => documentSpec('allergies', snap, null, ctx('en', dir))).toThrow(TemplateError);
    expect(() => documentSpec('allergies', snap, null, ctx('en', dir))).toThrow(/allergies.hbs: produced invalid markup at output line \d+: unexpected close tag; <column> opened at output line 5 is not closed/);
  });

  it('HTML names such as &nbsp; and &mdash; may be written in a template; an unknown name is refused', () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'documents/allergies.hbs');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.replace('{{t "wardAllergies.title"}} — {{ward.name}}', '{{t "wardAllergies.title"}}&nbsp;&mdash; {{ward.name}}'));
    const heading = documentSpec('allergies', snap, null, ctx('en', dir)).blocks[0];
    expect(heading).toMatchObject({ type: 'heading', text: `Ward allergy and high-alert list\u00a0\u2014 ${snap.ward.name}` });
    fs.writeFileSync(file, original.replace('{{t "wardAllergies.title"}} — {{ward.name}}', '{{t "wardAllergies.title"}}&bogus; {{ward.name}}'));
    expect(() => documentSpec('allergies', snap, null, ctx('en', dir))).toThrow(/allergies.hbs: produced invalid markup at output line 2: undefined entity/);
  });

  it('markup a renderer cannot draw is refused with a reason', () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'documents/allergies.hbs');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('<column width="9" nowrap="true">', '<colum width="9" nowrap="true">').replace('{{t "census.bed"}}</column>', '{{t "census.bed"}}</colum>'));
    expect(() => documentSpec('allergies', snap, null, ctx('en', dir))).toThrow(/allergies.hbs: <table> may only hold <column> and <row>, not <colum>/);
  });

  it.skipIf(!HAVE_POPPLER)('dropping a column, renaming a label and switching to Letter paper need no code', async () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'documents/census.hbs');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    <column width="12">{{t "census.attending"}}</column>\n', '').replace('      <cell>{{attending}}</cell>\n', ''));
    const en = JSON.parse(fs.readFileSync(path.join(dir, 'i18n/en.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'i18n/en.json'), JSON.stringify({ ...en, 'census.diagnosis': 'Working diagnosis' }));
    fs.writeFileSync(path.join(dir, 'settings.yaml'), 'paper: LETTER\nhospitalName: St. Example Hospital\nlogo: assets/logo.png\n');
    const out = await renderSnapshotDocuments(snapshotOf(40), { documents: ['census'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'X', templatesDir: dir }, { renderedAt: NOW });
    const pdf = path.join(tmpDir('pb-pdf-'), 'c.pdf');
    fs.writeFileSync(pdf, out[1]!.content);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
    expect(text).not.toContain('Attending');
    expect(text).toContain('Working diagnosis');
    expect(text).toContain('St. Example Hospital');
    expect(execFileSync('pdfinfo', [pdf]).toString()).toMatch(/Page size:\s+792 x 612 pts \(letter\)/);
    // The logo on every page, as one picture embedded once (columns: page num type width height … object id).
    const images = execFileSync('pdfimages', ['-list', pdf]).toString().split('\n').filter((l) => /^\s+\d+\s+\d+ image/.test(l)).map((l) => l.trim().split(/\s+/));
    const pageCount = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf]).toString())![1]);
    expect(pageCount).toBeGreaterThan(1);
    expect(images.map((c) => Number(c[0]))).toEqual(Array.from({ length: pageCount }, (_, i) => i + 1));
    expect(new Set(images.map((c) => c[10])).size).toBe(1);
    fs.writeFileSync(path.join(dir, 'settings.yaml'), 'logo: ../../etc/passwd.png\n');
    await expect(renderSnapshotDocuments(snap, { documents: ['census'], language: 'en', timeZone: 'UTC', hospital: 'X', templatesDir: dir }, { renderedAt: NOW })).rejects.toThrow(/settings.yaml: logo: .* not found in templates/);
  });

  it('table cells: given lines kept, long text wrapped inside its column, rows as tall as their text', async () => {
    const spec = { ...documentSpec('census', snapshotOf(1), null, ctx()), orientation: 'portrait' as const };
    const long = 'Penicillin anaphylaxis documented by the admitting team after a reaction in the emergency department last spring';
    spec.blocks = [
      {
        type: 'table',
        columns: [{ label: 'Alpha', width: 1 }, { label: 'Beta', width: 1 }, { label: 'Gamma', width: 1, align: 'right' }],
        rows: [
          { cells: [{ text: 'NKA\nFall risk' }, { text: long }, { text: '42' }] },
          { cells: [{ text: 'Nguye\u0302\u0303n Thi\u0323 Ho\u0302\u0300ng' }, { text: 'after\n\ngap' }, { text: '\u014a\u0308 x\u0323' }] },
          { cells: [{ text: 'Zulu' }, { text: 'short' }, { text: '7' }] },
          { cells: [{ text: 'One\nTwo\nThree' }, { text: 'x' }, { text: '1' }] },
          { cells: [{ text: 'Last' }, { text: 'y' }, { text: '2' }] },
        ],
      },
    ];
    const { file, raw } = await pdfPages(spec);
    const xml = execFileSync('pdftotext', ['-bbox', file, '-']).toString();
    const words = [...xml.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({ x0: +m[1]!, y0: +m[2]!, x1: +m[3]!, y1: +m[4]!, text: m[5]! }));
    const word = (t: string) => words.find((w) => w.text === t)!;
    const colW = (595.28 - 2 * 28) / 3;
    // Two lines given, two lines drawn, one under the other at the same left edge.
    expect(word('Fall').y0).toBeGreaterThan(word('NKA').y1 - 0.5);
    expect(Math.abs(word('Fall').x0 - word('NKA').x0)).toBeLessThan(0.5);
    // The long text wraps onto several lines, none past its column.
    const longWords = words.filter((w) => w.x0 > 28 + colW && w.x1 < 28 + 2 * colW + 5 && w.y0 > word('NKA').y0 - 1 && w.y1 < word('Zulu').y0);
    expect(new Set(longWords.map((w) => Math.round(w.y0))).size).toBeGreaterThanOrEqual(3);
    for (const w of longWords) expect(w.x1).toBeLessThanOrEqual(28 + 2 * colW);
    expect(raw).toContain(long);
    // The next row starts below the wrapped cell's last line: the row grew to hold it.
    expect(word('spring').y1).toBeLessThan(word('Zulu').y0);
    expect(word('Three').y1).toBeLessThan(word('Last').y0);
    // Right-aligned numbers end at their column's right edge, less the padding.
    expect(28 + 3 * colW - word('42').x1).toBeLessThan(4);
    // Decomposed diacritics (combining marks) and an empty line inside a cell still print.
    expect(raw).toContain('Nguyễn Thị Hồng'); // sent decomposed, printed and searchable composed
    // Marks no letter has composed are drawn as marks, positioned on their letter.
    const eng = word('\u014a\u0308') ?? word('\u014a');
    expect(eng, 'the letter under a mark').toBeTruthy();
    expect(Math.abs(28 + 3 * colW - word(raw.includes('x\u0323') ? 'x\u0323' : 'x').x1)).toBeLessThan(4);
    expect(word('gap').y0).toBeGreaterThan(word('after').y1);
  });

  it('embeds fonts that are whole TrueType files: checksum right, every glyph readable, outlines as drawn, no hinting', async () => {
    const { pdf } = await renderPdf(documentSpec('census', snapshotOf(12), null, ctx('vi')));
    const doc = await PDFDocument.load(pdf);
    const programs: Buffer[] = [];
    for (const [, obj] of doc.context.enumerateIndirectObjects()) {
      const dict = obj instanceof PDFDict ? obj : obj instanceof PDFRawStream ? obj.dict : null;
      const ref = dict?.get(PDFName.of('FontFile2'));
      if (!ref) continue;
      const stream = doc.context.lookup(ref) as PDFRawStream;
      programs.push(zlib.inflateSync(Buffer.from(stream.contents)));
    }
    expect(programs).toHaveLength(2);
    for (const ttf of programs) {
      let sum = 0;
      for (let i = 0; i < ttf.length; i += 4) sum = (sum + ttf.readUInt32BE(i)) >>> 0;
      expect(sum.toString(16), 'whole-file checksum of a TrueType font').toBe('b1b0afba');
      const font = fontkit.create(ttf);
      expect(font.numGlyphs).toBeGreaterThan(20);
      for (let g = 0; g < font.numGlyphs; g++) expect(() => font.getGlyph(g).path).not.toThrow();
      // The outlines are DejaVu's own, composites (most Vietnamese letters) resolved to the same shapes.
      const svgs = Array.from({ length: font.numGlyphs - 1 }, (_, i) => font.getGlyph(i + 1).path.toSVG());
      const fromOne = [bodyFont, boldFont].filter((f) => svgs.every((svg) => shapesOf(f).has(svg)));
      expect(fromOne, 'every outline is one of the regular or the bold font').toHaveLength(1);
      // Hinting (for screens' pixel grid; viewers and printers draw these without it) is left out: half the bytes.
      const tables = rawTables(ttf);
      for (const tag of ['fpgm', 'prep', 'cvt ']) expect(tables.has(tag), tag).toBe(false);
      expect(instructionBytes(tables), 'bytes of glyph instructions').toBe(0);
    }
  });
});

