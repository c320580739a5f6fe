import { Hl7Message, parseHl7DateTime, type Hl7Segment } from '@medplum/core';
import { composeName, type NameOrder } from '../../model/names.js';

/**
 * One ADT event, read from an HL7 v2 message and checked at the boundary:
 * everything after this trusts the shape. Which fields are read, and why,
 * is in the README ("HL7 v2 ADT feed").
 */
export const ADT_EVENTS = ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A11', 'A12', 'A13'] as const;
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

export interface AdtEvent {
  controlId: string;
  sender: string;
  receivingFacility: string;
  type: AdtEventType;
  /** ISO time the event happened: EVN-6, else EVN-2, else MSH-7. Orders events per patient. */
  eventTime: string;
  mrn: string;
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

/** What to answer: AR for a message that is not an ADT we take at all, AE for one we take but cannot use. */
export class AdtError extends Error {
  constructor(
    readonly ackCode: 'AE' | 'AR',
    message: string,
  ) {
    super(message);
    this.name = 'AdtError';
  }
}

export interface AdtParseOptions {
  /** Offset of local times without one (HL7 times usually have none), e.g. "+0700". */
  tzOffset: string;
  nameOrder: NameOrder;
}

const text = (s: string | undefined) => {
  const t = (s ?? '').trim();
  return t === '' || t === '""' ? null : t;
};

function hl7Time(value: string | null, o: AdtParseOptions, field: string): string | null {
  if (!value) return null;
  if (!/^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$/.test(value)) throw new AdtError('AE', `${field} is not an HL7 date/time`);
  return parseHl7DateTime(value, { tzOffset: o.tzOffset }) ?? null;
}

function location(seg: Hl7Segment | undefined, field: number): AdtLocation | null {
  if (!seg) return null;
  const l = { pointOfCare: text(seg.getComponent(field, 1)), room: text(seg.getComponent(field, 2)), bed: text(seg.getComponent(field, 3)) };
  return l.pointOfCare || l.room || l.bed ? l : null;
}

/** XPN: 1 family, 2 given, 3 further given (middle), 4 suffix, 5 prefix; written in the site's order. */
function personName(seg: Hl7Segment, field: number, order: AdtParseOptions['nameOrder']): string | null {
  const c = (i: number) => text(seg.getComponent(field, i));
  // Family-first keeps the middle name before the given one: Nguyễn^Hồng^Thị is Nguyễn Thị Hồng.
  const given = (order === 'family-first' ? [c(3), c(2)] : [c(2), c(3)]).filter((x): x is string => !!x);
  return composeName({ prefix: c(5) ? [c(5)!] : [], family: c(1), given, suffix: c(4) ? [c(4)!] : [] }, order);
}

/** XCN (PV1-7): 1 id, 2 family, 3 given, 4 further given, 5 suffix, 6 prefix ("BS."). */
function doctorName(seg: Hl7Segment, field: number, order: AdtParseOptions['nameOrder']): string | null {
  const c = (i: number) => text(seg.getComponent(field, i));
  const given = (order === 'family-first' ? [c(4), c(3)] : [c(3), c(4)]).filter((x): x is string => !!x);
  return composeName({ prefix: c(6) ? [c(6)!] : [], family: c(2), given, suffix: c(5) ? [c(5)!] : [] }, order);
}

function mrnOf(pid: Hl7Segment): string | null {
  const field = pid.getField(3);
  if (!field) return null;
  const reps = field.components.map((c) => ({ id: text(c[0]), type: text(c[4]) }));
  return (reps.find((r) => r.type === 'MR' && r.id) ?? reps.find((r) => r.id))?.id ?? null;
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
    throw new AdtError('AR', 'not an HL7 v2 message (no MSH segment)');
  }
  const msh = message.header;
  return {
    message,
    controlId: text(msh.getComponent(10, 1)),
    sender: `${msh.getComponent(3, 1)}^${msh.getComponent(4, 1)}`,
    receivingFacility: msh.getComponent(6, 1),
    messageType: msh.getComponent(9, 1),
    trigger: msh.getComponent(9, 2) || message.getSegment('EVN')?.getComponent(1, 1) || '',
  };
}

/** `header`: the message as readHeader already parsed it, so the listener parses each message once. */
export function parseAdt(raw: string, o: AdtParseOptions, h: Hl7Header = readHeader(raw)): AdtEvent {
  if (!h.controlId) throw new AdtError('AR', 'MSH-10 (message control id) is empty');
  if (h.messageType !== 'ADT') throw new AdtError('AR', `message type ${h.messageType || '(none)'} is not ADT`);
  if (!(ADT_EVENTS as readonly string[]).includes(h.trigger)) throw new AdtError('AR', `ADT event ${h.trigger || '(none)'} is not one Paperback uses`);
  const m = h.message;
  const msh = m.header;
  const evn = m.getSegment('EVN');
  const pid = m.getSegment('PID');
  const pv1 = m.getSegment('PV1');
  if (!pid) throw new AdtError('AE', 'PID segment missing');
  const mrn = mrnOf(pid);
  if (!mrn) throw new AdtError('AE', 'PID-3 has no patient identifier');
  if (!/^[A-Za-z0-9._-]{1,40}$/.test(mrn)) throw new AdtError('AE', 'PID-3 identifier has characters an MRN cannot have');
  const eventTime = hl7Time(text(evn?.getComponent(6, 1)), o, 'EVN-6') ?? hl7Time(text(evn?.getComponent(2, 1)), o, 'EVN-2') ?? hl7Time(text(msh.getComponent(7, 1)), o, 'MSH-7');
  if (!eventTime) throw new AdtError('AE', 'no event time (EVN-6, EVN-2 or MSH-7)');
  const type = h.trigger as AdtEventType;
  const loc = location(pv1, 3);
  if (['A01', 'A02', 'A04', 'A06', 'A13'].includes(type) && !loc) throw new AdtError('AE', `${type} without an assigned location (PV1-3)`);
  const sexCode = text(pid.getComponent(8, 1));
  const sex = sexCode === 'M' ? 'male' : sexCode === 'F' ? 'female' : sexCode === 'O' || sexCode === 'A' ? 'other' : sexCode === 'U' ? 'unknown' : null;
  const dob = text(pid.getComponent(7, 1));
  const al1 = m.getAllSegments('AL1');
  const dg1 = m.getAllSegments('DG1');
  const attending = pv1 ? doctorName(pv1, 7, o.nameOrder) : null;
  return {
    controlId: h.controlId,
    sender: h.sender,
    receivingFacility: h.receivingFacility,
    type,
    eventTime,
    mrn,
    name: personName(pid, 5, o.nameOrder),
    birthDate: dob && /^\d{8}/.test(dob) ? `${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6, 8)}` : null,
    sex,
    location: loc ?? { pointOfCare: null, room: null, bed: null },
    priorLocation: location(pv1, 6),
    attending,
    admittedAt: hl7Time(text(pv1?.getComponent(44, 1)), o, 'PV1-44'),
    dischargedAt: hl7Time(text(pv1?.getComponent(45, 1)), o, 'PV1-45'),
    admitReason: text(m.getSegment('PV2')?.getComponent(3, 2)) ?? text(m.getSegment('PV2')?.getComponent(3, 1)),
    allergies: al1.length
      ? al1
          .map((s) => ({ substance: text(s.getComponent(3, 2)) ?? text(s.getComponent(3, 1)) ?? '', code: text(s.getComponent(3, 1)), severity: text(s.getComponent(4, 1)), reaction: text(s.getComponent(5, 1)) }))
          .filter((a) => a.substance)
      : null,
    diagnoses: dg1.length ? dg1.map((s) => ({ code: text(s.getComponent(3, 1)), text: text(s.getComponent(4, 1)) ?? text(s.getComponent(3, 2)) ?? text(s.getComponent(3, 1)) ?? '' })).filter((d) => d.text) : null,
  };
}

/** "+0700" for a time zone at a moment (HL7 local times carry no offset). */
export function tzOffsetOf(timeZone: string, at: Date = new Date()): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? `${m[1]}${m[2]}${m[3]}` : '+0000';
}

/** An ACK for a message we could not parse at all (no usable MSH): built by hand. */
export function bareAck(code: 'AR' | 'AE', reason: string): string {
  const now = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return [`MSH|^~\\&|PAPERBACK|PAPERBACK|||${now}||ACK|${now}|P|2.5`, `MSA|${code}||${reason.replace(/[|^~\\&\r\n]/g, ' ')}`].join('\r');
}
