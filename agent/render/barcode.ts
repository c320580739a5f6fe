import bwipjs from 'bwip-js';

/**
 * Draw a Code 128 barcode as vector rectangles (crisp at any printer
 * resolution, no raster images, survives photocopying), scaled to the box.
 */
export function drawBarcode(doc: PDFKit.PDFDocument, text: string, x: number, y: number, maxWidth: number, height: number): void {
  const raw = bwipjs.raw('code128', text, {}) as { sbs?: number[] }[];
  const sbs = raw[0]?.sbs;
  if (!sbs) return;
  const modules = sbs.reduce((s, n) => s + n, 0) + 20; // 10-module quiet zone each side
  // Whole-point-friendly module width, never below 0.6 pt so scanners can read it.
  const m = Math.max(0.6, Math.min(1.4, maxWidth / modules));
  let cx = x + maxWidth - modules * m + 10 * m;
  doc.save().fillColor('#000000');
  sbs.forEach((w, i) => {
    if (i % 2 === 0) doc.rect(cx, y, w * m, height).fill();
    cx += w * m;
  });
  doc.restore();
}
