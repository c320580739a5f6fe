import { code128 } from './barcode.js';
import { CLASP_MM, labelRows, wristbandLayout, type LabelRequest } from './labels.js';
import { rotateClockwise, textBitmap, type Bitmap } from './text-bitmap.js';

/**
 * Labels and wristbands in ZPL II, for thermal printers on raw TCP 9100.
 * Every piece of text is sent as a picture (^GF): a printer's resident fonts
 * have no Vietnamese, and a name printed "Nguy?n" identifies no one. The
 * barcode is the printer's own Code 128 (^BC), drawn at its full resolution.
 */

export interface ZplMedia {
  widthMm: number;
  heightMm: number;
  /** Dots per millimetre: 8 (203 dpi), 12 (300 dpi) or 24 (600 dpi). */
  dpmm: number;
}

const hex = (b: Bitmap) => Buffer.from(b.data).toString('hex').toUpperCase();
const graphic = (x: number, y: number, b: Bitmap) => `^FO${x},${y}^GFA,${b.data.length},${b.data.length},${b.bytesPerRow},${hex(b)}^FS`;

/** ^BC with the widest module that fits `widthDots` (at least 1 dot), and its left edge centred. */
function barcode(id: string, x: number, y: number, widthDots: number, heightDots: number): string {
  const modules = (code128(id)?.reduce((s, n) => s + n, 0) ?? 11 * (id.length + 3)) + 20;
  const module = Math.max(1, Math.min(4, Math.floor(widthDots / modules)));
  const left = x + Math.max(0, Math.floor((widthDots - modules * module) / 2)) + 10 * module;
  // ^BC: normal orientation, no interpretation line (the id is printed as text above), automatic subsets.
  return `^FO${left},${y}^BY${module}^BCN,${heightDots},N,N,N,A^FD${id.replace(/[\^~]/g, '')}^FS`;
}

/** `count` labels of the printer's label size, one label format printed `count` times (^PQ). */
export function labelsZpl(req: LabelRequest, media: ZplMedia): Buffer {
  const lines = req.lines;
  const d = media.dpmm;
  const w = Math.round(media.widthMm * d);
  const m = Math.round(Math.min(1.5, media.heightMm * 0.05) * d);
  const out = [`^XA^CI28^PW${w}^LL${Math.round(media.heightMm * d)}^LH0,0`];
  for (const row of labelRows(lines, req.id, media.heightMm)) {
    const y = Math.round(row.y * d);
    const h = Math.round(row.height * d);
    if (row.kind === 'barcode') {
      out.push(barcode(row.text, m, y + Math.round(h * 0.1), w - 2 * m, Math.round(h * 0.8)));
      continue;
    }
    // A boxed line's text sits inside the box's 2-dot border, accents included.
    const inset = row.boxed ? 3 : 0;
    const pic = textBitmap(row.text, { heightDots: Math.max(8, Math.round(h * 0.9) - 2 * inset), weight: row.bold ? 'bold' : 'body', maxWidthDots: w - 2 * m - (row.boxed ? 2 * d : 0) });
    if (row.boxed) out.push(`^FO${Math.round(m / 2)},${y}^GB${w - m},${h},2^FS`);
    out.push(graphic(m + (row.boxed ? d : 0), y + Math.round(h * 0.05) + inset, pic));
  }
  out.push(`^PQ${req.count}^XZ`);
  return Buffer.from(out.join('\n'), 'latin1');
}

/**
 * One wristband per copy, the band feeding lengthwise through a head as wide
 * as the band: text pictures turned a quarter to read along the band, and the
 * barcode printed across the head, which on the band is a "ladder" whose scan
 * line runs across the wrist, not round it. Twice, so one stays readable.
 */
export function wristbandZpl(req: LabelRequest, band: { widthMm: number; lengthMm: number; dpmm: number }): Buffer {
  const d = band.dpmm;
  const w = Math.round(band.widthMm * d);
  const layout = wristbandLayout(req.lines, band);
  const clasp = CLASP_MM * d;
  const textLength = Math.round(layout.textLength * d);
  const out = [`^XA^CI28^PW${w}^LL${Math.round(band.lengthMm * d)}^LH0,0`];
  // The first line along the right edge, read from the clasp end, the others to its left.
  let right = w - d;
  for (const line of layout.lines) {
    const h = Math.round(line.height * d);
    const pic = rotateClockwise(textBitmap(line.text, { heightDots: Math.round(h * 0.9), weight: line.bold ? 'bold' : 'body', maxWidthDots: textLength }));
    out.push(graphic(right - pic.width, clasp, pic));
    right -= h;
  }
  for (const b of layout.barcodes) out.push(barcode(req.id, d, Math.round(b.at * d), w - 2 * d, b.length * d));
  out.push(`^PQ${req.count}^XZ`);
  return Buffer.from(out.join('\n'), 'latin1');
}
