import { Hl7Message, type Hl7Segment } from '@medplum/core';
import { composeName, type NameOrder } from '../../model/names.js';
import type { AckProblem, ErrorCode, ErrorLocation } from './ack.js';
import { isDtmError, parseDate, parseDtm } from './dtm.js';
import { EscapeError, unescapeHl7, type Delimiters } from './escapes.js';
import { PaperbackError } from '../../log/errors.js';

/**
 * One ADT event, read from an HL7 v2 message and checked at the boundary:
 * everything after this trusts the shape. Which fields are read, and why,
 * is in docs/hl7.md.
 */
export const ADT_EVENTS = ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A11', 'A12', 'A13', 'A17', 'A28', 'A31', 'A40'] as const;
export type AdtEventType = (typeof ADT_EVENTS)[number];

export interface AdtLocation {
  pointOfCare: string | null;
  room: string | null;
  bed: string | null;
}

export interface AdtAllergy {
  substance: string;
  code: string | null;
  severity: string | null;
  reaction: string | null;
}

/** An identifier from PID-3 other than the MRN (national ID, insurance number …), kept so staff can search by it. */
export interface OtherId {
  /** CX-5 identifier type, else CX-4 assigning authority. */
  label: string;
  value: string;
}

/** What one PID (with its PV1 and clinical segments) says about one patient. */
export interface AdtPatientPart {
  mrn: string;
  otherIds: OtherId[];
  name: string | null;
  birthDate: string | null;
  sex: 'male' | 'female' | 'other' | 'unknown' | null;
  location: AdtLocation;
  priorLocation: AdtLocation | null;
  attending: string | null;
  admittedAt: string | null;
  dischargedAt: string | null;
  admitReason: string | null;
  /** Null when the message carried no AL1: nothing is known from it, which is not "no allergies". */
  allergies: AdtAllergy[] | null;
  diagnoses: { code: string | null; text: string }[] | null;
}

export interface AdtEvent extends AdtPatientPart {
  controlId: string;
  sender: string;
  receivingFacility: string;
  type: AdtEventType;
  /** ISO time the event happened: EVN-6, else EVN-2, else MSH-7. Orders events per patient. */
  eventTime: string;
  /** A17: the second patient of the swap (each part's PV1-3 is where that patient is now). */
  swapWith: AdtPatientPart | null;
  /** A40: the MRN (MRG-1) that is retired and becomes this event's MRN. */
  mergedMrn: string | null;
}

/** What to answer: AR for a message that is not an ADT we take at all, AE for one we take but cannot use; ERR says where and why. */
export class AdtError extends PaperbackError {
  constructor(
    readonly ackCode: 'AE' | 'AR',
    readonly problem: AckProblem,
  ) {
    super(`hl7-${problem.code}`, problem.text);
  }
}

const fail = (ack: 'AE' | 'AR', code: ErrorCode, location: ErrorLocation | null, text: string): never => {
  throw new AdtError(ack, { code, location, text });
};

/** Which PID-3 repetition is the MRN: by assigning authority (CX-4) and identifier type (CX-5). */
export interface MrnRule {
  authority?: string;
  type: string;
}

export interface AdtParseOptions {
  /** The box's IANA time zone: HL7 times without an offset are wall-clock times there. */
  timeZone: string;
  nameOrder: NameOrder;
  /** The character set the text was decoded from (MSH-18, else the source's default): \X..\ escapes are bytes in it. */
  charset?: string;
  mrn?: MrnRule;
}

/** Reads fields with their HL7 address, unescaped, so every problem can be reported in ERR-2. `sub` and `rep` count from 0 (medplum's indexing). */
interface Reader {
  text(seg: Hl7Segment, seq: number, field: number, component?: number, sub?: number, rep?: number): string | null;
  time(seg: Hl7Segment | undefined, seq: number, field: number): string | null;
}

function reader(m: Hl7Message, o: AdtParseOptions): Reader {
  const c = m.context;
  const d: Delimiters = { field: c.fieldSeparator, component: c.componentSeparator, repetition: c.repetitionSeparator, escape: c.escapeCharacter, subcomponent: c.subcomponentSeparator };
  const text: Reader['text'] = (seg, seq, field, component = 1, sub, rep) => {
    const raw = seg.getComponent(field, component, sub, rep) ?? '';
    let v: string;
    try {
      // Without a subcomponent index the parts are read as words: FN (surname&prefix) prints whole, never with its "&".
      v = raw
        .split(d.subcomponent)
        .map((part) => unescapeHl7(part, d, o.charset ?? 'UNICODE UTF-8'))
        .join(' ');
    } catch (err) {
      if (!(err instanceof EscapeError)) throw err;
      return fail('AE', 102, { segment: seg.name, sequence: seq, field, component }, `${seg.name}-${field}: ${err.message}`);
    }
    const t = v.replace(/\s+/g, ' ').trim();
    // "" is HL7's explicit null: the sender says the value is deleted, which for us is absent.
    return t === '' || t === '""' ? null : t;
  };
  return {
    text,
    time(seg, seq, field) {
      if (!seg) return null;
      const v = text(seg, seq, field);
      if (!v) return null;
      const t = parseDtm(v, o.timeZone);
      if (isDtmError(t)) return fail('AE', 102, { segment: seg.name, sequence: seq, field }, `${seg.name}-${field}: ${t.problem}`);
      return t;
    },
  };
}

function location(r: Reader, seg: Hl7Segment | undefined, seq: number, field: number): AdtLocation | null {
  if (!seg) return null;
  const l = { pointOfCare: r.text(seg, seq, field, 1), room: r.text(seg, seq, field, 2), bed: r.text(seg, seq, field, 3) };
  return l.pointOfCare || l.room || l.bed ? l : null;
}

/** XPN: 1 family, 2 given, 3 further given (middle), 4 suffix, 5 prefix; written in the site's order. */
function personName(r: Reader, seg: Hl7Segment, seq: number, order: NameOrder): string | null {
  const c = (i: number) => r.text(seg, seq, 5, i);
  // Family-first keeps the middle name before the given one: Nguyễn^Hồng^Thị is Nguyễn Thị Hồng.
  const given = (order === 'family-first' ? [c(3), c(2)] : [c(2), c(3)]).filter((x): x is string => !!x);
  return composeName({ prefix: c(5) ? [c(5)!] : [], family: c(1), given, suffix: c(4) ? [c(4)!] : [] }, order);
}

/** XCN (PV1-7): 1 id, 2 family, 3 given, 4 further given, 5 suffix, 6 prefix ("BS."). */
function doctorName(r: Reader, seg: Hl7Segment, seq: number, order: NameOrder): string | null {
  const c = (i: number) => r.text(seg, seq, 7, i);
  const given = (order === 'family-first' ? [c(4), c(3)] : [c(3), c(4)]).filter((x): x is string => !!x);
  return composeName({ prefix: c(6) ? [c(6)!] : [], family: c(2), given, suffix: c(5) ? [c(5)!] : [] }, order);
}

const MRN_CHARS = /^[A-Za-z0-9._-]{1,40}$/;

/**
 * The MRN and the other identifiers of a CX list (PID-3, MRG-1). The MRN is
 * the repetition of the configured type (default MR) and, if configured,
 * assigning authority; a list holding one bare identifier (no type) is taken
 * as the MRN, since many feeds send just that. Anything else is refused:
 * a national ID or insurance number printed as the MRN would match the
 * wrong chart.
 */
function identifiers(r: Reader, seg: Hl7Segment, seq: number, field: number, rule: MrnRule): { mrn: string; others: OtherId[] } {
  const reps = seg.getField(field)?.components.length ?? 0;
  const ids = Array.from({ length: reps }, (_, i) => ({ value: r.text(seg, seq, field, 1, undefined, i), authority: r.text(seg, seq, field, 4, 0, i), type: r.text(seg, seq, field, 5, undefined, i) })).filter((x) => x.value);
  const where = { segment: seg.name, sequence: seq, field };
  const fits = (x: (typeof ids)[number]) => !rule.authority || x.authority === rule.authority;
  const pick = ids.find((x) => x.type === rule.type && fits(x)) ?? (ids.length === 1 && !ids[0]!.type && fits(ids[0]!) ? ids[0] : undefined);
  const which = `type ${rule.type}${rule.authority ? `, assigning authority ${rule.authority}` : ''}`;
  if (ids.length === 0) fail('AE', 101, where, `${seg.name}-${field} has no patient identifier`);
  if (!pick) fail('AE', 204, where, `${seg.name}-${field} has no identifier of ${which} (the MRN); other identifiers are never used as one`);
  if (!MRN_CHARS.test(pick!.value!)) fail('AE', 102, where, `${seg.name}-${field} MRN has characters an MRN cannot have`);
  const others = ids.filter((x) => x !== pick).map((x) => ({ label: x.type ?? x.authority ?? 'ID', value: x.value! }));
  return { mrn: pick!.value!, others };
}

/** Read the header enough to acknowledge: this works on anything that starts with MSH. */
export interface Hl7Header {
  message: Hl7Message;
  controlId: string | null;
  sender: string;
  receivingFacility: string;
  messageType: string;
  trigger: string;
}

export function readHeader(raw: string): Hl7Header {
  let message: Hl7Message;
  try {
    message = Hl7Message.parse(raw.replace(/\r?\n/g, '\r').replace(/\r+$/, ''));
  } catch {
    throw new AdtError('AR', { code: 100, location: { segment: 'MSH' }, text: 'not an HL7 v2 message (no MSH segment)' });
  }
  const msh = message.header;
  return {
    message,
    controlId: (msh.getComponent(10, 1) ?? '').trim() || null,
    sender: `${msh.getComponent(3, 1)}^${msh.getComponent(4, 1)}`,
    receivingFacility: msh.getComponent(6, 1),
    messageType: msh.getComponent(9, 1),
    trigger: msh.getComponent(9, 2) || message.getSegment('EVN')?.getComponent(1, 1) || '',
  };
}

/** The PID groups of a message: each PID with the PV1, PV2, AL1 and DG1 segments that follow it, and their sequence numbers. */
interface PatientGroup {
  pid: Hl7Segment;
  pidSeq: number;
  pv1?: Hl7Segment;
  pv1Seq: number;
  pv2?: Hl7Segment;
  al1: Hl7Segment[];
  dg1: Hl7Segment[];
  mrg?: Hl7Segment;
}

function patientGroups(m: Hl7Message): PatientGroup[] {
  const groups: PatientGroup[] = [];
  const seen: Record<string, number> = {};
  for (const seg of m.segments) {
    seen[seg.name] = (seen[seg.name] ?? 0) + 1;
    if (seg.name === 'PID') groups.push({ pid: seg, pidSeq: seen.PID!, pv1Seq: 0, al1: [], dg1: [] });
    const g = groups.at(-1);
    if (!g) continue;
    if (seg.name === 'PV1' && !g.pv1) [g.pv1, g.pv1Seq] = [seg, seen.PV1!];
    else if (seg.name === 'PV2' && !g.pv2) g.pv2 = seg;
    else if (seg.name === 'AL1') g.al1.push(seg);
    else if (seg.name === 'DG1') g.dg1.push(seg);
    else if (seg.name === 'MRG' && !g.mrg) g.mrg = seg;
  }
  return groups;
}

/** Events that put a patient somewhere: their PV1-3 must name a location. */
export const PLACING_EVENTS: readonly AdtEventType[] = ['A01', 'A02', 'A04', 'A06', 'A13', 'A17'];
/** Events about the person only (IHE PAM): PV1, if any, is ignored and no one is placed. */
const PERSON_EVENTS: readonly AdtEventType[] = ['A28', 'A31', 'A40'];

function readPatient(r: Reader, g: PatientGroup, type: AdtEventType, o: AdtParseOptions): AdtPatientPart {
  const { mrn, others } = identifiers(r, g.pid, g.pidSeq, 3, o.mrn ?? { type: 'MR' });
  const person = PERSON_EVENTS.includes(type);
  const loc = person ? null : location(r, g.pv1, g.pv1Seq || 1, 3);
  if (PLACING_EVENTS.includes(type) && !loc) fail('AE', 101, { segment: 'PV1', sequence: g.pv1Seq || 1, field: 3 }, `${type} without an assigned location (PV1-3)`);
  const sexCode = r.text(g.pid, g.pidSeq, 8);
  const sex = sexCode === 'M' ? 'male' : sexCode === 'F' ? 'female' : sexCode === 'O' || sexCode === 'A' ? 'other' : sexCode === 'U' ? 'unknown' : null;
  const dob = parseDate(r.text(g.pid, g.pidSeq, 7) ?? '');
  if (isDtmError(dob)) fail('AE', 102, { segment: 'PID', sequence: g.pidSeq, field: 7 }, `PID-7 birth date: ${dob.problem}`);
  const pv1 = person ? undefined : g.pv1;
  return {
    mrn,
    otherIds: others,
    name: personName(r, g.pid, g.pidSeq, o.nameOrder),
    birthDate: dob as string | null,
    sex,
    location: loc ?? { pointOfCare: null, room: null, bed: null },
    priorLocation: location(r, pv1, g.pv1Seq, 6),
    attending: pv1 ? doctorName(r, pv1, g.pv1Seq, o.nameOrder) : null,
    admittedAt: r.time(pv1, g.pv1Seq, 44),
    dischargedAt: r.time(pv1, g.pv1Seq, 45),
    admitReason: g.pv2 ? (r.text(g.pv2, 1, 3, 2) ?? r.text(g.pv2, 1, 3, 1)) : null,
    allergies: g.al1.length
      ? g.al1
          .map((s, i) => ({ substance: r.text(s, i + 1, 3, 2) ?? r.text(s, i + 1, 3, 1) ?? '', code: r.text(s, i + 1, 3, 1), severity: r.text(s, i + 1, 4), reaction: r.text(s, i + 1, 5) }))
          .filter((a) => a.substance)
      : null,
    diagnoses: g.dg1.length ? g.dg1.map((s, i) => ({ code: r.text(s, i + 1, 3, 1), text: r.text(s, i + 1, 4) ?? r.text(s, i + 1, 3, 2) ?? r.text(s, i + 1, 3, 1) ?? '' })).filter((x) => x.text) : null,
  };
}

/** `header`: the message as readHeader already parsed it, so the listener parses each message once. */
export function parseAdt(raw: string, o: AdtParseOptions, h: Hl7Header = readHeader(raw)): AdtEvent {
  if (!h.controlId) fail('AR', 101, { segment: 'MSH', field: 10 }, 'MSH-10 (message control id) is empty');
  if (h.messageType !== 'ADT') fail('AR', 200, { segment: 'MSH', field: 9, component: 1 }, `message type ${h.messageType.slice(0, 10) || '(none)'} is not ADT`);
  if (!(ADT_EVENTS as readonly string[]).includes(h.trigger)) fail('AR', 201, { segment: 'MSH', field: 9, component: 2 }, `ADT event ${h.trigger.slice(0, 10) || '(none)'} is not one Paperback uses`);
  const type = h.trigger as AdtEventType;
  const m = h.message;
  const r = reader(m, o);
  const evn = m.getSegment('EVN');
  const groups = patientGroups(m);
  if (groups.length === 0) fail('AE', 100, { segment: 'PID' }, 'PID segment missing');
  const eventTime = r.time(evn, 1, 6) ?? r.time(evn, 1, 2) ?? r.time(m.header, 1, 7);
  if (!eventTime) fail('AE', 101, { segment: 'EVN', field: 2 }, 'no event time (EVN-6, EVN-2 or MSH-7)');
  const first = readPatient(r, groups[0]!, type, o);
  let swapWith: AdtPatientPart | null = null;
  let mergedMrn: string | null = null;
  if (type === 'A17') {
    if (groups.length !== 2) fail('AE', 100, { segment: 'PID', sequence: 2 }, 'A17 (swap patients) needs two PID and PV1 pairs');
    swapWith = readPatient(r, groups[1]!, type, o);
    if (swapWith.mrn === first.mrn) fail('AE', 205, { segment: 'PID', sequence: 2, field: 3 }, 'A17 names the same patient twice');
  }
  if (type === 'A40') {
    const mrg = groups[0]!.mrg;
    if (!mrg) fail('AE', 100, { segment: 'MRG' }, 'A40 (merge) without an MRG segment');
    if (groups.length > 1) fail('AE', 100, { segment: 'PID', sequence: 2 }, 'one merge per A40 message: send each PID/MRG pair as its own message');
    mergedMrn = identifiers(r, mrg!, 1, 1, o.mrn ?? { type: 'MR' }).mrn;
    if (mergedMrn === first.mrn) fail('AE', 205, { segment: 'MRG', field: 1 }, 'MRG-1 is the same MRN as PID-3: nothing to merge');
  }
  return {
    ...first,
    controlId: h.controlId!,
    sender: h.sender,
    receivingFacility: h.receivingFacility,
    type,
    eventTime: eventTime!,
    swapWith,
    mergedMrn,
  };
}
