import type { WardSnapshot, Patient } from '../model/ward.js';
import { foldForSearch, patientKey, patientsInBedOrder } from '../model/helpers.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { currentSnapshot, getArtifact, listArtifacts, listSnapshots, type ArtifactRow, type SnapshotRow } from '../store/snapshots.js';
import { BlobIntegrityError } from '../store/blobs.js';
import { DOCUMENT_TITLE_KEYS } from '../render/documents.js';
import { describePrint } from '../render/print-words.js';

export interface CurrentWard {
  snapshot: SnapshotRow;
  ward: WardSnapshot;
  documents: ArtifactRow[];
  /** Set when the current snapshot's data failed its integrity check and an earlier one is shown instead. */
  fallbackFrom: SnapshotRow | null;
}

/** A stored file that cannot be trusted or read: damaged, sealed under another key, or gone. */
const unreadable = (err: unknown) => err instanceof BlobIntegrityError || (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Parsed ward data by content hash: a snapshot is read from disk and parsed once, not per request. */
const cache = new Map<string, WardSnapshot>();

/** The current snapshot, then the earlier published ones, newest first: where a damaged file is looked for again. */
function currentThenEarlier(db: Db, jobId: string): SnapshotRow[] {
  const current = currentSnapshot(db, jobId);
  return current ? [current, ...listSnapshots(db, jobId, 20).filter((x) => x.status === 'published' && x.id < current.id)] : [];
}

/**
 * The ward as the current snapshot has it; if that snapshot's data fails its
 * integrity check, the newest earlier snapshot that reads, marked as such, so
 * the ward page keeps serving (with its true, older age) instead of failing.
 */
export function currentWard(db: Db, blobs: BlobStore, jobId: string): CurrentWard | null {
  const [snapshot, ...earlier] = currentThenEarlier(db, jobId);
  if (!snapshot) return null;
  let first: unknown = null;
  for (const s of [snapshot, ...earlier]) {
    const data = getArtifact(db, s.id, 'data/ward');
    if (!data) continue;
    let ward = cache.get(data.sha256);
    if (!ward) {
      try {
        ward = JSON.parse(blobs.get(data.sha256).toString('utf8')) as WardSnapshot;
      } catch (err) {
        if (!unreadable(err)) throw err;
        first ??= err;
        continue;
      }
      if (cache.size > 20) cache.delete(cache.keys().next().value!);
      cache.set(data.sha256, ward);
    }
    return { snapshot: s, ward, documents: listArtifacts(db, s.id, 'document'), fallbackFrom: s.id === snapshot.id ? null : snapshot };
  }
  if (first) throw first;
  return null;
}

/**
 * A document's bytes from the current snapshot, or, if its file fails its
 * integrity check, from the newest earlier snapshot whose copy reads. Every
 * page of a PDF carries its own as-of time, so an older copy says what it is.
 */
export function readableDocument(db: Db, blobs: BlobStore, jobId: string, address: string): { artifact: ArtifactRow; snapshot: SnapshotRow; pdf: Buffer; fallback: boolean } | null {
  const [snapshot, ...earlier] = currentThenEarlier(db, jobId);
  if (!snapshot) return null;
  let first: unknown = null;
  for (const s of [snapshot, ...earlier]) {
    const artifact = getArtifact(db, s.id, address);
    if (!artifact || artifact.kind !== 'document') {
      if (s.id === snapshot.id) return null;
      continue;
    }
    try {
      return { artifact, snapshot: s, pdf: blobs.get(artifact.sha256), fallback: s.id !== snapshot.id };
    } catch (err) {
      if (!unreadable(err)) throw err;
      first ??= err;
    }
  }
  if (first) throw first;
  return null;
}

/**
 * Find patients by bed, MRN, another identifier the source sent (national
 * ID, insurance number, a merged MRN) or name. Names match without diacritics and in
 * any word order ("nguyen hong" finds "Nguyễn Thị Hồng"); the query is data,
 * never SQL or a pattern.
 */
export function searchPatients(ward: WardSnapshot, query: string): Patient[] {
  const words = foldForSearch(query).split(/\s+/).filter(Boolean);
  const all = patientsInBedOrder(ward);
  if (words.length === 0) return all;
  const bedOf = (p: Patient) => ward.beds.find((b) => b.id === p.bedId)?.label ?? '';
  return all.filter((p) => {
    const hay = [foldForSearch(p.name ?? ''), foldForSearch(p.mrn ?? ''), foldForSearch(bedOf(p)), ...(p.otherIds ?? []).map((x) => foldForSearch(x.value)), ...(p.bandIds ?? []).map((x) => foldForSearch(x.value))].join(' ');
    return words.every((w) => hay.includes(w));
  });
}

export function findPatient(ward: WardSnapshot, key: string): Patient | null {
  return ward.patients.find((p) => patientKey(p) === key) ?? null;
}


/** A document's title in the page's language (the stored title is in the paper's); reports and forms keep theirs. */
export function documentTitle(d: { address: string; title: string }, t: (key: string) => string): string {
  const key = (DOCUMENT_TITLE_KEYS as Record<string, string>)[d.address.split('/')[0]!];
  return key ? t(key) : d.title;
}

/**
 * A print job as staff know it (render/print-words.ts): the document's
 * title, and for a patient's document her bed and name from the job's
 * current snapshot, never an address like ward-3a/mar/BV0010001. Each job's
 * ward is opened once however many of its prints are listed.
 */
export function printJobWords(db: Db, blobs: BlobStore, t: (key: string) => string): (address: string) => { title: string; who: string | null } {
  const wards = new Map<string, WardSnapshot | null>();
  const wardOf = (jobId: string) => {
    if (!wards.has(jobId)) wards.set(jobId, currentWard(db, blobs, jobId)?.ward ?? null);
    return wards.get(jobId)!;
  };
  return (address) => {
    const w = describePrint(address, () => wardOf(address.split('/')[0]!), t);
    return { title: w.title, who: w.patient ? `${t('census.bed')} ${w.bed} · ${w.patient.name ?? w.patient.mrn ?? w.key}` : w.key };
  };
}
