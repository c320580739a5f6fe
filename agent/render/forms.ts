import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import bwipjs from 'bwip-js';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { PatientStamp } from './blocks.js';
import { TemplateError } from './markup.js';

const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT = fs.readFileSync(path.join(FONT_DIR, 'DejaVuSans.ttf'));
const FONT_BOLD = fs.readFileSync(path.join(FONT_DIR, 'DejaVuSans-Bold.ttf'));
const MM = 72 / 25.4;

/** templates/forms/forms.yaml: the ward's forms and where a patient label goes on each. */
const formSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    title: z.string().min(1),
    file: z.string().regex(/^[^/\\]+\.pdf$/i, 'must be a PDF file name in templates/forms/'),
    /** Where the label goes, in millimetres from the top-left corner; omit for a blank-only form. */
    label: z
      .object({
        pages: z.union([z.literal('all'), z.literal('first')]).default('all'),
        x: z.number().min(0),
        y: z.number().min(0),
        width: z.number().min(40).default(80),
        height: z.number().min(18).default(26),
      })
      .strict()
      .optional(),
  })
  .strict();
export type FormDefinition = z.infer<typeof formSchema>;

export function loadForms(templatesDir: string): FormDefinition[] {
  const file = path.join(templatesDir, 'forms', 'forms.yaml');
  if (!fs.existsSync(file)) return [];
  const res = z.array(formSchema).safeParse(parseYaml(fs.readFileSync(file, 'utf8')) ?? []);
  if (!res.success) {
    const i = res.error.issues[0]!;
    throw new TemplateError('templates/forms/forms.yaml', null, `${i.path.join('.')}: ${i.message}`);
  }
  for (const f of res.data) if (!fs.existsSync(path.join(templatesDir, 'forms', f.file))) throw new TemplateError('templates/forms/forms.yaml', null, `form "${f.id}": file ${f.file} not found in templates/forms/`);
  return res.data;
}

export function readBlankForm(templatesDir: string, f: FormDefinition): Buffer {
  return fs.readFileSync(path.join(templatesDir, 'forms', f.file));
}

function drawBarcode(page: PDFPage, text: string, x: number, y: number, width: number, height: number): void {
  const sbs = (bwipjs.raw('code128', text, {}) as { sbs?: number[] }[])[0]?.sbs;
  if (!sbs) return;
  const modules = sbs.reduce((a, b) => a + b, 0);
  const m = Math.max(0.5, Math.min(1.2, width / modules));
  let cx = x;
  sbs.forEach((w, i) => {
    if (i % 2 === 0) page.drawRectangle({ x: cx, y, width: w * m, height, color: rgb(0, 0, 0) });
    cx += w * m;
  });
}

function fit(font: PDFFont, text: string, size: number, width: number): string {
  if (font.widthOfTextAtSize(text, size) <= width) return text;
  let t = text;
  while (t.length > 1 && font.widthOfTextAtSize(`${t}…`, size) > width) t = t.slice(0, -1);
  return `${t}…`;
}

/**
 * Place a patient label (name, MRN, date of birth, bed, Code 128 of the MRN)
 * on a ward's own PDF form, and the downtime marking with the data's age along
 * the bottom of every page. The form's own content is left untouched.
 */
export async function stampForm(blank: Buffer, f: FormDefinition, patient: PatientStamp, marking: { text: string; asOf: string }): Promise<{ pdf: Buffer; pages: number }> {
  const doc = await PDFDocument.load(blank);
  doc.registerFontkit(fontkit);
  const font = await doc.embedFont(FONT, { subset: true });
  const bold = await doc.embedFont(FONT_BOLD, { subset: true });
  const pages = doc.getPages();
  const label = f.label ?? { pages: 'first' as const, x: 10, y: 10, width: 80, height: 26 };
  pages.forEach((page, i) => {
    const { width: pw, height: ph } = page.getSize();
    const foot = `${marking.text} · ${marking.asOf} · ${patient.name} · MRN ${patient.mrn}`;
    page.drawText(fit(font, foot, 7, pw - 20), { x: 10, y: 6, size: 7, font, color: rgb(0, 0, 0) });
    if (label.pages === 'first' && i > 0) return;
    const w = label.width * MM;
    const h = label.height * MM;
    const x = label.x * MM;
    const y = ph - label.y * MM - h;
    page.drawRectangle({ x, y, width: w, height: h, color: rgb(1, 1, 1), borderColor: rgb(0, 0, 0), borderWidth: 1 });
    page.drawText(fit(bold, patient.name, 9, w - 8), { x: x + 4, y: y + h - 12, size: 9, font: bold });
    page.drawText(fit(font, `MRN ${patient.mrn} · ${patient.birthDate}`, 7.5, w - 8), { x: x + 4, y: y + h - 22, size: 7.5, font });
    page.drawText(fit(font, patient.bed, 7.5, w - 8), { x: x + 4, y: y + h - 31, size: 7.5, font });
    if (patient.barcode && h > 40) drawBarcode(page, patient.barcode, x + 4, y + 3, w - 8, Math.min(16, h - 38));
  });
  doc.setTitle(`${f.id} ${patient.mrn}`);
  doc.setProducer('Paperback (pdf-lib)');
  const bytes = await doc.save();
  return { pdf: Buffer.from(bytes), pages: pages.length };
}
