import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { loadTranslations, type Language, type Translate } from '../render/i18n.js';
import { TemplateError } from '../render/markup.js';

/**
 * Server-rendered pages from templates/web/*.hbs, in the box's language or the
 * one the visitor switched to. Values are escaped by Handlebars; the only
 * triple-stash ({{{ }}}) inserts are fragments our own renderers escaped.
 */
export interface PageRenderer {
  render(name: string, view: Record<string, unknown>, page: { lang: Language; title: string; layout: Record<string, unknown> }): string;
  t(lang: Language): Translate;
}

export function pageRenderer(templatesDir: string): PageRenderer {
  const compiled = new Map<string, { mtimeMs: number; fn: HandlebarsTemplateDelegate }>();
  const translations = new Map<Language, Translate>();
  const get = (name: string) => {
    const file = path.join(templatesDir, 'web', `${name}.hbs`);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) throw new TemplateError(`templates/web/${name}.hbs`, null, 'template file not found');
    const hit = compiled.get(name);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit.fn;
    const source = fs.readFileSync(file, 'utf8');
    try {
      Handlebars.parse(source);
    } catch (err) {
      throw new TemplateError(`templates/web/${name}.hbs`, Number(/line (\d+)/.exec((err as Error).message)?.[1]) || null, (err as Error).message.split('\n').pop() ?? '');
    }
    const fn = Handlebars.compile(source);
    compiled.set(name, { mtimeMs: st.mtimeMs, fn });
    return fn;
  };
  const t = (lang: Language) => {
    let tr = translations.get(lang);
    if (!tr) translations.set(lang, (tr = loadTranslations(templatesDir, lang)));
    return tr;
  };
  return {
    t,
    render(name, view, page) {
      const tr = t(page.lang);
      const helpers = { t: (key: string, o: { hash?: Record<string, string | number> }) => tr(key, o?.hash) };
      const content = get(name)(view, { helpers });
      return get('layout')({ ...page.layout, lang: page.lang, title: page.title, content }, { helpers });
    },
  };
}
