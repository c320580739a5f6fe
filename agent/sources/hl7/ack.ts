import { formatDtm } from './dtm.js';
import { escapeHl7 } from './escapes.js';

/**
 * Acknowledgements (HL7 v2.5.1 chapter 2, original mode): MSA-2 echoes the
 * MSH-10 received, MSH-7 carries the box's offset, and every AE or AR has an
 * ERR segment saying where (ERR-2), what (ERR-3, table 0357) and why (ERR-8),
 * so the interface analyst reads the cause in the engine's error queue.
 */
export const ERROR_CODES = {
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  204: 'Unknown key identifier',
  205: 'Duplicate key identifier',
  206: 'Application record locked',
  207: 'Application internal error',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

/** ERR-2 (ERL): segment id, its sequence in the message (1-based), field, and component when it matters. */
export interface ErrorLocation {
  segment: string;
  sequence?: number;
  field?: number;
  component?: number;
}

export interface AckProblem {
  code: ErrorCode;
  location: ErrorLocation | null;
  /** Plain words for ERR-8; never patient data. */
  text: string;
}

/** What an ACK needs from the message it answers: the header fields as sent, read without trusting the rest. */
export interface ReceivedHeader {
  sendingApp: string;
  sendingFacility: string;
  receivingApp: string;
  receivingFacility: string;
  controlId: string;
  processingId: string;
  version: string;
  trigger: string;
}

/** MSH fields straight from the first line, so a message the parser refuses still gets a proper ACK. */
export function receivedHeader(text: string): ReceivedHeader | null {
  const line = text.split(/\r\n|\r|\n/, 1)[0] ?? '';
  if (!/^MSH/.test(line) || line.length < 8) return null;
  const f = line.split(line[3]!);
  const comp = line[4] ?? '^';
  // Field n of MSH is f[n-1]: MSH-1 is the separator itself.
  const at = (n: number) => (f[n - 1] ?? '').slice(0, 180);
  return {
    sendingApp: at(3),
    sendingFacility: at(4),
    receivingApp: at(5),
    receivingFacility: at(6),
    controlId: at(10).split(comp)[0]!.slice(0, 199),
    processingId: at(11),
    version: at(12),
    trigger: at(9).split(comp)[1] ?? '',
  };
}

/** ERR-8 text: delimiters escaped, line breaks and non-ASCII out (the ACK is plain ASCII in every character set). */
const escapeText = (s: string) => escapeHl7(s.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?')).slice(0, 250);
/** Echoed header fields keep their components; only a stray segment break could corrupt the ACK. */
const echo = (s: string) => s.replace(/[\r\n\x0b\x1c]/g, '');

let counter = 0;
const ackControlId = (now: Date) => `PB${now.getTime().toString(36).toUpperCase()}${(counter++ % 1296).toString(36).toUpperCase().padStart(2, '0')}`;

export function errSegment(p: AckProblem): string {
  const l = p.location;
  const erl = l ? [l.segment, l.sequence ?? 1, l.field ?? '', '', l.component ?? ''].join('^').replace(/\^+$/, '') : '';
  return `ERR||${erl}|${p.code}^${ERROR_CODES[p.code]}^HL70357|E||||${escapeText(p.text)}`;
}

export function buildAck(o: { header: ReceivedHeader | null; code: 'AA' | 'AE' | 'AR'; problem?: AckProblem; note?: string; timeZone: string; now: Date }): string {
  const h = o.header;
  const msh = [
    'MSH',
    '^~\\&',
    echo(h?.receivingApp || 'PAPERBACK'),
    echo(h?.receivingFacility || ''),
    echo(h?.sendingApp ?? ''),
    echo(h?.sendingFacility ?? ''),
    formatDtm(o.now, o.timeZone),
    '',
    `ACK^${echo(h?.trigger ?? '').slice(0, 3)}^ACK`.replace('ACK^^ACK', 'ACK'),
    ackControlId(o.now),
    echo(h?.processingId || 'P'),
    echo(h?.version || '2.5.1'),
  ].join('|');
  const text = o.problem?.text ?? o.note;
  const msa = `MSA|${o.code}|${echo(h?.controlId ?? '')}${text ? `|${escapeText(text).slice(0, 80)}` : ''}`;
  return [msh, msa, ...(o.problem ? [errSegment(o.problem)] : [])].join('\r');
}
