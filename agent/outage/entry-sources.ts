import type { WardSnapshot } from '../model/ward.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { effectiveEntries, listEntries } from '../store/downtime-entries.js';
import { getArtifact, readSnapshotWard } from '../store/snapshots.js';
import { listAdmissions } from './admissions.js';
import { applyEntries } from './entry-overlay.js';

/** Where a snapshot made with downtime entries keeps the HIS's own ward, for the next entries run. */
export const HIS_WARD_ADDRESS = 'data/his-ward';

/** The HIS's ward a snapshot was made from: its kept HIS ward when entries were applied, else its ward. */
export function hisWardOf(db: Db, blobs: BlobStore, snapshotId: number): WardSnapshot | null {
  const kept = getArtifact(db, snapshotId, HIS_WARD_ADDRESS);
  if (!kept) return readSnapshotWard(db, blobs, snapshotId);
  try {
    return JSON.parse(blobs.get(kept.sha256).toString('utf8')) as WardSnapshot;
  } catch {
    return null;
  }
}

/**
 * The ward with the job's downtime entries applied, or null when there are
 * none to apply. An entry applies until the HIS's data can hold it: while it
 * is pending, failed or waiting for a person, and once filed only to HIS data
 * read before it was filed. A rejected entry does not apply (a person
 * decided). Downtime admissions apply until Registration maps them.
 */
export function entryOverlayFor(db: Db, blobs: BlobStore, q: { jobId: string; ward: string; his: WardSnapshot }): WardSnapshot | null {
  // Every run asks, long after a downtime: only the entries that can apply have their sealed records opened.
  const entries = effectiveEntries(listEntries(db, blobs, { jobId: q.jobId, only: (e) => e.state !== 'rejected' && (e.state !== 'filed' || (e.filedAt ?? '') > q.his.asOf) }));
  const admissions = listAdmissions(db, blobs, { unmapped: true }).filter((a) => a.ward === q.ward);
  if (entries.length === 0 && admissions.length === 0) return null;
  return applyEntries(q.his, { entries, admissions });
}
