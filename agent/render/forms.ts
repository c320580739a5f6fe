import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TemplateError } from './markup.js';

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
