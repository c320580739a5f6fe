import type { WardSnapshot, Patient } from '../model/ward.js';
import { foldForSearch, patientKey, patientsInBedOrder } from '../model/helpers.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { currentSnapshot, getArtifact, listArtifacts, type ArtifactRow, type SnapshotRow } from '../store/snapshots.js';

export interface CurrentWard {
  snapshot: SnapshotRow;
  ward: WardSnapshot;
  documents: ArtifactRow[];
}

/** Parsed ward data by content hash: a snapshot is read from disk and parsed once, not per request. */
const cache = new Map<string, WardSnapshot>();

export function currentWard(db: Db, blobs: BlobStore, jobId: string): CurrentWard | null {
  const snapshot = currentSnapshot(db, jobId);
  if (!snapshot) return null;
  const data = getArtifact(db, snapshot.id, 'data/ward');
  if (!data) return null;
  let ward = cache.get(data.sha256);
  if (!ward) {
    ward = JSON.parse(blobs.get(data.sha256).toString('utf8')) as WardSnapshot;
    if (cache.size > 20) cache.delete(cache.keys().next().value!);
    cache.set(data.sha256, ward);
  }
  return { snapshot, ward, documents: listArtifacts(db, snapshot.id, 'document') };
}

/**
 * Find patients by bed, MRN or name. Names match without diacritics and in
 * any word order ("nguyen hong" finds "Nguyễn Thị Hồng"); the query is data,
 * never SQL or a pattern.
 */
export function searchPatients(ward: WardSnapshot, query: string): Patient[] {
  const words = foldForSearch(query).split(/\s+/).filter(Boolean);
  const all = patientsInBedOrder(ward);
  if (words.length === 0) return all;
  const bedOf = (p: Patient) => ward.beds.find((b) => b.id === p.bedId)?.label ?? '';
  return all.filter((p) => {
    const hay = [foldForSearch(p.name ?? ''), foldForSearch(p.mrn ?? ''), foldForSearch(bedOf(p))].join(' ');
    return words.every((w) => hay.includes(w));
  });
}

export function findPatient(ward: WardSnapshot, key: string): Patient | null {
  return ward.patients.find((p) => patientKey(p) === key) ?? null;
}

const TITLE_KEYS: Record<string, string> = { census: 'census.title', allergies: 'wardAllergies.title', mar: 'mar.title', summary: 'summary.title' };

/** A document's title in the page's language (the stored title is in the paper's); reports and forms keep theirs. */
export function documentTitle(d: { address: string; title: string }, t: (key: string) => string): string {
  const key = TITLE_KEYS[d.address.split('/')[0]!];
  return key ? t(key) : d.title;
}
