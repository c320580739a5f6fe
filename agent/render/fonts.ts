import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import PDFDocument from 'pdfkit';

/**
 * The two fonts every document uses (DejaVu Sans, full Vietnamese), parsed
 * once per process and shared by every document.
 *
 * Two costs of pdfkit/fontkit are paid once here instead of per document:
 * - pdfkit parses a TrueType font afresh for every document (fontkit.create),
 *   which was 80 % of the time to render a MAR;
 * - fontkit's subsetter decodes every glyph's whole outline on each embed only
 *   to learn whether it is a composite (a third of the remaining render time).
 * Both reach into pdfkit/fontkit internals (pdfkit pinned to 0.17.x in
 * package.json); the tests that check embedded fonts, extracted text and the
 * rendered pictures fail if an upgrade changes them.
 */
const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONTS = {
  body: fs.readFileSync(path.join(FONT_DIR, 'DejaVuSans.ttf')),
  bold: fs.readFileSync(path.join(FONT_DIR, 'DejaVuSans-Bold.ttf')),
};
type Which = keyof typeof FONTS;

type Doc = PDFKit.PDFDocument;
type EmbeddedFontCtor = new (doc: unknown, font: unknown, id: string) => { layoutCache?: object; subset: object };
type PdfkitInternals = { _font: { constructor: EmbeddedFontCtor; font: unknown; subset: object }; _fontFamilies: Record<string, unknown>; _registeredFonts: Record<string, unknown>; _fontCount: number };

/** What the subsetter needs of one glyph: its bytes, where its components' ids sit, and its metrics. */
interface GlyphRecord {
  bytes: Uint8Array;
  components: { glyphID: number; pos: number }[] | null;
  advance: number;
  bearing: number;
}

interface FontkitFont {
  getGlyph(gid: number): { _decode(): { numberOfContours: number; components?: { glyphID: number; pos: number }[] } | null; advanceWidth: number; _getMetrics(): { leftBearing: number } };
  loca: { offsets: number[] };
  _getTableStream(tag: string): { pos: number; readBuffer(n: number): Uint8Array };
  _variationProcessor?: unknown;
}

interface TtfSubset {
  font: FontkitFont;
  glyf: Uint8Array[];
  loca: { offsets: number[] };
  hmtx: { metrics: { advance: number; bearing: number }[] };
  offset: number;
  includeGlyph(gid: number): number;
  _addGlyph(gid: number): number;
}

const glyphRecords = new WeakMap<FontkitFont, Map<number, GlyphRecord>>();

function glyphRecord(font: FontkitFont, gid: number): GlyphRecord {
  let byGid = glyphRecords.get(font);
  if (!byGid) glyphRecords.set(font, (byGid = new Map()));
  let r = byGid.get(gid);
  if (!r) {
    const glyph = font.getGlyph(gid);
    const glyf = glyph._decode();
    const stream = font._getTableStream('glyf');
    stream.pos += font.loca.offsets[gid]!;
    const bytes = stream.readBuffer(font.loca.offsets[gid + 1]! - font.loca.offsets[gid]!);
    const components = glyf && glyf.numberOfContours < 0 ? (glyf.components ?? []).map((c) => ({ glyphID: c.glyphID, pos: c.pos })) : null;
    r = { bytes, components, advance: glyph.advanceWidth, bearing: glyph._getMetrics().leftBearing };
    byGid.set(gid, r);
  }
  return r;
}

/** fontkit's TTFSubset._addGlyph, with each glyph's record read once per process. */
function patchSubsetter(subset: object): void {
  const proto = Object.getPrototypeOf(subset) as TtfSubset & { __paperbackCached?: boolean };
  if (proto.__paperbackCached) return;
  const original = proto._addGlyph;
  proto._addGlyph = function addGlyph(this: TtfSubset, gid: number): number {
    // Variable fonts re-encode outlines per instance: leave them to fontkit.
    if (this.font._variationProcessor) return original.call(this, gid);
    const r = glyphRecord(this.font, gid);
    let bytes = r.bytes;
    if (r.components) {
      // A composite names its parts by glyph id; in the subset they get new ids.
      bytes = new Uint8Array(r.bytes);
      const view = new DataView(bytes.buffer);
      for (const c of r.components) view.setUint16(c.pos, this.includeGlyph(c.glyphID));
    }
    this.glyf.push(bytes);
    this.loca.offsets.push(this.offset);
    this.hmtx.metrics.push({ advance: r.advance, bearing: r.bearing });
    this.offset += bytes.length;
    return this.glyf.length - 1;
  };
  proto.__paperbackCached = true;
}

let shared: { make: (doc: Doc, which: Which) => unknown } | null = null;

/**
 * The layout cache is shared so a drug name is shaped once, not once per
 * MAR; it holds every distinct string drawn, so it starts afresh now and then
 * or a render thread that draws a whole hospital would keep them all.
 */
const DOCUMENTS_PER_LAYOUT_CACHE = 400;
let documentsOnCache = 0;

/** Register 'body' and 'bold' on a new document, backed by the process's one parse of each. */
export function useSharedFonts(doc: Doc): void {
  if (!shared) {
    const probe = new PDFDocument({ autoFirstPage: false }) as unknown as Doc & PdfkitInternals;
    const parsed = {} as Record<Which, { font: unknown; layoutCache: object }>;
    let EmbeddedFont: EmbeddedFontCtor | null = null;
    for (const which of ['body', 'bold'] as const) {
      probe.registerFont(which, FONTS[which]);
      probe.font(which);
      EmbeddedFont = probe._font.constructor;
      patchSubsetter(probe._font.subset);
      parsed[which] = { font: probe._font.font, layoutCache: Object.create(null) as object };
    }
    const ctor = EmbeddedFont!;
    shared = {
      make(d, which) {
        if (which === 'body' && ++documentsOnCache > DOCUMENTS_PER_LAYOUT_CACHE) {
          documentsOnCache = 1;
          for (const w of ['body', 'bold'] as const) parsed[w].layoutCache = Object.create(null) as object;
        }
        const internals = d as unknown as PdfkitInternals;
        const f = new ctor(d, parsed[which].font, `F${++internals._fontCount}`);
        f.layoutCache = parsed[which].layoutCache;
        return f;
      },
    };
  }
  const internals = doc as unknown as PdfkitInternals;
  for (const which of ['body', 'bold'] as const) {
    internals._registeredFonts[which] = { src: FONTS[which], family: undefined };
    internals._fontFamilies[which] = shared.make(doc, which);
  }
}
