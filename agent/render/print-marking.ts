import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb } from 'pdf-lib';
import { FONT_FILES } from './font-files.js';
import { fitText } from './pdf-lib-fit.js';

/**
 * The conversion marking of a paper copy made from an electronic record
 * (Vietnamese rules ask for it; it serves everywhere): the system the data
 * came from, a lookup code for the document, when and by whom it was printed.
 * Stamped on the copy sent to the printer, in the top margin of every page;
 * the stored PDF stays as it was. One line, small, cut with "…" if long.
 */
export async function stampPrintMarking(pdf: Buffer, text: string): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  doc.registerFontkit(fontkit);
  const font = await doc.embedFont(FONT_FILES.body, { subset: true });
  const size = 6.5;
  for (const page of doc.getPages()) {
    const { width, height } = page.getSize();
    const line = fitText(font, text, size, width - 56);
    // 14 pt below the top edge: inside what printers print (about 4 mm), above the page's own header (28 pt).
    page.drawText(line, { x: 28, y: height - 14 - size, size, font, color: rgb(0.15, 0.15, 0.15) });
  }
  return Buffer.from(await doc.save());
}
