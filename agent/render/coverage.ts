import fontkit from '@pdf-lib/fontkit';
import type { Block, DocumentSpec, PatientStamp } from './blocks.js';
import { FALLBACK_FILES, FONT_FILES } from './font-files.js';

/**
 * Characters the sheet's font cannot draw (DejaVu Sans has Latin with all of
 * Vietnamese, Greek and Cyrillic, but no CJK or Thai) would print as empty
 * boxes: a name that looks present but cannot be read. They are replaced by
 * a visible mark, and the document says at its top that some text could not
 * be printed, so the reader checks the chart instead of trusting a blank.
 * With Debian's fallback fonts installed (font-files.ts), CJK and Thai are
 * drawn with them and only what no font has is marked.
 */
export const MISSING_MARK = '\uFFFD';

type Coverage = { hasGlyphForCodePoint(cp: number): boolean };
/** The sheet's font, then the fallbacks a document may draw with (font-files.ts). */
let fonts: Coverage[] | null = null;
const known = new Map<number, boolean>();

function drawable(cp: number): boolean {
  // ASCII and Vietnamese are the bulk of every sheet: answered without asking the font.
  if (cp < 0x250 || (cp >= 0x1ea0 && cp <= 0x1ef9)) return true;
  let ok = known.get(cp);
  if (ok === undefined) {
    fonts ??= [FONT_FILES.body, ...FALLBACK_FILES.map((f) => f.file)].map((f) => fontkit.create(f) as unknown as Coverage);
    // Whitespace and joiners are laid out, not drawn.
    ok = fonts.some((f) => f.hasGlyphForCodePoint(cp)) || /\s|\u200b|\u200c|\u200d|\ufeff/u.test(String.fromCodePoint(cp));
    known.set(cp, ok);
  }
  return ok;
}

/** The text with every character the font lacks replaced by the mark, and how many were. */
export function coverText(text: string): { text: string; missing: number } {
  let missing = 0;
  let out = '';
  for (const ch of text) {
    if (drawable(ch.codePointAt(0)!)) out += ch;
    else {
      missing++;
      out += MISSING_MARK;
    }
  }
  return missing ? { text: out, missing } : { text, missing: 0 };
}

type Cover = (text: string) => string;

const coverPatient = (p: PatientStamp, c: Cover): PatientStamp => ({ ...p, name: c(p.name), alert: p.alert == null ? p.alert : c(p.alert) });

function coverBlock(b: Block, c: Cover): Block {
  switch (b.type) {
    case 'heading':
      return { ...b, text: c(b.text) };
    case 'text':
      return { ...b, text: c(b.text) };
    case 'notice':
      return { ...b, title: c(b.title), lines: b.lines.map(c) };
    case 'fields':
      return { ...b, items: b.items.map((i) => ({ ...i, label: c(i.label), value: c(i.value) })) };
    case 'table':
      return { ...b, columns: b.columns.map((col) => ({ ...col, label: c(col.label) })), rows: b.rows.map((r) => ({ ...r, cells: r.cells.map((cell) => ({ ...cell, text: c(cell.text) })) })), empty: b.empty === undefined ? undefined : c(b.empty) };
    case 'page-break':
      return b.patient ? { ...b, patient: coverPatient(b.patient, c) } : b;
  }
}

/** The document with nothing the font cannot draw, and a notice first when anything was replaced. */
export function coverDocument(spec: DocumentSpec, notice: (count: number) => string): DocumentSpec {
  let missing = 0;
  const cover: Cover = (s) => {
    const r = coverText(s);
    missing += r.missing;
    return r.text;
  };
  const blocks = spec.blocks.map((b) => coverBlock(b, cover));
  const patient = spec.patient && coverPatient(spec.patient, cover);
  const stamp = { ...spec.stamp, hospital: cover(spec.stamp.hospital), ward: cover(spec.stamp.ward) };
  if (missing === 0) return spec;
  return { ...spec, stamp, patient, blocks: [{ type: 'notice', tone: 'alert', title: `⚠ ${MISSING_MARK}`, lines: [notice(missing)] }, ...blocks] };
}
