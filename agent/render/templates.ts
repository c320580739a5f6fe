import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseMarkup, TemplateError, type ParsedDocument } from './markup.js';
import type { Translate } from './i18n.js';
import { DEFAULT_STANDARD_TIMES, type StandardTimes } from '../model/due-times.js';

export const settingsSchema = z
  .object({
    /** Paper for every document: A4 (default) or LETTER. */
    paper: z.enum(['A4', 'LETTER']).default('A4'),
    /** Replaces site.name from paperback.yaml on paper when set. */
    hospitalName: z.string().min(1).optional(),
    /** A PNG or JPEG in templates/, printed at the top-left of every page. */
    logo: z.string().regex(/^[^/\\][^\\]*\.(png|jpe?g)$/i, 'must be a .png or .jpg path inside templates/').optional(),
    /**
     * The ward's standard administration times, for orders that give only a frequency ("2/d", "q8h")
     * or a meal or time of day (ACM, HS …). Entries here replace the built-in ones of the same key.
     */
    standardTimes: z.record(z.string().min(1), z.array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time HH:MM')).min(1)).optional(),
  })
  .strict();
export type TemplateSettings = z.infer<typeof settingsSchema>;

/** The standard administration times in force: the site's entries over the built-in table. */
export const standardTimesOf = (look: TemplateSettings): StandardTimes => ({ ...DEFAULT_STANDARD_TIMES, ...look.standardTimes });

export function loadTemplateSettings(templatesDir: string): TemplateSettings {
  const file = path.join(templatesDir, 'settings.yaml');
  if (!fs.existsSync(file)) return settingsSchema.parse({});
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new TemplateError('templates/settings.yaml', null, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const res = settingsSchema.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0]!;
    throw new TemplateError('templates/settings.yaml', null, `${i.path.join('.')}: ${i.message}`);
  }
  if (res.data.logo) {
    const logo = path.join(templatesDir, res.data.logo);
    if (res.data.logo.includes('..') || !fs.existsSync(logo)) throw new TemplateError('templates/settings.yaml', null, `logo: ${res.data.logo} not found in templates/`);
  }
  return res.data;
}

/** The logo's bytes, if settings name one. */
export function loadLogo(templatesDir: string, settings: TemplateSettings): Buffer | null {
  return settings.logo ? fs.readFileSync(path.join(templatesDir, settings.logo)) : null;
}

type Compiled = { mtimeMs: number; render: HandlebarsTemplateDelegate };
const cache = new Map<string, Compiled>();

/** Handlebars reports "Parse error on line N"; turn that into file:line for IT. */
function lineOf(err: Error): number | null {
  const m = /line (\d+)/.exec(err.message) ?? / - (\d+):\d+/.exec(err.message);
  return m ? Number(m[1]) : null;
}

function compile(file: string, display: string): HandlebarsTemplateDelegate {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) throw new TemplateError(display, null, 'template file not found');
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.render;
  const source = fs.readFileSync(file, 'utf8');
  try {
    Handlebars.parse(source); // compile() is lazy; parse now so a broken template fails at load
  } catch (err) {
    throw new TemplateError(display, lineOf(err as Error), (err as Error).message.split('\n').filter(Boolean).pop() ?? 'parse error');
  }
  // strict: a misspelt {{field}} is an error naming it, not an empty cell on paper.
  const render = Handlebars.compile(source, { strict: true });
  cache.set(file, { mtimeMs: st.mtimeMs, render });
  return render;
}

/**
 * Render templates/documents/NAME.hbs with a view model into document markup,
 * then parse it into blocks. Errors name the template file and line.
 */
export function renderDocumentTemplate(templatesDir: string, name: string, view: object, t: Translate): ParsedDocument {
  const file = path.join(templatesDir, 'documents', `${name}.hbs`);
  const display = `templates/documents/${name}.hbs`;
  const render = compile(file, display);
  let markup: string;
  try {
    markup = render(view, {
      helpers: {
        // {{t "key" name=value}}: wording from templates/i18n, escaped like any other value.
        t: (key: string, options: { hash?: Record<string, string | number> }) => t(key, options?.hash),
      },
    });
  } catch (err) {
    throw new TemplateError(display, lineOf(err as Error), (err as Error).message.split('\n')[0] ?? 'render error');
  }
  return parseMarkup(markup, display);
}
