import { patientKey } from '../model/helpers.js';
import type { Administration, DowntimeEntryLine, Patient, WardDeparture, WardSnapshot } from '../model/ward.js';
import type { Entry } from '../store/downtime-entries.js';
import type { Admission } from './admissions.js';

/**
 * The ward as the HIS last gave it, with what nurses recorded on this box
 * since (issue #25): so the census, MAR and summary printed in hour 30 of a
 * downtime are still right. A pure function of the HIS's ward and the
 * entries that stand; the HIS's ward is never changed, so applying the
 * entries again to it (each new entry, each new pull) gives the same result.
 *
 * - a dose given, held, refused or not given joins her administrations (the
 *   MAR's "last given" column reads it) and her downtime record;
 * - vital signs and notes go on her downtime record (summary and MAR);
 * - a move to another bed of the ward moves her on the census; a transfer
 *   off the ward or a discharge takes her off it, listed apart as gone;
 * - a downtime admission joins the census under her downtime number.
 */

export interface OverlayInput {
  /** The entries that stand (corrections applied) and are not yet in the HIS's data. */
  entries: Entry[];
  /** Downtime admissions to this ward not yet mapped to an HIS record. */
  admissions: Admission[];
}

/** A stored entry as paper and the pages word it (render/entry-words.ts). */
export const entryLine = (e: Entry): DowntimeEntryLine => ({
  kind: e.kind,
  at: e.occurredAt,
  enteredAt: e.enteredAt,
  by: e.enteredBy,
  payload: e.payload as unknown as Record<string, unknown>,
  correction: e.correctionReason,
  filed: e.state === 'filed',
});

/** The MAR's reading of a dose recorded during the downtime. */
function administrationOf(e: Entry): Administration | null {
  const p = e.payload;
  if (p.kind !== 'administration') return null;
  return {
    orderId: p.orderId,
    drug: p.drug,
    dose: p.dose ?? null,
    at: e.occurredAt,
    by: e.enteredBy,
    status: p.outcome === 'given' ? 'completed' : 'not-done',
    reason: p.outcome === 'given' ? null : p.reason ?? null,
    downtime: true,
  };
}

/** A patient admitted on this box: what was recorded about her, and nothing the HIS would have known. */
export function admittedPatient(a: Admission, bedId: string | null): Patient {
  return {
    id: `downtime-${a.number}`,
    mrn: a.number,
    name: a.name,
    birthDate: a.birthDate,
    sex: a.sex === 'unknown' ? null : a.sex,
    bedId,
    admittedAt: a.enteredAt,
    attending: null,
    admittingDiagnosis: null,
    codeStatus: null,
    isolation: [],
    flags: [],
    weightKg: null,
    diagnoses: { status: 'not-pulled', items: [] },
    allergies: { status: 'not-recorded', items: [] },
    // Nothing electronic was ordered for her: her orders are on the blank downtime MAR, said so on paper.
    orders: { status: 'not-pulled', items: [] },
    administrations: { status: 'not-pulled', since: null, items: [] },
    downtimeAdmission: { number: a.number, enteredBy: a.enteredBy, enteredAt: a.enteredAt },
  };
}

const sameBed = (want: string) => (b: { id: string; label: string }) => b.label.trim().toLowerCase() === want.trim().toLowerCase() || b.id === want;

export function applyEntries(his: WardSnapshot, input: OverlayInput): WardSnapshot {
  if (input.entries.length === 0 && input.admissions.length === 0) return his;
  const ward: WardSnapshot = structuredClone(his);
  const byKey = new Map<string, Patient>();
  for (const a of input.admissions) {
    if (ward.patients.some((p) => p.mrn === a.number)) continue; // the HIS already has her under this number
    const bed = a.bed ? ward.beds.find(sameBed(a.bed)) ?? null : null;
    const p = admittedPatient(a, bed?.id ?? null);
    if (bed) bed.patientId = p.id;
    ward.patients.push(p);
  }
  for (const p of ward.patients) byKey.set(patientKey(p), p);

  const departures: WardDeparture[] = [];
  const gone = new Set<Patient>();
  let through = '';
  for (const e of [...input.entries].sort((x, y) => x.occurredAt.localeCompare(y.occurredAt) || x.id - y.id)) {
    const p = byKey.get(e.patient);
    if (!p || gone.has(p)) continue; // an entry for someone no longer on this census: the reconciliation view shows it
    if (e.enteredAt > through) through = e.enteredAt;
    (p.downtimeEntries ??= []).push(entryLine(e));
    const dose = administrationOf(e);
    if (dose) {
      p.administrations = { ...p.administrations, items: [...p.administrations.items, dose] };
      continue;
    }
    const move = e.payload;
    const bedLabel = ward.beds.find((b) => b.id === p.bedId)?.label ?? null;
    if (move.kind === 'transfer' && move.toBed && !move.toWard) {
      const to = ward.beds.find(sameBed(move.toBed));
      for (const b of ward.beds) if (b.patientId === p.id) b.patientId = null;
      p.bedId = to?.id ?? null;
      if (to) to.patientId = p.id;
      else p.flags = [...p.flags, { text: `→ ${move.toBed}`, category: 'other' }];
    } else if (move.kind === 'transfer' || move.kind === 'discharge') {
      gone.add(p);
      const to = move.kind === 'transfer' ? [move.toWard, move.toBed].filter(Boolean).join(' · ') : move.destination ?? null;
      departures.push({ name: p.name, mrn: p.mrn, bed: bedLabel, kind: move.kind, to: to || null, at: e.occurredAt, by: e.enteredBy });
    }
  }
  ward.patients = ward.patients.filter((p) => !gone.has(p));
  for (const b of ward.beds) if (b.patientId && !ward.patients.some((p) => p.id === b.patientId)) b.patientId = null;
  ward.downtimeEntries = { count: input.entries.length, through: through || (input.admissions.at(-1)?.enteredAt ?? his.asOf), departures, admissions: input.admissions.length };
  return ward;
}
