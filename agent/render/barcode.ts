import bwipjs from 'bwip-js';
import { pdfNumber as num } from './streams.js';

/** Bar and space widths remembered per text: a MAR draws its patient's MRN on every page. Cleared when full. */
const remembered = new Map<string, number[] | null>();
const REMEMBER_AT_MOST = 500;

/** Code 128 of `text` as alternating bar and space widths in modules (bwip-js), without quiet zones. */
export function code128(text: string): number[] | null {
  let sbs = remembered.get(text);
  if (sbs === undefined) {
    sbs = (bwipjs.raw('code128', text, {}) as { sbs?: number[] }[])[0]?.sbs ?? null;
    if (remembered.size >= REMEMBER_AT_MOST) remembered.clear();
    remembered.set(text, sbs);
  }
  return sbs;
}


/**
 * Draw a Code 128 barcode as vector rectangles (crisp at any printer
 * resolution, no raster images, survives photocopying), scaled to the box.
 * The bars are one path filled once.
 */
export function drawBarcode(doc: PDFKit.PDFDocument, text: string, x: number, y: number, maxWidth: number, height: number, minModule = 0.6): void {
  const sbs = code128(text);
  if (!sbs) return;
  const modules = sbs.reduce((s, n) => s + n, 0) + 20; // 10-module quiet zone each side
  // Never below 0.6 pt on a sheet so scanners can read a photocopy; a wristband, narrower, goes to a printer dot.
  const m = Math.max(minModule, Math.min(1.4, maxWidth / modules));
  let cx = x + maxWidth - modules * m + 10 * m;
  const bars: string[] = [];
  sbs.forEach((w, i) => {
    if (i % 2 === 0) bars.push(`${num(cx)} ${num(y)} ${num(w * m)} ${num(height)} re`);
    cx += w * m;
  });
  doc.save().fillColor('#000000');
  (doc as unknown as { addContent(s: string): void }).addContent(`${bars.join('\n')}\nf`);
  doc.restore();
}
