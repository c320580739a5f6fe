/**
 * A person's name in the site's order, from its parts, when the source sends
 * no display text. Vietnamese names are written family name first (Nguyễn Thị
 * Hồng); English ones given name first. Prefixes lead and suffixes close in
 * both: "BS. Nguyễn Văn An", "John Smith Jr.".
 */
export type NameOrder = 'family-first' | 'given-first';

export interface NameParts {
  prefix?: string[];
  family?: string | null;
  given?: string[];
  suffix?: string[];
}

export function composeName(n: NameParts, order: NameOrder): string | null {
  const given = (n.given ?? []).map((g) => g.trim()).filter(Boolean);
  const family = n.family?.trim() ? [n.family.trim()] : [];
  const core = order === 'family-first' ? [...family, ...given] : [...given, ...family];
  const all = [...(n.prefix ?? []), ...core, ...(n.suffix ?? [])].map((x) => x.trim()).filter(Boolean);
  return all.length ? all.join(' ').normalize('NFC') : null;
}

/** The site's order: what paperback.yaml says, else family-first for Vietnamese paper and given-first for English. */
export const defaultNameOrder = (language: 'vi' | 'en'): NameOrder => (language === 'vi' ? 'family-first' : 'given-first');
