import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFPage } from 'pdf-lib';
import { fitText } from './pdf-lib-fit.js';
import type { PatientStamp } from './blocks.js';
import type { FormDefinition } from './forms.js';
import { code128 } from './barcode.js';
import { FONT_FILES } from './font-files.js';

const MM = 72 / 25.4;

function drawBarcode(page: PDFPage, text: string, x: number, y: number, width: number, height: number): void {
  const sbs = code128(text);
  if (!sbs) return;
  const modules = sbs.reduce((a, b) => a + b, 0);
  const m = Math.max(0.5, Math.min(1.2, width / modules));
  let cx = x;
  sbs.forEach((w, i) => {
    if (i % 2 === 0) page.drawRectangle({ x: cx, y, width: w * m, height, color: rgb(0, 0, 0) });
    cx += w * m;
  });
}


/**
 * Place a patient label (name, MRN, date of birth, bed, Code 128 of the MRN)
 * on a ward's own PDF form, and the downtime marking with the data's age along
 * the bottom of every page. The form's own content is left untouched.
 */
export async function stampForm(blank: Buffer, f: FormDefinition, patient: PatientStamp, marking: { text: string; asOf: string }): Promise<{ pdf: Buffer; pages: number }> {
  const doc = await PDFDocument.load(blank);
  doc.registerFontkit(fontkit);
  const font = await doc.embedFont(FONT_FILES.body, { subset: true });
  const bold = await doc.embedFont(FONT_FILES.bold, { subset: true });
  const pages = doc.getPages();
  const label = f.label ?? { pages: 'first' as const, x: 10, y: 10, width: 80, height: 26 };
  pages.forEach((page, i) => {
    const { width: pw, height: ph } = page.getSize();
    const foot = `${marking.text} · ${marking.asOf} · ${patient.name} · ${patient.mrnLabel ?? 'MRN'} ${patient.mrn}`;
    page.drawText(fitText(font, foot, 7, pw - 20), { x: 10, y: 6, size: 7, font, color: rgb(0, 0, 0) });
    if (label.pages === 'first' && i > 0) return;
    const w = label.width * MM;
    const h = label.height * MM;
    const x = label.x * MM;
    const y = ph - label.y * MM - h;
    page.drawRectangle({ x, y, width: w, height: h, color: rgb(1, 1, 1), borderColor: rgb(0, 0, 0), borderWidth: 1 });
    page.drawText(fitText(bold, patient.name, 9, w - 8), { x: x + 4, y: y + h - 12, size: 9, font: bold });
    page.drawText(fitText(font, `${patient.mrnLabel ?? 'MRN'} ${patient.mrn} · ${patient.birthDate}`, 7.5, w - 8), { x: x + 4, y: y + h - 22, size: 7.5, font });
    page.drawText(fitText(font, patient.bed, 7.5, w - 8), { x: x + 4, y: y + h - 31, size: 7.5, font });
    if (patient.barcode && h > 40) drawBarcode(page, patient.barcode, x + 4, y + 3, w - 8, Math.min(16, h - 38));
  });
  doc.setTitle(`${f.id} ${patient.mrn}`);
  doc.setProducer('Paperback (pdf-lib)');
  const bytes = await doc.save();
  return { pdf: Buffer.from(bytes), pages: pages.length };
}
