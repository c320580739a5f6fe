import type { BlobStore } from '../../store/blobs.js';
import type { Db } from '../../store/db.js';
import { nowIso } from '../../store/db.js';
import type { AckProblem } from './ack.js';
import { PLACING_EVENTS, type AdtEvent, type AdtLocation, type AdtPatientPart, type AdtEventType, type OtherId } from './adt.js';

/**
 * The census an ADT feed keeps: per patient, where they are and what the
 * feed said about them. Patient details are sealed with the data key in
 * SQLite, like every other piece of patient data on the box.
 */
/** `registered`: known from A28/A31/A08 but never placed; `merged`: the MRN was retired by an A40 (see mergedInto). */
export type AdtStatus = 'admitted' | 'discharged' | 'cancelled' | 'pre-admitted' | 'registered' | 'merged';

/** The feed's latest word on a patient: the event's demographics and clinical lists, plus where they are now. */
export interface AdtRecord extends Pick<AdtEvent, 'mrn' | 'name' | 'birthDate' | 'sex' | 'location' | 'priorLocation' | 'attending' | 'admittedAt' | 'dischargedAt' | 'admitReason' | 'allergies' | 'diagnoses'> {
  wardId: string | null;
  status: AdtStatus;
  lastEventTime: string;
  /** PID-3 identifiers other than the MRN, and MRNs merged into this one. Older records have none. */
  otherIds?: OtherId[];
  /** Set on a retired MRN: the MRN that now holds this patient. */
  mergedInto?: string;
}

export type ApplyOutcome = 'applied' | 'out-of-order' | 'ignored';

/**
 * The state change one event makes. Events older than what is already
 * applied for that patient do not move them (an A02 arriving after the A03
 * must not put a discharged patient back in a bed); they are kept and
 * reported as out-of-order.
 */
export function applyAdtEvent(prev: AdtRecord | null, event: { type: AdtEventType; eventTime: string }, ev: AdtPatientPart, wardOf: (l: AdtLocation) => string | null): { next: AdtRecord | null; outcome: ApplyOutcome } {
  if (prev && event.eventTime < prev.lastEventTime) return { next: prev, outcome: 'out-of-order' };
  // Nothing known about this patient to discharge or cancel: start the record only when it places them or names them.
  if (!prev && ['A03', 'A07', 'A11', 'A12'].includes(event.type)) return { next: null, outcome: 'ignored' };
  const base: AdtRecord = prev ?? {
    mrn: ev.mrn,
    wardId: null,
    status: ['A05'].includes(event.type) ? 'pre-admitted' : 'registered',
    lastEventTime: event.eventTime,
    name: null,
    birthDate: null,
    sex: null,
    location: { pointOfCare: null, room: null, bed: null },
    priorLocation: null,
    attending: null,
    admittedAt: null,
    dischargedAt: null,
    admitReason: null,
    allergies: null,
    diagnoses: null,
  };
  // Every ADT message carries PID: the newest demographics win.
  const r: AdtRecord = {
    ...base,
    lastEventTime: event.eventTime,
    otherIds: mergeIds(base.otherIds ?? [], ev.otherIds),
    name: ev.name ?? base.name,
    birthDate: ev.birthDate ?? base.birthDate,
    sex: ev.sex ?? base.sex,
    attending: ev.attending ?? base.attending,
    admitReason: ev.admitReason ?? base.admitReason,
    allergies: ev.allergies ?? base.allergies,
    diagnoses: ev.diagnoses ?? base.diagnoses,
  };
  const placeAt = (l: AdtLocation) => {
    r.location = l;
    r.wardId = wardOf(l);
  };
  switch (event.type) {
    case 'A01':
    case 'A04':
    case 'A06':
      placeAt(ev.location);
      r.status = 'admitted';
      r.admittedAt = ev.admittedAt ?? event.eventTime;
      r.dischargedAt = null;
      break;
    case 'A17': // swap: each patient's PV1-3 is the bed they are in now
      r.priorLocation = base.location;
      placeAt(ev.location);
      break;
    case 'A13': // cancel discharge: back in the bed the message names
      placeAt(ev.location);
      r.status = 'admitted';
      r.dischargedAt = null;
      r.admittedAt = ev.admittedAt ?? base.admittedAt;
      break;
    case 'A02':
      r.priorLocation = base.location;
      placeAt(ev.location);
      r.status = 'admitted';
      break;
    case 'A12': {
      // Cancel transfer: PV1-3 names where the patient is again; else go back to the one we kept.
      const back = ev.location.pointOfCare || ev.location.bed ? ev.location : base.priorLocation;
      if (back) placeAt(back);
      r.priorLocation = null;
      r.status = 'admitted';
      break;
    }
    case 'A03':
    case 'A07':
      r.status = 'discharged';
      r.dischargedAt = ev.dischargedAt ?? event.eventTime;
      break;
    case 'A11':
      r.status = 'cancelled';
      break;
    case 'A05':
      if (base.status !== 'admitted') r.status = 'pre-admitted';
      break;
    case 'A08': // update, and A28/A31 (add/update person): demographics only, no one moves
    case 'A28':
    case 'A31':
    case 'A40':
      break;
  }
  return { next: r, outcome: 'applied' };
}

const mergeIds = (a: OtherId[], b: OtherId[]): OtherId[] => [...a, ...b.filter((x) => !a.some((y) => y.label === x.label && y.value === x.value))];

/**
 * A40: the retired record (MRG-1) folds into the surviving one (PID-3).
 * The survivor keeps its own bed when it has one; a survivor not in a bed
 * takes the retired record's bed, so a patient admitted under a temporary
 * MRN stays on the census under the real one. Allergies and diagnoses are
 * the union: a merge never loses an allergy. The retired MRN is kept as an
 * identifier the page can be searched by.
 */
export function mergeAdtRecords(survivor: AdtRecord | null, retired: AdtRecord | null, ev: AdtEvent, wardOf: (l: AdtLocation) => string | null): AdtRecord {
  const fromRetired = retired ? { ...retired, mrn: ev.mrn, mergedInto: undefined } : null;
  const base = survivor ?? fromRetired;
  const placed = survivor?.status === 'admitted' ? survivor : retired?.status === 'admitted' ? fromRetired : base;
  const { next } = applyAdtEvent(base ? { ...base, lastEventTime: '' } : null, { type: 'A40', eventTime: ev.eventTime }, ev, wardOf);
  const r = next!;
  if (placed) Object.assign(r, { location: placed.location, wardId: placed.wardId, status: placed.status, priorLocation: placed.priorLocation, admittedAt: placed.admittedAt, dischargedAt: placed.dischargedAt });
  const union = <T>(a: T[] | null | undefined, b: T[] | null | undefined, key: (x: T) => string): T[] | null => {
    if (!a && !b) return null;
    const out = [...(a ?? [])];
    for (const x of b ?? []) if (!out.some((y) => key(y) === key(x))) out.push(x);
    return out;
  };
  r.allergies = union(union(survivor?.allergies, retired?.allergies, (a) => a.substance.toLowerCase()), ev.allergies, (a) => a.substance.toLowerCase());
  r.diagnoses = union(union(survivor?.diagnoses, retired?.diagnoses, (d) => d.text.toLowerCase()), ev.diagnoses, (d) => d.text.toLowerCase());
  r.otherIds = mergeIds(mergeIds(survivor?.otherIds ?? [], retired?.otherIds ?? []), [{ label: 'merged MRN', value: ev.mergedMrn! }]);
  return r;
}

/** The record a retired MRN keeps: nobody in a bed, and where the patient went. */
export function retiredRecord(retired: AdtRecord | null, ev: AdtEvent): AdtRecord {
  const mrn = ev.mergedMrn!;
  return {
    ...(retired ?? { name: null, birthDate: null, sex: null, priorLocation: null, attending: null, admittedAt: null, dischargedAt: null, admitReason: null, allergies: null, diagnoses: null }),
    mrn,
    location: { pointOfCare: null, room: null, bed: null },
    wardId: null,
    status: 'merged',
    lastEventTime: ev.eventTime,
    mergedInto: ev.mrn,
  };
}

/**
 * Why an event cannot be applied to the feed's current state, answered AE at
 * once rather than stored and applied wrongly. These are the ordering rules
 * in docs/hl7.md: a transfer needs a patient who is in (a discharged patient
 * comes back only by A13 or a new admit); a swap needs both patients in
 * beds; a retired (merged) MRN takes no more events; and an admit to one of
 * this box's wards must name the bed, unless the source says to list such
 * patients under "no bed assigned".
 */
export function refusal(ev: AdtEvent, records: { first: AdtRecord | null; second: AdtRecord | null }, o: { ourWard: (l: AdtLocation) => boolean; admitWithoutBed: 'refuse' | 'unassigned' }): AckProblem | null {
  const retired = (r: AdtRecord | null, seq: number): AckProblem | null =>
    r?.status === 'merged' ? { code: 204, location: { segment: 'PID', sequence: seq, field: 3 }, text: `this MRN was merged into another (A40); send events under the surviving MRN` } : null;
  const merged = retired(records.first, 1) ?? (ev.type === 'A17' ? retired(records.second, 2) : null);
  if (merged) return merged;
  if (ev.type === 'A02' && records.first && ['discharged', 'cancelled'].includes(records.first.status))
    return { code: 204, location: { segment: 'PID', sequence: 1, field: 3 }, text: `transfer (A02) for a patient the feed has ${records.first.status === 'cancelled' ? 'cancelled the admission of' : 'discharged'}: send A13 (cancel discharge) or a new admit first` };
  if (ev.type === 'A17') {
    for (const [r, seq] of [[records.first, 1], [records.second, 2]] as const)
      if (r?.status !== 'admitted') return { code: 204, location: { segment: 'PID', sequence: seq, field: 3 }, text: `swap (A17): patient ${seq} is not in a bed on the feed's census` };
  }
  if (PLACING_EVENTS.includes(ev.type) && o.admitWithoutBed === 'refuse') {
    const parts: [AdtPatientPart, number][] = [[ev, 1], ...(ev.swapWith ? [[ev.swapWith, 2] as [AdtPatientPart, number]] : [])];
    for (const [part, seq] of parts)
      if (o.ourWard(part.location) && !bedLabel(part.location))
        return { code: 101, location: { segment: 'PV1', sequence: seq, field: 3, component: 3 }, text: `${ev.type} to a ward this box serves without a room or bed (PV1-3.2, PV1-3.3)` };
  }
  return null;
}

const sealName = (sourceId: string, mrn: string) => `adt:${sourceId}:${mrn}`;

export function readAdtRecord(db: Db, blobs: BlobStore, sourceId: string, mrn: string): AdtRecord | null {
  const row = db.prepare('SELECT data FROM adt_patients WHERE source_id = ? AND mrn = ?').get(sourceId, mrn) as { data: Buffer } | undefined;
  return row ? (JSON.parse(blobs.openValue(sealName(sourceId, mrn), row.data).toString('utf8')) as AdtRecord) : null;
}

export function writeAdtRecord(db: Db, blobs: BlobStore, sourceId: string, r: AdtRecord, now = new Date()): void {
  db.prepare(
    `INSERT INTO adt_patients (source_id, mrn, ward_id, bed, status, last_event_time, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(source_id, mrn) DO UPDATE SET ward_id = excluded.ward_id, bed = excluded.bed, status = excluded.status,
       last_event_time = excluded.last_event_time, data = excluded.data, updated_at = excluded.updated_at`,
  ).run(sourceId, r.mrn, r.wardId, bedLabel(r.location), r.status, r.lastEventTime, blobs.sealValue(sealName(sourceId, r.mrn), Buffer.from(JSON.stringify(r))), nowIso(now));
}

/** Everyone the feed has in a bed on this ward now. */
export function wardCensus(db: Db, blobs: BlobStore, sourceId: string, wardId: string): AdtRecord[] {
  const rows = db.prepare(`SELECT mrn, data FROM adt_patients WHERE source_id = ? AND ward_id = ? AND status = 'admitted' ORDER BY bed, mrn`).all(sourceId, wardId) as { mrn: string; data: Buffer }[];
  return rows.map((row) => JSON.parse(blobs.openValue(sealName(sourceId, row.mrn), row.data).toString('utf8')) as AdtRecord);
}

export const bedLabel = (l: AdtLocation): string | null => (l.room && l.bed ? `${l.room}-${l.bed}` : l.bed ?? l.room ?? null);
