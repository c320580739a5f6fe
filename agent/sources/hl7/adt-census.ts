import type { BlobStore } from '../../store/blobs.js';
import type { Db } from '../../store/db.js';
import { nowIso } from '../../store/db.js';
import type { AdtEvent, AdtLocation } from './adt.js';

/**
 * The census an ADT feed keeps: per patient, where they are and what the
 * feed said about them. Patient details are sealed with the data key in
 * SQLite, like every other piece of patient data on the box.
 */
export type AdtStatus = 'admitted' | 'discharged' | 'cancelled' | 'pre-admitted';

/** The feed's latest word on a patient: the event's demographics and clinical lists, plus where they are now. */
export interface AdtRecord extends Pick<AdtEvent, 'mrn' | 'name' | 'birthDate' | 'sex' | 'location' | 'priorLocation' | 'attending' | 'admittedAt' | 'dischargedAt' | 'admitReason' | 'allergies' | 'diagnoses'> {
  wardId: string | null;
  status: AdtStatus;
  lastEventTime: string;
}

export type ApplyOutcome = 'applied' | 'out-of-order' | 'ignored';

/**
 * The state change one event makes. Events older than what is already
 * applied for that patient do not move them (an A02 arriving after the A03
 * must not put a discharged patient back in a bed); they are kept and
 * reported as out-of-order.
 */
export function applyAdtEvent(prev: AdtRecord | null, ev: AdtEvent, wardOf: (l: AdtLocation) => string | null): { next: AdtRecord | null; outcome: ApplyOutcome } {
  if (prev && ev.eventTime < prev.lastEventTime) return { next: prev, outcome: 'out-of-order' };
  if (!prev && ['A03', 'A07', 'A08', 'A11', 'A12'].includes(ev.type)) {
    // Nothing known about this patient to discharge, update or cancel: start the record only when it places them.
    if (ev.type !== 'A08') return { next: null, outcome: 'ignored' };
  }
  const base: AdtRecord = prev ?? {
    mrn: ev.mrn,
    wardId: null,
    status: 'pre-admitted',
    lastEventTime: ev.eventTime,
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
    lastEventTime: ev.eventTime,
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
  switch (ev.type) {
    case 'A01':
    case 'A04':
    case 'A06':
      placeAt(ev.location);
      r.status = 'admitted';
      r.admittedAt = ev.admittedAt ?? ev.eventTime;
      r.dischargedAt = null;
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
      r.dischargedAt = ev.dischargedAt ?? ev.eventTime;
      break;
    case 'A11':
      r.status = 'cancelled';
      break;
    case 'A05':
      if (base.status !== 'admitted') r.status = 'pre-admitted';
      break;
    case 'A08':
      break;
  }
  return { next: r, outcome: 'applied' };
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
