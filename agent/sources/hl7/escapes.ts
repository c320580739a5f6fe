import { decodeHexBytes } from './charset.js';
import { PaperbackError } from '../../log/errors.js';

/**
 * HL7 v2 escape sequences (v2.5.1 chapter 2.7): a value that contains a
 * delimiter is sent escaped, so "Phạm \T\ Lê" is "Phạm & Lê" on paper, not
 * the escape text. Formatting escapes (highlight, line breaks) carry no
 * meaning on a census line: breaks become spaces, highlighting is dropped.
 */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export class EscapeError extends PaperbackError {
  constructor(message: string) {
    super('hl7-escape', message);
  }
}

const ESCAPES: Record<string, string> = { '|': '\\F\\', '^': '\\S\\', '&': '\\T\\', '~': '\\R\\', '\\': '\\E\\' };

/** The other way, for what Paperback sends (ACK text, file-back values), with the standard delimiters |^~\\&. */
export const escapeHl7 = (s: string): string => s.replace(/[|^&~\\]/g, (c) => ESCAPES[c]!);

export function unescapeHl7(value: string, d: Delimiters, charset: string): string {
  const e = d.escape;
  if (!e || !value.includes(e)) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c !== e) {
      out += c;
      i++;
      continue;
    }
    const close = value.indexOf(e, i + 1);
    if (close < 0) throw new EscapeError(`an escape sequence is not closed (no second ${e})`);
    const seq = value.slice(i + 1, close);
    i = close + 1;
    if (seq === 'F') out += d.field;
    else if (seq === 'S') out += d.component;
    else if (seq === 'T') out += d.subcomponent;
    else if (seq === 'R') out += d.repetition;
    else if (seq === 'E') out += d.escape;
    else if (seq === 'H' || seq === 'N') continue;
    else if (/^\.(br|sp\s*\d*)$/.test(seq)) out += '\n';
    else if (/^\.(fi|nf|in\s*[+-]?\d*|ti\s*[+-]?\d*|sk\s*\d*|ce)$/.test(seq)) continue;
    else if (/^X([0-9A-Fa-f]{2})+$/.test(seq)) {
      const text = decodeHexBytes(seq.slice(1), charset);
      if (text === null) throw new EscapeError(`\\${seq}\\ is not valid text in ${charset}`);
      out += text;
    } else if (/^Z/.test(seq) || /^[CM][0-9A-Fa-f]+$/.test(seq)) continue; // locally defined, or ISO 2022 switches: nothing to print
    else throw new EscapeError(`unknown escape sequence ${e}${seq.slice(0, 10)}${e}`);
  }
  return out;
}
