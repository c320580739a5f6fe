/**
 * pdfkit's EmbeddedFont.layout, encode and widthOfString, with the same
 * results and less work per call. Every cell's text is measured two or three
 * times (its height, its lines, its alignment) and encoded once: a quarter of
 * a render thread's time went to pdfkit's own loop around fontkit.
 *
 * pdfkit cuts a text after each space or tab, shapes each piece once through
 * its layout cache and joins the pieces. Kept as it is: pieces are shaped the
 * same way, in the same order, and their widths summed in the same order, so
 * every width and glyph is the one pdfkit computes. Changed:
 * - the cut is found with charCodeAt, not charAt and Array.includes;
 * - glyphs and positions are pushed into one array, not concatenated anew for
 *   every word (quadratic in a line's words);
 * - a whole text's width is remembered next to the layout cache, so measuring
 *   the same text again costs one lookup, not a cut and a lookup per word;
 * - a glyph's four hex digits are made once per glyph id.
 * pdfkit is pinned to 0.17.x; tests/render/font-layout.test.ts compares these
 * with pdfkit's own functions on every text of a generated ward.
 */
interface LayoutRun {
  glyphs: { id: number; advanceWidth: number; codePoints: number[] }[] | null;
  positions: object[] | null;
  advanceWidth: number;
}
interface EmbeddedFontLike {
  scale: number;
  layoutCache?: Record<string, LayoutRun>;
  widths: number[];
  unicode: number[][];
  subset: { includeGlyph(gid: number): number };
  /** fontkit's font: its cmap says which characters a glyph draws. */
  font: { _cmapProcessor: { codePointsForGlyph(gid: number): number[] }; hasGlyphForCodePoint(cp: number): boolean };
  /** Fonts for scripts this one lacks (CJK, Thai), this document's own, in order (fonts.ts). */
  fallbacks?: EmbeddedFontLike[];
  id: string;
  layoutRun(text: string, features?: unknown): LayoutRun;
  layoutCached(text: string): LayoutRun;
  layout(text: string, features?: unknown, onlyWidth?: boolean): LayoutRun;
  encode(text: string, features?: unknown): [string[], object[]];
  widthOfString(text: string, size: number, features?: unknown): number;
  __paperbackLayout?: boolean;
}

/** Whole texts' widths, one map per layout cache: they start afresh together (fonts.ts). */
const widthsOf = new WeakMap<object, Map<string, number>>();
/** Bounded apart from the layout cache: a long text is a key of its own, not shared words. */
const MAX_WIDTHS = 20_000;

const HEX: string[] = [];
const hex4 = (gid: number) => (HEX[gid] ??= `0000${gid.toString(16)}`.slice(-4));

/** The pieces pdfkit shapes: up to and including each space or tab, then the rest. */
function eachPiece(font: EmbeddedFontLike, text: string, visit: (run: LayoutRun) => void): void {
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      visit(font.layoutCached(text.slice(last, i + 1)));
      last = i + 1;
    }
  }
  if (last < text.length) visit(font.layoutCached(text.slice(last)));
}

/** A stretch of text and the font that draws it. */
export interface FontRun<F> {
  font: F;
  text: string;
}

const coverage = new WeakMap<object, Map<number, boolean>>();
function has(font: EmbeddedFontLike, cp: number): boolean {
  let m = coverage.get(font.font);
  if (!m) coverage.set(font.font, (m = new Map()));
  let ok = m.get(cp);
  if (ok === undefined) m.set(cp, (ok = font.font.hasGlyphForCodePoint(cp)));
  return ok;
}

/** Latin with all of Vietnamese: every sheet's bulk, which DejaVu has. */
const plain = (cp: number) => cp < 0x250 || (cp >= 0x1ea0 && cp <= 0x1ef9) || (cp >= 0x2000 && cp <= 0x206f);
/** Any character outside that: only then is coverage asked, one native scan per text. */
const NOT_PLAIN = /[^\u0000-\u024f\u1ea0-\u1ef9\u2000-\u206f]/;

/** A text's width in this font alone, piece by piece as pdfkit measures it. */
function piecesWidth(font: EmbeddedFontLike, text: string): number {
  let width = 0;
  eachPiece(font, text, (run) => (width += run.advanceWidth));
  return width;
}

/**
 * The text cut where a character needs a fallback font (a Chinese or Thai
 * name on a Vietnamese sheet), or null when the font draws it all. Spaces go
 * with the stretch they follow; what no font has stays with this one (and was
 * marked before drawing: coverage.ts).
 */
export function fontRuns<F extends EmbeddedFontLike>(font: F, text: string): FontRun<F>[] | null {
  const fallbacks = font.fallbacks as F[] | undefined;
  if (!fallbacks?.length || !NOT_PLAIN.test(text)) return null;
  let needed = false;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (!plain(cp) && !has(font, cp)) {
      needed = true;
      break;
    }
  }
  if (!needed) return null;
  const runs: FontRun<F>[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const last = runs[runs.length - 1];
    let f: F = font;
    if (cp === 32 || cp === 9) f = last?.font ?? font;
    else if (!plain(cp) && !has(font, cp)) f = fallbacks.find((fb) => has(fb, cp)) ?? font;
    if (last && last.font === f) last.text += ch;
    else runs.push({ font: f, text: ch });
  }
  return runs;
}

function widthOf(font: EmbeddedFontLike, text: string): number {
  const cache = font.layoutCache;
  let widths = cache ? widthsOf.get(cache) : undefined;
  if (cache && !widths) widthsOf.set(cache, (widths = new Map()));
  const known = widths?.get(text);
  if (known !== undefined) return known;
  let width = 0;
  // Stretches in a fallback font are measured in it (the cache above holds the sum, like any width).
  const runs = fontRuns(font, text);
  if (runs) for (const r of runs) width += r.font === font ? piecesWidth(font, r.text) : r.font.widthOfString(r.text, 1000);
  else width = piecesWidth(font, text);
  if (widths) {
    if (widths.size >= MAX_WIDTHS) widths.clear();
    widths.set(text, width);
  }
  return width;
}

/**
 * A glyph into the document's subset, as pdfkit's encode does: its id there in hex, its width and text recorded.
 *
 * fontkit keeps one glyph object per id, made the first time the id is asked for. When the subsetter asks
 * first, for a component of a composite (Ư inside Ứ, ê inside ế), that object knows no characters, and a
 * later line that draws ê gets it from the cache: its text would be missing from the PDF's text layer
 * ("ký t n"). The font's own cmap says what the glyph draws, then.
 */
function include(font: EmbeddedFontLike, glyph: NonNullable<LayoutRun['glyphs']>[number]): string {
  const gid = font.subset.includeGlyph(glyph.id);
  if (font.widths[gid] == null) font.widths[gid] = glyph.advanceWidth * font.scale;
  if (!font.unicode[gid]?.length) {
    const drawn = glyph.codePoints?.length ? glyph.codePoints : font.font._cmapProcessor.codePointsForGlyph(glyph.id).slice(0, 1);
    font.unicode[gid] = drawn;
  }
  return hex4(gid);
}

/** Replace layout, encode and widthOfString on pdfkit's EmbeddedFont prototype; idempotent. */
export function patchFontLayout(proto: object): void {
  const p = proto as EmbeddedFontLike;
  if (p.__paperbackLayout) return;
  p.layout = function layout(this: EmbeddedFontLike, text, features, onlyWidth) {
    if (features) return this.layoutRun(text, features);
    if (onlyWidth) return { glyphs: null, positions: null, advanceWidth: widthOf(this, text) };
    const glyphs: NonNullable<LayoutRun['glyphs']> = [];
    const positions: object[] = [];
    let advanceWidth = 0;
    eachPiece(this, text, (run) => {
      for (const g of run.glyphs!) glyphs.push(g);
      for (const q of run.positions!) positions.push(q);
      advanceWidth += run.advanceWidth;
    });
    return { glyphs, positions, advanceWidth };
  };
  p.encode = function encode(this: EmbeddedFontLike, text, features) {
    const res: string[] = [];
    if (features) {
      const run = this.layoutRun(text, features);
      for (const glyph of run.glyphs!) res.push(include(this, glyph));
      return [res, run.positions!];
    }
    const positions: object[] = [];
    eachPiece(this, text, (run) => {
      const glyphs = run.glyphs!;
      for (let i = 0; i < glyphs.length; i++) {
        res.push(include(this, glyphs[i]!));
        positions.push(run.positions![i]!);
      }
    });
    return [res, positions];
  };
  p.widthOfString = function widthOfString(this: EmbeddedFontLike, text, size, features) {
    return (features ? this.layoutRun(text, features).advanceWidth : widthOf(this, text)) * (size / 1000);
  };
  p.__paperbackLayout = true;
}
