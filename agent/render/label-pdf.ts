import PDFDocument from 'pdfkit';
import { drawBarcode } from './barcode.js';
import { useSharedFonts } from './fonts.js';
import { CLASP_MM, labelRows, wristbandLayout, type LabelLines, type LabelRequest } from './labels.js';

/**
 * Labels and wristbands as PDF: for a label printer behind IPP (LPrint,
 * CUPS) at its label size, and for a ward's laser printer on A4 (a 3 × 8
 * sheet of labels; a band strip to cut out and put in a sleeve band).
 */

const PT = 72 / 25.4;

/** What the printer takes: its label stock, or plain A4. */
export type LabelMedia = { kind: 'label'; widthMm: number; heightMm: number } | { kind: 'a4' };

/** A4 in 3 columns of 8 labels, 70 × 37.1 mm each, edge to edge (the common laser sheet). */
export const SHEET = { columns: 3, rows: 8, widthMm: 70, heightMm: 297 / 8, paddingMm: 3 } as const;

function pdfDocument(size: [number, number], title: string) {
  const doc = new PDFDocument({ size, margin: 0, autoFirstPage: false, compress: true, info: { Title: title, Creator: 'Paperback', Producer: 'Paperback (pdfkit)' }, font: null as unknown as string });
  useSharedFonts(doc as unknown as PDFKit.PDFDocument);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, done };
}

/** Text in one line, made smaller (to 60 %) and then cut with "…" so it fits `widthMm`. */
function fitText(doc: PDFKit.PDFDocument, text: string, x: number, y: number, widthMm: number, heightMm: number, bold: boolean): void {
  const width = widthMm * PT;
  let size = heightMm * PT * 0.82;
  doc.font(bold ? 'bold' : 'body');
  while (size > heightMm * PT * 0.82 * 0.6 && doc.fontSize(size).widthOfString(text) > width) size -= 0.25;
  let s = text;
  while (s.length > 1 && doc.fontSize(size).widthOfString(s) > width) s = `${s.slice(0, -2)}…`;
  doc.fontSize(size).fillColor('#000000').text(s, x, y + (heightMm * PT - size) / 2, { lineBreak: false });
}

/** One label with its top-left corner at (x, y) mm. */
function drawLabel(doc: PDFKit.PDFDocument, lines: LabelLines, id: string, x: number, y: number, w: number, h: number): void {
  const m = Math.min(1.5, h * 0.05);
  for (const row of labelRows(lines, id, h)) {
    if (row.kind === 'barcode') drawBarcode(doc, row.text, (x + m) * PT, (y + row.y + row.height * 0.1) * PT, (w - 2 * m) * PT, row.height * 0.8 * PT);
    else {
      if (row.boxed) doc.lineWidth(1).rect((x + m * 0.5) * PT, (y + row.y) * PT, (w - m) * PT, row.height * PT).stroke('#000000');
      fitText(doc, row.text, (x + m + (row.boxed ? 0.6 : 0)) * PT, (y + row.y) * PT, w - 2 * m - (row.boxed ? 1.2 : 0), row.height, !!row.bold);
    }
  }
}

export async function labelsPdf(req: LabelRequest, media: LabelMedia): Promise<{ pdf: Buffer; pages: number }> {
  const lines = req.lines;
  const title = `Labels ${req.id}`;
  if (media.kind === 'label') {
    const { doc, done } = pdfDocument([media.widthMm * PT, media.heightMm * PT], title);
    for (let i = 0; i < req.count; i++) {
      doc.addPage();
      drawLabel(doc as unknown as PDFKit.PDFDocument, lines, req.id, 0, 0, media.widthMm, media.heightMm);
    }
    doc.end();
    return { pdf: await done, pages: req.count };
  }
  const { doc, done } = pdfDocument([210 * PT, 297 * PT], title);
  const perPage = SHEET.columns * SHEET.rows;
  const pages = Math.ceil(req.count / perPage);
  for (let i = 0; i < req.count; i++) {
    if (i % perPage === 0) doc.addPage();
    const cell = i % perPage;
    const x = (cell % SHEET.columns) * SHEET.widthMm + SHEET.paddingMm;
    const y = Math.floor(cell / SHEET.columns) * SHEET.heightMm + SHEET.paddingMm;
    drawLabel(doc as unknown as PDFKit.PDFDocument, lines, req.id, x, y, SHEET.widthMm - 2 * SHEET.paddingMm, SHEET.heightMm - 2 * SHEET.paddingMm);
  }
  doc.end();
  return { pdf: await done, pages };
}

/**
 * One wristband per copy: the lines read along the band, and the barcode is
 * a "ladder" (bars along the band), so the scan line runs across the band
 * where it lies flat, not round the wrist. Twice, so one stays readable.
 */
export async function wristbandPdf(req: LabelRequest, band: { widthMm: number; lengthMm: number } | 'a4'): Promise<{ pdf: Buffer; pages: number }> {
  const onA4 = band === 'a4';
  const size = onA4 ? { widthMm: 25, lengthMm: 250 } : band;
  const { doc, done } = pdfDocument(onA4 ? [210 * PT, 297 * PT] : [size.widthMm * PT, size.lengthMm * PT], `Wristband ${req.id}`);
  const d = doc as unknown as PDFKit.PDFDocument;
  const x0 = onA4 ? 20 : 0;
  const y0 = onA4 ? 20 : 0;
  const layout = wristbandLayout(req.lines, size);
  for (let c = 0; c < req.count; c++) {
    doc.addPage();
    if (onA4) d.lineWidth(0.5).dash(3, { space: 3 }).rect(x0 * PT, y0 * PT, size.widthMm * PT, size.lengthMm * PT).stroke('#000000').undash();
    const w = size.widthMm;
    // Rotated a quarter clockwise: the first line along the band's right edge, read from the clasp end.
    d.save().translate((x0 + w - 1) * PT, (y0 + CLASP_MM) * PT).rotate(90);
    let across = 0;
    for (const line of layout.lines) {
      fitText(d, line.text, 0, across * PT, layout.textLength, line.height, line.bold);
      across += line.height;
    }
    d.restore();
    for (const b of layout.barcodes) drawBarcode(d, req.id, (x0 + 1) * PT, (y0 + b.at) * PT, (w - 2) * PT, b.length * PT, 0.125 * PT);
  }
  doc.end();
  return { pdf: await done, pages: req.count };
}
