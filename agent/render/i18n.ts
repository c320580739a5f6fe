import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export type Language = 'vi' | 'en';
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

const catalogSchema = z.record(z.string(), z.string());

/** Wording as data: what a render thread is handed, since a function cannot be posted to one. */
export type Wording = Record<string, string>;

/**
 * Read the UI and paper wording from templates/i18n/<lang>.json. IT edits
 * these files; a key missing in one language falls back to English.
 */
export function loadWording(templatesDir: string, lang: Language): Wording {
  const read = (l: string): Record<string, string> => {
    const file = path.join(templatesDir, 'i18n', `${l}.json`);
    if (!fs.existsSync(file)) return {};
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
    }
    const res = catalogSchema.safeParse(json);
    if (!res.success) throw new Error(`${file}: every value must be a string`);
    return res.data;
  };
  const en = read('en');
  return lang === 'en' ? en : { ...en, ...read(lang) };
}

/** Look wording up by key, filling {name} placeholders; an unknown key prints as itself. */
export function translator(wording: Wording): Translate {
  return (key, vars) => {
    const s = wording[key] ?? key;
    return vars ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : s;
  };
}

export const loadTranslations = (templatesDir: string, lang: Language): Translate => translator(loadWording(templatesDir, lang));

// Building an Intl.DateTimeFormat costs far more than using one; documents format thousands of times.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = make()));
  return f;
}

/** "22/11/2026 10:05 (GMT+7)": day-first, 24-hour, with the zone, as ward staff read it. */
export function formatDateTime(iso: string | null, timeZone: string): string | null {
  if (!iso) return null;
  const key = `${timeZone} ${iso}`;
  const known = formatted.get(key);
  if (known !== undefined) return known;
  const text = formatDateTimeOnce(iso, timeZone);
  if (formatted.size >= MAX_FORMATTED) formatted.clear();
  formatted.set(key, text);
  return text;
}

/**
 * Times repeat across a ward's sheets (the same dose rounds, the same pull
 * time on every footer) and formatToParts is slow: 3 % of a render thread.
 */
const formatted = new Map<string, string | null>();
const MAX_FORMATTED = 5_000;

function formatDateTimeOnce(iso: string, timeZone: string): string | null {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const parts = formatter(`dt:${timeZone}`, () => new Intl.DateTimeFormat('en-GB', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'shortOffset' })).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')}/${get('month')}/${get('year')} ${get('hour')}:${get('minute')} (${get('timeZoneName')})`;
}

export function formatDate(iso: string | null, timeZone: string): string | null {
  if (!iso) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    const [y, m, d] = iso.split('-');
    return `${d}/${m}/${y}`;
  }
  // A partial date is printed as given: "1974" is not 01/01/1974.
  if (/^\d{4}$/.test(iso)) return iso;
  if (/^\d{4}-\d{2}$/.test(iso)) return `${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
  return formatDateTime(iso, timeZone)?.slice(0, 10) ?? null;
}

export function formatTime(iso: string, timeZone: string): string {
  return formatter(`t:${timeZone}`, () => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })).format(new Date(iso));
}
