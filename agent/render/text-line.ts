import LineBreaker from 'linebreak';
import { pdfNumber as num } from './streams.js';
import { fontRuns, type FontRun } from './font-layout.js';

/**
 * Text in a table cell or field, laid out and drawn straight into the page's
 * content. pdfkit's text() reaches the same operators through option merging,
 * more measurements of the same string and a save/transform/restore of its
 * own state per call: most of a census's render time.
 *
 * Lines are broken where pdfkit's line wrapper breaks them (the same Unicode
 * line breaker; a word fits while its width, trailing space included, fits
 * what is left of the line), with one difference on purpose: a line ended by
 * "\n" is measured without the newline, which pdfkit counted as a glyph and
 * so wrapped lines that fit. The operators written are the ones pdfkit's
 * _fragment writes (pdfkit pinned to 0.17.x; tests/render compares extracted
 * text and word positions).
 */
type Doc = PDFKit.PDFDocument;

interface Position {
  xAdvance: number;
  advanceWidth: number;
  xOffset: number;
  yOffset: number;
}
interface EmbeddedFont {
  id: string;
  ascender: number;
  encode(text: string): [string[], Position[]];
  ref(): unknown;
  fallbacks?: EmbeddedFont[];
}
interface DocInternals {
  _font: EmbeddedFont;
  _fontSize: number;
  page: { height: number; fonts: Record<string, unknown>; maxY(): number };
  x: number;
  y: number;
  addContent(data: string): unknown;
}

export type Align = 'left' | 'right' | 'center';


/** The height pdfkit gives each line of text with lineGap 1 (what heightOfString counts). */
const lineStep = (doc: Doc) => doc.currentLineHeight(true) + 1;

/**
 * The lines `text` takes in a box `width` wide with the current font and
 * size, or null where pdfkit's own wrapper is needed: a word wider than the
 * whole line (pdfkit splits it between letters), a soft hyphen, or a break
 * character other than "\n".
 */
export function layoutLines(doc: Doc, text: string, width: number): string[] | null {
  if (text.includes('\u00ad')) return null;
  const given = text.split('\n');
  // pdfkit ends a text at its last "\n": no empty line after it.
  if (given.length > 1 && given[given.length - 1] === '') given.pop();
  const lines: string[] = [];
  for (const para of given) {
    // The half-point margin keeps kerning differences from ever needing a wrap.
    if (doc.widthOfString(para) <= width - 0.5) {
      lines.push(para);
      continue;
    }
    const breaker = new LineBreaker(para);
    let line = '';
    let room = width;
    let from = 0;
    for (let bk = breaker.nextBreak(); bk; bk = breaker.nextBreak()) {
      if (bk.required && bk.position < para.length) return null;
      const word = para.slice(from, bk.position);
      from = bk.position;
      const w = Math.fround(doc.widthOfString(word));
      if (w > width) return null;
      if (w <= room) {
        line += word;
        room -= w;
      } else {
        lines.push(line);
        line = word;
        room = width - w;
      }
    }
    if (line) lines.push(line);
  }
  return lines;
}

/** The height of `text` wrapped in `width`, as pdfkit's heightOfString counts it with lineGap 1. Font and size are already set. */
export function textBoxHeight(doc: Doc, text: string, width: number): number {
  const lines = layoutLines(doc, text, width);
  return lines ? Math.max(1, lines.length) * lineStep(doc) : doc.heightOfString(text || ' ', { width, lineGap: 1 });
}

/**
 * One line's text operators at its baseline. A line with a name in a script
 * the font lacks is drawn a stretch at a time, each in the font that has it.
 */
function lineOperators(font: EmbeddedFont, size: number, text: string, x: number, baseline: number, out: string[], use: (f: EmbeddedFont) => void): void {
  const runs = fontRuns(font as never, text) as FontRun<EmbeddedFont>[] | null;
  if (!runs) {
    runOperators(font, size, text, x, baseline, out);
    return;
  }
  let cx = x;
  for (const r of runs) {
    use(r.font);
    cx = runOperators(r.font, size, r.text, cx, baseline, out);
  }
}

/** One font's text operators from x at the baseline, glyph runs split where kerning or a mark's offset says (as pdfkit's _fragment); returns where it ends. */
function runOperators(font: EmbeddedFont, size: number, text: string, x: number, baseline: number, out: string[]): number {
  const [encoded, positions] = font.encode(text);
  const scale = size / 1000;
  // A run is a glyph string and the kerning after its last glyph; runs joined make one TJ array.
  // Built as strings as the glyphs go by: this is drawn for every line of every cell.
  let runs = '';
  let glyphs = '';
  const endRun = (p: Position) => {
    runs += `${runs ? ' ' : ''}<${glyphs}> ${num(-(p.xAdvance - p.advanceWidth))}`;
    glyphs = '';
  };
  const endArray = () => {
    if (runs) out.push(`[${runs}] TJ`);
    runs = '';
  };
  out.push(`1 0 0 1 ${num(x)} ${num(baseline)} Tm`, `/${font.id} ${num(size)} Tf`);
  let cx = x;
  let offset = false;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    if (p.xOffset || p.yOffset) {
      // A mark placed by the font: the glyphs before it, then it alone at its own position.
      if (glyphs) endRun(positions[i - 1]!);
      endArray();
      out.push(`1 0 0 1 ${num(cx + p.xOffset * scale)} ${num(baseline + p.yOffset * scale)} Tm`);
      glyphs = encoded[i]!;
      endRun(p);
      endArray();
      offset = true;
    } else {
      if (offset) out.push(`1 0 0 1 ${num(cx)} ${num(baseline)} Tm`);
      offset = false;
      glyphs += encoded[i]!;
      if (p.xAdvance - p.advanceWidth !== 0) endRun(p);
    }
    cx += p.xAdvance * scale;
  }
  if (glyphs) endRun(positions[positions.length - 1]!);
  endArray();
  return cx;
}

/** The operators that put `lines` (drawn `step` apart from y, aligned in `width`) on the page with the current font, size and colour. */
function drawLines(doc: Doc, lines: string[], x: number, y: number, width: number, align: Align, step: number): void {
  const d = doc as unknown as DocInternals;
  if (!lines.some((l) => l.trim())) return;
  const font = d._font;
  const size = d._fontSize;
  if (d.page.fonts[font.id] == null) d.page.fonts[font.id] = font.ref();
  const pageHeight = d.page.height;
  const ascent = (font.ascender / 1000) * size;
  const out = ['q', `1 0 0 -1 0 ${num(pageHeight)} cm`, 'BT'];
  lines.forEach((line, i) => {
    if (!line) return;
    // As pdfkit aligns: trailing spaces count when centring, not when aligning right.
    const room = align === 'left' ? 0 : width - doc.widthOfString(align === 'right' ? line.replace(/\s+$/, '') : line);
    lineOperators(font, size, line, x + (align === 'right' ? room : align === 'center' ? room / 2 : 0), pageHeight - (y + i * step) - ascent, out, (f) => {
      if (d.page.fonts[f.id] == null) d.page.fonts[f.id] = f.ref();
    });
  });
  out.push('ET', 'Q');
  d.addContent(out.join('\n'));
}

/**
 * Draw `text` in the box [x, x + width] from y with the current font, size
 * and colour, lines as layoutLines breaks them, `gap` points apart; the
 * document's y ends below the last line, as after pdfkit's text(). Text that
 * layoutLines leaves to pdfkit, or that would run past the page's bottom
 * (pdfkit carries it to a new page rather than lose it), is drawn by
 * pdfkit's text().
 */
export function drawTextBox(doc: Doc, text: string, x: number, y: number, width: number, align: Align = 'left', gap = 1): void {
  const d = doc as unknown as DocInternals;
  const lines = layoutLines(doc, text, width);
  const step = doc.currentLineHeight(true) + gap;
  if (!lines || y + lines.length * step > d.page.maxY()) {
    doc.text(text, x, y, { width, align, lineGap: gap });
    return;
  }
  drawLines(doc, lines, x, y, width, align, step);
  d.x = x;
  d.y = y + lines.length * step;
}

/** One line at (x, y) that the caller has already fitted (page headers and footers); the document's x and y stay. */
export function drawLineAt(doc: Doc, text: string, x: number, y: number): void {
  drawLines(doc, [text], x, y, 0, 'left', 0);
}
