/**
 * One line of text drawn straight into the page's content, for the short
 * strings that fill table cells. pdfkit's text() reaches the same operators
 * through option merging, a second and third measurement of the string and a
 * save/transform/restore of its own state per call: half of a census's
 * render time. The operators written here are the ones pdfkit's _fragment
 * writes for left-aligned text without options (pdfkit pinned to 0.17.x;
 * tests/render compares extracted text and every page's picture).
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
}
interface DocInternals {
  _font: EmbeddedFont;
  _fontSize: number;
  page: { height: number; fonts: Record<string, unknown> };
  x: number;
  y: number;
  addContent(data: string): unknown;
}

/** As pdfkit writes numbers into content streams. */
const num = (n: number) => Math.round(n * 1e6) / 1e6;

export type Align = 'left' | 'right' | 'center';

interface PreparedLine {
  runs: string;
  width: number;
}

/** Shape one line and split it into TJ runs; null if it is wider than `width` or a glyph sits off the line (a combining mark). */
function prepareLine(font: EmbeddedFont, size: number, text: string, width: number): PreparedLine | null {
  const [encoded, positions] = font.encode(text);
  let advance = 0;
  for (const p of positions) {
    if (p.xOffset || p.yOffset) return null;
    advance += p.xAdvance;
  }
  const lineWidth = (advance * size) / 1000;
  // The half-point margin keeps kerning differences from ever needing a wrap.
  if (lineWidth > width - 0.5) return null;
  // A run of glyphs ends where one's advance differs from its width (kerning): the difference goes between runs.
  const runs: string[] = [];
  let start = 0;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    if (p.xAdvance - p.advanceWidth === 0 && i < positions.length - 1) continue;
    runs.push(`<${encoded.slice(start, i + 1).join('')}> ${num(-(p.xAdvance - p.advanceWidth))}`);
    start = i + 1;
  }
  return { runs: runs.join(' '), width: lineWidth };
}

/** The height pdfkit gives each line of text with lineGap 1 (what heightOfString counts). */
export const lineHeight = (doc: Doc) => doc.currentLineHeight(true) + 1;

/**
 * Draw `text` in the box [x, x + width] from y, one line per "\n", with the
 * current font, size and colour, if every line fits as it is. Returns false,
 * drawing nothing, when a line would need wrapping, is empty, or has a glyph
 * positioned off its line (a combining mark): the caller then lets pdfkit do
 * it. Lines after the first are left-aligned only, as pdfkit would.
 */
export function drawLines(doc: Doc, text: string, x: number, y: number, width: number, align: Align = 'left'): boolean {
  const d = doc as unknown as DocInternals;
  if (!text) {
    d.x = x;
    d.y = y;
    return true;
  }
  const texts = text.split('\n');
  if (texts.length > 1 && (align !== 'left' || texts.some((t) => !t))) return false;
  const font = d._font;
  const size = d._fontSize;
  const lines: PreparedLine[] = [];
  for (const t of texts) {
    const line = prepareLine(font, size, t, width);
    if (!line) return false;
    lines.push(line);
  }
  if (d.page.fonts[font.id] == null) d.page.fonts[font.id] = font.ref();
  const pageHeight = d.page.height;
  const ascent = (font.ascender / 1000) * size;
  const step = lineHeight(doc);
  let out = `q\n1 0 0 -1 0 ${num(pageHeight)} cm\nBT\n`;
  lines.forEach((line, i) => {
    const room = width - line.width;
    const left = x + (align === 'right' ? room : align === 'center' ? room / 2 : 0);
    out += `1 0 0 1 ${num(left)} ${num(pageHeight - (y + i * step) - ascent)} Tm\n/${font.id} ${num(size)} Tf\n[${line.runs}] TJ\n`;
  });
  d.addContent(`${out}ET\nQ`);
  d.x = x + lines[lines.length - 1]!.width;
  d.y = y + (lines.length - 1) * step;
  return true;
}

/** The height of `text` in a box `width` wide if every "\n" line fits as it is; null when it would wrap. Font and size are already set. */
export function linesHeight(doc: Doc, text: string, width: number): number | null {
  const lines = text.split('\n');
  if (lines.length > 1 && lines.some((l) => !l)) return null;
  for (const l of lines) if (doc.widthOfString(l) > width - 0.5) return null;
  return lines.length * lineHeight(doc);
}
