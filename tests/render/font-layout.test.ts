import PDFDocument from 'pdfkit';
import { describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { planDocuments } from '../../agent/render/documents.js';
import { FONT_FILES } from '../../agent/render/font-files.js';
import { patchFontLayout } from '../../agent/render/font-layout.js';
import { loadTranslations } from '../../agent/render/i18n.js';
import { REPO } from '../support/fixtures.js';

type Run = { glyphs: { id: number }[] | null; positions: object[] | null; advanceWidth: number };
interface Font {
  layout(text: string, features?: unknown, onlyWidth?: boolean): Run;
  encode(text: string): [string[], object[]];
  widthOfString(text: string, size: number): number;
  widths: number[];
  unicode: number[][];
}

/** A fresh pdfkit document's font: its own subset, so encoded ids can be compared from the start. */
function fontOf(which: 'body' | 'bold'): Font {
  const doc = new PDFDocument({ autoFirstPage: false });
  doc.registerFont(which, FONT_FILES[which]);
  doc.font(which);
  return (doc as unknown as { _font: Font })._font;
}

// pdfkit's own functions, taken before this file patches them (nothing else in this file renders).
const proto = Object.getPrototypeOf(fontOf('body')) as Font & { __paperbackLayout?: boolean };
const unpatched = proto.__paperbackLayout === undefined;
const pdfkit = { layout: proto.layout, encode: proto.encode, widthOfString: proto.widthOfString };
patchFontLayout(proto);

/** Every string a ward's documents carry: cells, headings, fields, stamps. */
function textsOf(value: unknown, out: Set<string>): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) textsOf(v, out);
  else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) for (const v of Object.values(value)) textsOf(v, out);
  return out;
}

describe("text layout (pdfkit's, without its overhead)", () => {
  it('gives every text of a ward the glyphs, positions, widths and subset ids pdfkit gives it', () => {
    expect(unpatched, "pdfkit's own functions were captured before patching").toBe(true);
    const NOW = new Date('2026-11-22T03:00:00Z');
    const w = generateHospital({ seed: 9, wards: 1, patientsPerWard: 12, now: NOW }).wards[0]!;
    const snap: WardSnapshot = { ward: { id: w.id, name: 'Khoa Nội 1' }, asOf: NOW.toISOString(), source: { id: 'his', system: 'HIS', location: null }, beds: w.beds, patients: w.patients, warnings: [] };
    const ctx = { t: loadTranslations(`${REPO}/templates`, 'vi'), templatesDir: `${REPO}/templates`, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện', size: 'A4' as const, renderedAt: NOW };
    const texts = new Set<string>(['', ' ', 'a  b', '\tx\ty', 'trailing ', ' leading', 'office ffi fl', 'Nguye\u0302\u0303n x\u0323', 'Ŋ̈ 😀 ‰ – — …']);
    for (const d of planDocuments(snap, ['census', 'allergies', 'mar', 'summary'], ctx)) textsOf(d.spec(), texts);
    expect(texts.size).toBeGreaterThan(300);

    for (const which of ['body', 'bold'] as const) {
      const theirs = fontOf(which);
      const ours = fontOf(which);
      for (const text of texts) {
        const a = pdfkit.layout.call(theirs, text);
        const b = ours.layout(text);
        expect(b.glyphs!.map((g) => g.id), text).toEqual(a.glyphs!.map((g) => g.id));
        expect(b.positions, text).toEqual(a.positions);
        expect(b.advanceWidth, text).toBe(a.advanceWidth);
        // Measured twice: the second answer comes from the remembered width and must be the same.
        for (let i = 0; i < 2; i++) {
          expect(ours.widthOfString(text, 9), text).toBe(pdfkit.widthOfString.call(theirs, text, 9));
          expect(ours.layout(text, undefined, true).advanceWidth, text).toBe(pdfkit.layout.call(theirs, text, undefined, true).advanceWidth);
        }
        const [hexA, posA] = pdfkit.encode.call(theirs, text);
        const [hexB, posB] = ours.encode(text);
        expect(hexB, text).toEqual(hexA);
        expect(posB, text).toEqual(posA);
      }
      expect(ours.widths).toEqual(theirs.widths);
      expect(ours.unicode).toEqual(theirs.unicode);
    }
  });
});
