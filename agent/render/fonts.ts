import PDFDocument from 'pdfkit';
import { FALLBACK_FILES, FONT_FILES as FONTS } from './font-files.js';
import { patchFontLayout } from './font-layout.js';
import { patchStreams } from './streams.js';

/**
 * The two fonts every document uses (DejaVu Sans, full Vietnamese), parsed
 * once per process and shared by every document.
 *
 * Costs of pdfkit/fontkit paid once here instead of per document:
 * - pdfkit parses a TrueType font afresh for every document (fontkit.create),
 *   which was 80 % of the time to render a MAR;
 * - fontkit's subsetter decodes every glyph's whole outline on each embed only
 *   to learn whether it is a composite (a third of the remaining render time).
 * - fontkit writes each subset through its generic binary encoder, field by
 *   field; the tables are copied or patched from the original font instead
 *   (writeSubsetFont, a quarter of the remaining render time).
 * All reach into pdfkit/fontkit internals (pdfkit pinned to 0.17.x in
 * package.json); the tests that check embedded fonts, extracted text and the
 * rendered pictures fail if an upgrade changes them.
 */

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
  numGlyphs: number;
  getGlyph(gid: number): { _decode(): { numberOfContours: number; components?: { glyphID: number; pos: number }[] } | null; advanceWidth: number; _getMetrics(): { leftBearing: number } };
  loca: { offsets: number[] };
  _getTableStream(tag: string): { pos: number; readBuffer(n: number): Uint8Array };
  _variationProcessor?: unknown;
}

interface TtfSubset {
  font: FontkitFont;
  glyphs: number[];
  glyf: Uint8Array[];
  loca: { offsets: number[]; version?: number };
  hmtx: { metrics: { advance: number; bearing: number }[] };
  offset: number;
  includeGlyph(gid: number): number;
  _addGlyph(gid: number): number;
  encode(): Buffer | Uint8Array;
}

/** The original font file of each parsed font, for its raw tables. */
const fontFiles = new WeakMap<object, Buffer>();

/** The raw bytes of each table of a TrueType file, by tag. */
export function rawTables(file: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const n = file.readUInt16BE(4);
  for (let i = 0; i < n; i++) {
    const e = 12 + 16 * i;
    const offset = file.readUInt32BE(e + 8);
    out.set(file.toString('latin1', e, e + 4), file.subarray(offset, offset + file.readUInt32BE(e + 12)));
  }
  return out;
}
const rawTablesOf = new WeakMap<Buffer, Map<string, Buffer>>();

/** A TrueType checksum: the sum of the big-endian 32-bit words, the last one padded with zeros. */
const checksum = (b: Uint8Array) => {
  let sum = 0;
  const whole = b.length & ~3;
  for (let i = 0; i < whole; i += 4) sum = (sum + ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!)) >>> 0;
  let last = 0;
  for (let i = whole; i < b.length; i++) last |= b[i]! << (24 - 8 * (i - whole));
  return (sum + (last >>> 0)) >>> 0;
};

/**
 * The subset as a TrueType file, with what PDF needs (head, hhea, maxp, loca,
 * glyf, hmtx): the tables fontkit writes but the hinting programs (cvt, fpgm,
 * prep), whose instructions the glyphs no longer call (withoutInstructions),
 * as a standard sfnt (sorted, aligned, with checksums).
 */
function writeSubsetFont(file: Buffer, s: TtfSubset): Buffer {
  let raw = rawTablesOf.get(file);
  if (!raw) rawTablesOf.set(file, (raw = rawTables(file)));
  const longLoca = s.loca.version === 1;
  const head = Buffer.from(raw.get('head')!);
  head.writeUInt32BE(0, 8); // checkSumAdjustment, set below
  head.writeInt16BE(longLoca ? 1 : 0, 50);
  const hhea = Buffer.from(raw.get('hhea')!);
  hhea.writeUInt16BE(s.hmtx.metrics.length, 34);
  const maxp = Buffer.from(raw.get('maxp')!);
  maxp.writeUInt16BE(s.glyf.length, 4);
  const loca = Buffer.alloc(s.loca.offsets.length * (longLoca ? 4 : 2));
  s.loca.offsets.forEach((o, i) => (longLoca ? loca.writeUInt32BE(o, i * 4) : loca.writeUInt16BE(o >>> 1, i * 2)));
  const hmtx = Buffer.alloc(s.hmtx.metrics.length * 4);
  s.hmtx.metrics.forEach((m, i) => {
    hmtx.writeUInt16BE(m.advance, i * 4);
    hmtx.writeInt16BE(m.bearing, i * 4 + 2);
  });
  const tables = new Map<string, Buffer>([['head', head], ['hhea', hhea], ['maxp', maxp], ['loca', loca], ['hmtx', hmtx], ['glyf', Buffer.concat(s.glyf)]]);
  const tags = [...tables.keys()].sort();
  const n = tags.length;
  const pow2 = 2 ** Math.floor(Math.log2(n));
  const dir = Buffer.alloc(12 + 16 * n);
  dir.writeUInt32BE(0x00010000, 0);
  dir.writeUInt16BE(n, 4);
  dir.writeUInt16BE(pow2 * 16, 6);
  dir.writeUInt16BE(Math.log2(pow2), 8);
  dir.writeUInt16BE(n * 16 - pow2 * 16, 10);
  const parts: Buffer[] = [dir];
  let offset = dir.length;
  // The whole file's sum is the directory's plus every table's (tables are padded with zeros).
  let fileSum = 0;
  tags.forEach((tag, i) => {
    const t = tables.get(tag)!;
    const e = 12 + 16 * i;
    const sum = checksum(t);
    fileSum = (fileSum + sum) >>> 0;
    dir.write(tag, e, 4, 'latin1');
    dir.writeUInt32BE(sum, e + 4);
    dir.writeUInt32BE(offset, e + 8);
    dir.writeUInt32BE(t.length, e + 12);
    const padded = t.length % 4 ? Buffer.concat([t, Buffer.alloc(4 - (t.length % 4))]) : t;
    parts.push(padded);
    offset += padded.length;
  });
  const out = Buffer.concat(parts);
  const headAt = dir.readUInt32BE(12 + 16 * tags.indexOf('head') + 8);
  out.writeUInt32BE((0xb1b0afba - fileSum - checksum(dir)) >>> 0, headAt + 8);
  return out;
}

/**
 * A glyph without its hinting instructions. Hinting fits outlines to a coarse
 * pixel grid on screens; PDF viewers and printers draw these sheets without
 * it (poppler and the printers' rasterizers at 300-600 dpi), and DejaVu's
 * instructions are half of every glyph's bytes: each document's fonts were
 * that much larger and slower to deflate. The outline is untouched.
 */
function withoutInstructions(glyph: Uint8Array): Uint8Array {
  if (glyph.length < 10) return glyph; // an empty glyph (a space) has no data at all
  const view = new DataView(glyph.buffer, glyph.byteOffset, glyph.byteLength);
  const contours = view.getInt16(0);
  let out: Uint8Array;
  if (contours >= 0) {
    // Header, the contours' end points, then instructionLength and the instructions before the flags.
    const at = 10 + 2 * contours;
    const length = view.getUint16(at);
    if (!length) return glyph;
    out = new Uint8Array(glyph.length - length);
    out.set(glyph.subarray(0, at + 2));
    out.set(glyph.subarray(at + 2 + length), at + 2);
    new DataView(out.buffer).setUint16(at, 0);
  } else {
    // Components one after another; instructions, if a component's flags say so, follow the last one.
    let at = 10;
    let instructions = false;
    const copy = new Uint8Array(glyph);
    const flagsOf = new DataView(copy.buffer);
    for (;;) {
      const flags = view.getUint16(at);
      if (flags & 0x0100) {
        instructions = true;
        flagsOf.setUint16(at, flags & ~0x0100);
      }
      at += 4 + (flags & 0x0001 ? 4 : 2) + (flags & 0x0008 ? 2 : flags & 0x0040 ? 4 : flags & 0x0080 ? 8 : 0);
      if (!(flags & 0x0020)) break;
    }
    if (!instructions) return glyph;
    out = copy.subarray(0, at);
  }
  // Offsets in loca stay even (a short loca counts in words): pad to four bytes, as fonts do.
  if (out.length % 4 === 0) return out;
  const padded = new Uint8Array(out.length + 4 - (out.length % 4));
  padded.set(out);
  return padded;
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
    const original = stream.readBuffer(font.loca.offsets[gid + 1]! - font.loca.offsets[gid]!);
    const components = glyf && glyf.numberOfContours < 0 ? (glyf.components ?? []).map((c) => ({ glyphID: c.glyphID, pos: c.pos })) : null;
    r = { bytes: withoutInstructions(original), components, advance: glyph.advanceWidth, bearing: glyph._getMetrics().leftBearing };
    byGid.set(gid, r);
  }
  return r;
}

/** fontkit's TTFSubset._addGlyph, with each glyph's record read once per process. */
function patchSubsetter(subset: object): void {
  const proto = Object.getPrototypeOf(subset) as TtfSubset & { __paperbackCached?: boolean };
  if (proto.__paperbackCached) return;
  const original = proto._addGlyph;
  const originalEncode = proto.encode;
  proto.encode = function encode(this: TtfSubset) {
    const file = fontFiles.get(this.font);
    if (!file || this.font._variationProcessor) return originalEncode.call(this);
    this.glyf = [];
    this.offset = 0;
    this.loca = { offsets: [], version: (this.font.loca as { version?: number }).version ?? 1 };
    this.hmtx = { metrics: [] };
    // Composite glyphs add their parts to the list as they go.
    for (let i = 0; i < this.glyphs.length; i++) this._addGlyph(this.glyphs[i]!);
    this.loca.offsets.push(this.offset);
    return writeSubsetFont(file, this);
  };
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
  // fontkit keeps each glyph's id in the subset in a plain object keyed by glyph id, which V8 holds as a
  // slow dictionary, and every glyph of every line drawn asks it: an array indexed by glyph id instead
  // (about 5 % fewer instructions to draw a ward's documents).
  proto.includeGlyph = function includeGlyph(this: TtfSubset & { ids?: Int32Array }, glyph: number | { id: number }): number {
    const gid = typeof glyph === 'object' ? glyph.id : glyph;
    if (!this.ids) {
      // Subset id + 1 by glyph id, 0 for not yet in the subset. Made at fontkit's constructor's first call
      // (glyph 0); a subset made before this patch (the probe's in useSharedFonts) brings the glyphs it has.
      this.ids = new Int32Array(this.font.numGlyphs);
      this.glyphs.forEach((g, i) => (this.ids![g] = i + 1));
    }
    const known = this.ids[gid];
    if (known) return known - 1;
    const id = this.glyphs.push(gid) - 1;
    this.ids[gid] = id + 1;
    return id;
  };
  proto.__paperbackCached = true;
}

let shared: { make: (doc: Doc, which: string) => unknown; fallbacks: string[] } | null = null;

/**
 * The layout cache is shared so a drug name is shaped once, not once per
 * MAR; it holds every distinct string drawn, so it starts afresh now and then
 * or a render thread that draws a whole hospital would keep them all.
 */
const DOCUMENTS_PER_LAYOUT_CACHE = 400;
let documentsOnCache = 0;

/**
 * Register 'body' and 'bold' on a new document, backed by the process's one
 * parse of each, and the fallback fonts for scripts they lack (CJK, Thai),
 * which a document embeds only if it draws with them.
 */
export function useSharedFonts(doc: Doc): void {
  if (!shared) {
    const probe = new PDFDocument({ autoFirstPage: false }) as unknown as Doc & PdfkitInternals;
    patchStreams((probe as unknown as { ref(): object }).ref());
    const parsed: Record<string, { font: unknown; layoutCache: object }> = {};
    let EmbeddedFont: EmbeddedFontCtor | null = null;
    const files: [string, Buffer][] = [...(['body', 'bold'] as const).map((w): [string, Buffer] => [w, FONTS[w]]), ...FALLBACK_FILES.map((f): [string, Buffer] => [f.name, f.file])];
    for (const [which, file] of files) {
      probe.registerFont(which, file);
      probe.font(which);
      EmbeddedFont = probe._font.constructor;
      patchSubsetter(probe._font.subset);
      fontFiles.set(probe._font.font as object, file);
      parsed[which] = { font: probe._font.font, layoutCache: Object.create(null) as object };
    }
    const ctor = EmbeddedFont!;
    patchFontLayout(ctor.prototype);
    shared = {
      fallbacks: FALLBACK_FILES.map((f) => f.name),
      make(d, which) {
        if (which === 'body' && ++documentsOnCache > DOCUMENTS_PER_LAYOUT_CACHE) {
          documentsOnCache = 1;
          for (const w of Object.keys(parsed)) parsed[w]!.layoutCache = Object.create(null) as object;
        }
        const internals = d as unknown as PdfkitInternals;
        const f = new ctor(d, parsed[which]!.font, `F${++internals._fontCount}`);
        f.layoutCache = parsed[which]!.layoutCache;
        return f;
      },
    };
  }
  const internals = doc as unknown as PdfkitInternals;
  const primary = (['body', 'bold'] as const).map((which) => {
    internals._registeredFonts[which] = { src: FONTS[which], family: undefined };
    const f = shared!.make(doc, which) as { fallbacks?: unknown[] };
    internals._fontFamilies[which] = f;
    return f;
  });
  // Made after the two main fonts, so their ids (F1, F2) are what they always were.
  const fallbacks = shared.fallbacks.map((name) => {
    const f = shared!.make(doc, name);
    internals._fontFamilies[name] = f;
    return f;
  });
  for (const f of primary) f.fallbacks = fallbacks;
}
