import PDFDocument from 'pdfkit';
import type { Block, Column, DocumentSpec, PatientStamp, Tone } from './blocks.js';
import { drawBarcode } from './barcode.js';
import { useSharedFonts } from './fonts.js';
import { drawLineAt, drawTextBox, textBoxHeight } from './text-line.js';

const SIZE = { body: 9, small: 7.5, h1: 15, h2: 12, h3: 10 };
const MARGIN = 28;
const HEADER_H = 34;
const FOOTER_H = 26;
const PATIENT_H = 34;
/** The band's third line: allergies and code status. */
const PATIENT_ALERT_H = 11;
const PAD = 3;
const RULE = 0.8;
const INK = '#000000';
const ALERT = '#b00000';

type Doc = PDFKit.PDFDocument;

function fontFor(tone: Tone | undefined): 'body' | 'bold' {
  return tone === 'strong' || tone === 'alert' ? 'bold' : 'body';
}
function colorFor(tone: Tone | undefined): string {
  return tone === 'alert' ? ALERT : tone === 'muted' ? '#444444' : INK;
}

interface Ctx {
  doc: Doc;
  spec: DocumentSpec;
  top: number;
  bottom: number;
  left: number;
  width: number;
  /** Patient identity per page index, for the bands drawn at the end. */
  pagePatients: (PatientStamp | null)[];
  currentPatient: PatientStamp | null;
}

function contentTop(spec: DocumentSpec, patient: PatientStamp | null): number {
  return MARGIN + HEADER_H + (spec.stamp.banner ? 18 : 0) + (patient ? bandHeight(patient) : 0) + 6;
}

/** The band grows a line for the allergy alert, and one for the other identifiers (admission number, insurance card, citizen ID). */
const bandHeight = (p: PatientStamp) => PATIENT_H + (p.alert ? PATIENT_ALERT_H : 0) + (p.ids ? PATIENT_ALERT_H : 0);

function newPage(ctx: Ctx, patient: PatientStamp | null = ctx.currentPatient): void {
  ctx.doc.addPage();
  ctx.currentPatient = patient;
  ctx.pagePatients.push(patient);
  ctx.top = contentTop(ctx.spec, patient);
  ctx.doc.y = ctx.top;
}

function ensure(ctx: Ctx, height: number): void {
  if (ctx.doc.y + height > ctx.bottom && ctx.doc.y > ctx.top + 1) newPage(ctx);
}

/** The height pdfkit would give `text` wrapped in `width` with lineGap 1. */
function textHeight(doc: Doc, text: string, width: number, font: 'body' | 'bold', size: number): number {
  doc.font(font).fontSize(size);
  return textBoxHeight(doc, text, width);
}

function drawHeading(ctx: Ctx, b: Extract<Block, { type: 'heading' }>): void {
  const size = b.level === 1 ? SIZE.h1 : b.level === 2 ? SIZE.h2 : SIZE.h3;
  const h = textHeight(ctx.doc, b.text, ctx.width, 'bold', size);
  ensure(ctx, h + 24); // keep a heading with at least a line of what follows
  ctx.doc.font('bold').fontSize(size).fillColor(INK);
  drawTextBox(ctx.doc, b.text, ctx.left, ctx.doc.y, ctx.width);
  ctx.doc.y += 3;
}

function drawText(ctx: Ctx, text: string, tone?: Tone): void {
  const h = textHeight(ctx.doc, text, ctx.width, fontFor(tone), SIZE.body);
  ensure(ctx, h);
  ctx.doc.font(fontFor(tone)).fontSize(SIZE.body).fillColor(colorFor(tone));
  drawTextBox(ctx.doc, text, ctx.left, ctx.doc.y, ctx.width);
  ctx.doc.y += 3;
}

function drawNotice(ctx: Ctx, b: Extract<Block, { type: 'notice' }>): void {
  const inner = ctx.width - 2 * 6;
  const titleH = textHeight(ctx.doc, b.title, inner, 'bold', SIZE.h3);
  const linesH = b.lines.reduce((s, l) => s + textHeight(ctx.doc, l, inner, b.tone === 'alert' ? 'bold' : 'body', SIZE.body), 0);
  const h = titleH + linesH + 12;
  ensure(ctx, h);
  const y0 = ctx.doc.y;
  const { doc } = ctx;
  doc.lineWidth(b.tone === 'alert' ? 2 : RULE).strokeColor(INK).rect(ctx.left, y0, ctx.width, h).stroke();
  doc.font('bold').fontSize(SIZE.h3).fillColor(b.tone === 'alert' ? ALERT : INK);
  drawTextBox(doc, b.title, ctx.left + 6, y0 + 5, inner, 'left', 0);
  let y = y0 + 5 + titleH;
  for (const l of b.lines) {
    doc.font(b.tone === 'alert' ? 'bold' : 'body').fontSize(SIZE.body).fillColor(INK);
    drawTextBox(doc, l, ctx.left + 6, y, inner);
    y += textHeight(doc, l, inner, b.tone === 'alert' ? 'bold' : 'body', SIZE.body);
  }
  doc.y = y0 + h + 6;
}

function drawFields(ctx: Ctx, b: Extract<Block, { type: 'fields' }>): void {
  // Two label/value pairs per line, so a face sheet stays on one page.
  const colW = ctx.width / 2;
  const labelW = 92;
  for (let i = 0; i < b.items.length; i += 2) {
    const pair = b.items.slice(i, i + 2);
    const h = Math.max(...pair.map((f) => textHeight(ctx.doc, f.value, colW - labelW - 8, fontFor(f.tone), SIZE.body))) + 3;
    ensure(ctx, h);
    const y = ctx.doc.y;
    pair.forEach((f, j) => {
      const x = ctx.left + j * colW;
      ctx.doc.font('body').fontSize(SIZE.small).fillColor('#333333');
      drawTextBox(ctx.doc, f.label, x, y + 1, labelW - 4, 'left', 0);
      ctx.doc.font(fontFor(f.tone)).fontSize(SIZE.body).fillColor(colorFor(f.tone));
      drawTextBox(ctx.doc, f.value, x + labelW, y, colW - labelW - 8);
    });
    ctx.doc.y = y + h;
  }
  ctx.doc.y += 4;
}

function columnXs(ctx: Ctx, cols: Column[]): { x: number; w: number }[] {
  const total = cols.reduce((s, c) => s + c.width, 0);
  let x = ctx.left;
  return cols.map((c) => {
    const w = (c.width / total) * ctx.width;
    const r = { x, w };
    x += w;
    return r;
  });
}

type Cell = { text: string; tone?: Tone };
type RowOpts = { header?: boolean; tone?: Tone; minHeight?: number };

function rowHeight(ctx: Ctx, xs: { x: number; w: number }[], cells: Cell[], opts: RowOpts, cols?: Column[]): number {
  const size = opts.header ? SIZE.small + 0.5 : SIZE.body;
  const heights = cells.map((c, i) =>
    cols?.[i]?.nowrap && !opts.header ? c.text.split('\n').length * (ctx.doc.font('body').fontSize(size).currentLineHeight(true) + 1) : textHeight(ctx.doc, c.text, xs[i]!.w - 2 * PAD, opts.header ? 'bold' : fontFor(c.tone ?? opts.tone), size),
  );
  return Math.max(opts.minHeight ?? 0, ...heights) + 2 * PAD;
}

/** A cell of a nowrap column: each line shrunk to the width, never broken mid-label. */
function drawWholeLines(doc: Doc, text: string, x: number, y: number, width: number, font: 'body' | 'bold', size: number): void {
  const step = doc.font(font).fontSize(size).currentLineHeight(true) + 1;
  text.split('\n').forEach((line, i) => {
    const fitted = shrinkToFit(doc, line, font, size, 4.5, width);
    doc.font(font).fontSize(fitted.size);
    drawLineAt(doc, fitted.text, x, y + i * step + (size - fitted.size) / 2);
  });
}

function drawRow(ctx: Ctx, cols: Column[], xs: { x: number; w: number }[], cells: Cell[], opts: RowOpts, height?: number): void {
  const { doc } = ctx;
  const size = opts.header ? SIZE.small + 0.5 : SIZE.body;
  const h = height ?? rowHeight(ctx, xs, cells, opts);
  const y = doc.y;
  if (opts.header) doc.rect(ctx.left, y, ctx.width, h).fillColor('#d9d9d9').fill();
  cells.forEach((c, i) => {
    const tone = c.tone ?? opts.tone;
    doc.font(opts.header ? 'bold' : fontFor(tone)).fontSize(size).fillColor(opts.header ? INK : colorFor(tone));
    if (cols[i]?.nowrap && !opts.header) drawWholeLines(doc, c.text, xs[i]!.x + PAD, y + PAD, xs[i]!.w - 2 * PAD, fontFor(tone), size);
    else drawTextBox(doc, c.text, xs[i]!.x + PAD, y + PAD, xs[i]!.w - 2 * PAD, cols[i]?.align ?? 'left');
  });
  doc.lineWidth(RULE).strokeColor(INK);
  for (const { x, w } of xs) doc.rect(x, y, w, h).stroke();
  doc.y = y + h;
}

function drawTable(ctx: Ctx, b: Extract<Block, { type: 'table' }>): void {
  const xs = columnXs(ctx, b.columns);
  const header = b.columns.map((c) => ({ text: c.label }));
  const headerH = rowHeight(ctx, xs, header, { header: true });
  const heights = b.rows.map((r) => rowHeight(ctx, xs, r.cells, { tone: r.tone, minHeight: r.minHeight }, b.columns));
  ensure(ctx, headerH + (heights[0] ?? 16));
  drawRow(ctx, b.columns, xs, header, { header: true }, headerH);
  if (b.rows.length === 0 && b.empty) {
    drawRow(ctx, [{ label: '', width: 1 }], [{ x: ctx.left, w: ctx.width }], [{ text: b.empty, tone: 'strong' }], {});
  }
  b.rows.forEach((r, i) => {
    const h = heights[i]!;
    if (ctx.doc.y + h > ctx.bottom) {
      newPage(ctx);
      // The header row repeats on every page so a loose page still reads.
      drawRow(ctx, b.columns, xs, header, { header: true }, headerH);
    }
    drawRow(ctx, b.columns, xs, r.cells, { tone: r.tone, minHeight: r.minHeight }, h);
  });
  ctx.doc.y += 6;
}

/** Shorten to fit one line, ending in "…": chrome lines must never wrap into the content. */
function fit(doc: Doc, text: string, font: 'body' | 'bold', size: number, width: number): string {
  doc.font(font).fontSize(size);
  if (doc.widthOfString(text) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (doc.widthOfString(`${text.slice(0, mid)}…`) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

/**
 * Fit text to a width by shrinking it first (down to `minSize`), and cutting it
 * with … only if even that is too wide: a name or an allergy list is better
 * small than cut.
 */
function shrinkToFit(doc: Doc, text: string, font: 'body' | 'bold', size: number, minSize: number, width: number): { text: string; size: number } {
  doc.font(font).fontSize(size);
  const w = doc.widthOfString(text);
  if (w <= width) return { text, size };
  const smaller = Math.max(minSize, Math.floor(((size * width) / w) * 10) / 10);
  return { text: fit(doc, text, font, smaller, width), size: smaller };
}

/** pdfkit's opened image (its types leave openImage out); image() draws one without opening it again. */
type Logo = { width: number; height: number };

function drawChrome(doc: Doc, spec: DocumentSpec, logo: Logo | null, pageIndex: number, pages: number, patient: PatientStamp | null): void {
  const { width, height } = doc.page;
  const left = MARGIN;
  const w = width - 2 * MARGIN;
  const s = spec.stamp;
  // Header: the marking in a black band, legible after any number of photocopies.
  doc.rect(left, MARGIN, w, 20).fillColor(INK).fill();
  // The marking and title come first; the hospital takes what room is left; the ward leads the line below.
  let titleX = left + 6;
  if (logo) {
    // On a white tile inside the black band, so any logo stays visible.
    doc.rect(left + 2, MARGIN + 2, 40, 16).fillColor('#ffffff').fill();
    doc.image(logo as unknown as PDFKit.Mixins.ImageSrc, left + 3, MARGIN + 3, { fit: [38, 14], align: 'center', valign: 'center' });
    titleX = left + 48;
  }
  // Names shrink to fit before anything is cut: a long hospital or ward name stays whole on paper.
  const title = shrinkToFit(doc, `${s.marking} — ${s.documentTitle}`, 'bold', 12, 8, w - 12 - (titleX - left));
  doc.font('bold').fontSize(title.size).fillColor('#ffffff');
  drawLineAt(doc, title.text, titleX, MARGIN + 4 + (12 - title.size) / 2);
  const room = w - 30 - doc.widthOfString(title.text) - (titleX - left);
  if (room > 60) {
    const hospital = shrinkToFit(doc, s.hospital, 'bold', 8.5, 5, room);
    doc.font('bold').fontSize(hospital.size);
    drawLineAt(doc, hospital.text, left + w - 6 - doc.widthOfString(hospital.text), MARGIN + 6 + (8.5 - hospital.size) / 2);
  }
  doc.fillColor(INK);
  const ward = shrinkToFit(doc, `${room > 60 ? '' : `${s.hospital} · `}${s.ward}`, 'bold', SIZE.small + 0.5, 5, w / 2);
  doc.font('bold').fontSize(ward.size);
  drawLineAt(doc, ward.text, left, MARGIN + 23);
  const wardW = doc.widthOfString(ward.text);
  drawLineAt(doc, fit(doc, ` · ${s.footer[0] ?? ''}`, 'body', SIZE.small + 0.5, w - wardW), left + wardW, MARGIN + 23);
  let y = MARGIN + HEADER_H;
  if (s.banner) {
    doc.rect(left, y - 2, w, 16).lineWidth(1.5).strokeColor(ALERT).stroke();
    doc.fillColor(ALERT);
    drawLineAt(doc, fit(doc, `⚠ ${s.banner}`, 'bold', SIZE.body, w - 8), left + 4, y + 1.5);
    y += 18;
  }
  if (patient) {
    doc.lineWidth(1.2).strokeColor(INK).rect(left, y, w, bandHeight(patient) - 4).stroke();
    const textW = w - 180;
    doc.fillColor(INK);
    const name = shrinkToFit(doc, patient.name, 'bold', 11, 7, textW);
    doc.font('bold').fontSize(name.size);
    drawLineAt(doc, name.text, left + 6, y + 3 + (11 - name.size) / 2);
    drawLineAt(doc, fit(doc, `${patient.mrnLabel ?? 'MRN'} ${patient.mrn}   ·   ${patient.birthDate}   ·   ${patient.bed}`, 'body', SIZE.body, textW), left + 6, y + 17);
    // The other identifiers on a line of their own, below the barcode: beside the bed they were cut on a portrait page.
    if (patient.ids) drawLineAt(doc, fit(doc, patient.ids, 'body', SIZE.body, w - 12), left + 6, y + 29 + (patient.alert ? PATIENT_ALERT_H : 0));
    if (patient.alert) {
      doc.fillColor(ALERT);
      const alert = shrinkToFit(doc, patient.alert, 'bold', SIZE.body, 5.5, w - 12);
      doc.font('bold').fontSize(alert.size);
      drawLineAt(doc, alert.text, left + 6, y + 29);
      doc.fillColor(INK);
    }
    if (patient.barcode) drawBarcode(doc, patient.barcode, left + w - 170, y + 3, 164, PATIENT_H - 10);
  }
  // Footer: data age, source and rendering time on every page, and page X of Y.
  const fy = height - MARGIN - FOOTER_H + 6;
  doc.lineWidth(RULE).strokeColor(INK).moveTo(left, fy - 3).lineTo(left + w, fy - 3).stroke();
  doc.fillColor(INK);
  s.footer.forEach((line, i) => drawLineAt(doc, fit(doc, line, 'body', SIZE.small, w - 90), left, fy + i * 9));
  const label = s.pageLabel.replace('{page}', String(pageIndex + 1)).replace('{pages}', String(pages));
  doc.font('bold').fontSize(SIZE.body);
  drawTextBox(doc, label, left + w - 90, fy, 90, 'right');
}

/**
 * Every string with its letters composed (NFC). A HIS may send Vietnamese
 * decomposed (a base letter and combining marks). Drawn as marks, the page
 * looks right, but the fonts are shared by every document in the process and
 * fontkit keeps, per glyph, the characters of the first text that used it: a
 * mark first met elsewhere can carry no text, and the PDF's searchable,
 * copyable text would lose it. Composed letters have glyphs of their own.
 */
const MARK = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/;
function hasMarks(value: unknown): boolean {
  if (typeof value === 'string') return MARK.test(value);
  if (Array.isArray(value)) return value.some(hasMarks);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) return Object.values(value).some(hasMarks);
  return false;
}
function composed<T>(value: T): T {
  if (typeof value === 'string') return value.normalize('NFC') as T;
  if (Array.isArray(value)) return value.map(composed) as T;
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, composed(v)])) as T;
  }
  return value;
}

/** Draw a document to a PDF buffer. */
export function renderPdf(given: DocumentSpec): Promise<{ pdf: Buffer; pages: number }> {
  // Rebuilt only when something is decomposed: most specs are not, and copying one cost 5 % of a census.
  const spec = hasMarks(given) ? composed(given) : given;
  const doc = new PDFDocument({
    size: spec.size,
    layout: spec.orientation,
    margin: MARGIN,
    autoFirstPage: false,
    bufferPages: true,
    compress: true,
    info: { Title: spec.metaTitle, Creator: 'Paperback', Producer: 'Paperback (pdfkit)' },
    // No default Helvetica: pdfkit would parse its AFM metrics for every document, unused.
    font: null as unknown as string,
  });
  useSharedFonts(doc);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const ctx: Ctx = { doc, spec, top: 0, bottom: 0, left: MARGIN, width: 0, pagePatients: [], currentPatient: spec.patient };
  newPage(ctx, spec.patient);
  ctx.width = doc.page.width - 2 * MARGIN;
  ctx.bottom = doc.page.height - MARGIN - FOOTER_H - 4;
  for (const b of spec.blocks) {
    switch (b.type) {
      case 'heading':
        drawHeading(ctx, b);
        break;
      case 'text':
        drawText(ctx, b.text, b.tone);
        break;
      case 'notice':
        drawNotice(ctx, b);
        break;
      case 'fields':
        drawFields(ctx, b);
        break;
      case 'table':
        drawTable(ctx, b);
        break;
      case 'page-break':
        newPage(ctx, b.patient === undefined ? ctx.currentPatient : b.patient);
        break;
    }
  }
  const range = doc.bufferedPageRange();
  // Opened once: every page then shows the one embedded picture (pdfkit opens and embeds bytes anew on each call).
  const logo = spec.stamp.logo ? (doc as unknown as { openImage(src: Buffer): Logo }).openImage(spec.stamp.logo) : null;
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    // Chrome is drawn outside the margins' flow: stop pdfkit from adding pages while we do it.
    const savedBottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    drawChrome(doc, spec, logo, i, range.count, ctx.pagePatients[i] ?? null);
    doc.page.margins.bottom = savedBottom;
  }
  const pages = range.count;
  doc.end();
  return done.then((pdf) => ({ pdf, pages }));
}
