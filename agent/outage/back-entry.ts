import { keyOf, patientKey } from '../model/helpers.js';
import type { DowntimeEntryLine, Patient } from '../model/ward.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { effectiveEntries, listEntries, type Entry } from '../store/downtime-entries.js';
import { currentSnapshot } from '../store/snapshots.js';
import { listAdmissions, type Admission } from './admissions.js';
import { hisWardOf } from './entry-sources.js';
import { entryLine } from './entry-overlay.js';

/**
 * What is still to be entered into the HIS by hand after a downtime, in the
 * order sites back-enter: admissions, moves and discharges first (so the
 * patient is where the HIS expects), then medications with their actual
 * times, then vital signs, then notes. Entries already filed, and entries a
 * later one corrects, are not on it.
 */
export type BackEntrySection = 'adt' | 'medications' | 'vitals' | 'notes';
export const BACK_ENTRY_SECTIONS: readonly BackEntrySection[] = ['adt', 'medications', 'vitals', 'notes'];

export interface BackEntryRow {
  section: BackEntrySection;
  bed: string;
  name: string;
  mrn: string;
  /** The entry as paper words it (render/entry-words.ts), or a downtime admission. */
  line: DowntimeEntryLine | null;
  admission: Admission | null;
  state: Entry['state'] | 'not mapped';
  uid: string;
}

const SECTION: Record<Entry['kind'], BackEntrySection> = { transfer: 'adt', discharge: 'adt', administration: 'medications', vitals: 'vitals', note: 'notes' };

export function backEntryRows(db: Db, blobs: BlobStore, q: { jobId: string; ward: string }): BackEntryRow[] {
  const snap = currentSnapshot(db, q.jobId);
  const his = snap ? hisWardOf(db, blobs, snap.id) : null;
  const byKey = new Map<string, Patient>((his?.patients ?? []).map((p) => [patientKey(p), p]));
  const bedOf = (p: Patient | undefined) => (p && his?.beds.find((b) => b.id === p.bedId)?.label) ?? '—';
  const admissions = listAdmissions(db, blobs, { unmapped: true }).filter((a) => a.ward === q.ward);
  const rows: BackEntryRow[] = admissions.map((a) => ({ section: 'adt', bed: a.bed ?? '—', name: a.name, mrn: a.number, line: null, admission: a, state: 'not mapped', uid: a.number }));
  for (const e of effectiveEntries(listEntries(db, blobs, { jobId: q.jobId }))) {
    if (e.state === 'filed') continue;
    const p = byKey.get(e.patient);
    const a = admissions.find((x) => keyOf(x.number) === e.patient);
    rows.push({
      section: SECTION[e.kind],
      bed: p ? bedOf(p) : a?.bed ?? '—',
      name: p?.name ?? a?.name ?? '?',
      mrn: p?.mrn ?? a?.number ?? e.patient,
      line: entryLine(e), // never filed: filed entries are not on the list
      admission: null,
      state: e.state,
      uid: e.uid,
    });
  }
  const when = (r: BackEntryRow) => r.line?.at ?? r.admission?.enteredAt ?? '';
  return rows.sort((x, y) => BACK_ENTRY_SECTIONS.indexOf(x.section) - BACK_ENTRY_SECTIONS.indexOf(y.section) || when(x).localeCompare(when(y)));
}
