import type { Db } from './db.js';
import type { BlobStore } from './blobs.js';

export interface RetentionPolicy {
  keepLast: number;
  maxAgeDays: number;
}

export interface RetentionResult {
  snapshotsDeleted: number;
  blobsDeleted: number;
}

/**
 * Drop a job's published snapshots beyond the last `keepLast` or older than
 * `maxAgeDays`, and failed snapshots' leftovers; never the current snapshot.
 * Rows go first in one transaction, then files no row needs any more: a crash
 * between the two leaves only orphan files, which `verify` reports and the
 * next collection removes — never a row pointing at a missing file.
 */
export function applyRetention(db: Db, blobs: BlobStore, jobId: string, policy: RetentionPolicy, now: Date): RetentionResult {
  const cutoff = new Date(now.getTime() - policy.maxAgeDays * 86_400_000).toISOString();
  // The files of the snapshots dropped here are the only ones this call can have freed.
  const freed = new Set<string>();
  const dropArtifacts = (snapshotId: number) => {
    for (const sha of db.prepare('SELECT sha256 FROM artifacts WHERE snapshot_id = ?').pluck().all(snapshotId) as string[]) freed.add(sha);
    db.prepare('DELETE FROM artifacts WHERE snapshot_id = ?').run(snapshotId);
  };
  const deleted = db.transaction(() => {
    const current = db.prepare('SELECT snapshot_id FROM current_snapshot WHERE job_id = ?').pluck().get(jobId) as number | undefined;
    const published = db.prepare(`SELECT id, created_at AS createdAt FROM snapshots WHERE job_id = ? AND status = 'published' ORDER BY id DESC`).all(jobId) as { id: number; createdAt: string }[];
    const doomed = published.filter((s, i) => s.id !== current && (i >= policy.keepLast || s.createdAt < cutoff)).map((s) => s.id);
    // Failed or abandoned (staging, not running) snapshots keep no files; their row stays as history until the age limit.
    const failed = db
      .prepare(`SELECT s.id, s.created_at AS createdAt FROM snapshots s JOIN job_runs r ON r.id = s.run_id
                WHERE s.job_id = ? AND (s.status = 'failed' OR (s.status = 'staging' AND r.status != 'running'))`)
      .all(jobId) as { id: number; createdAt: string }[];
    for (const f of failed) dropArtifacts(f.id);
    doomed.push(...failed.filter((f) => f.createdAt < cutoff).map((f) => f.id));
    for (const id of doomed) {
      dropArtifacts(id);
      db.prepare('UPDATE job_runs SET snapshot_id = NULL WHERE snapshot_id = ?').run(id);
      db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
    }
    return doomed.length;
  }).immediate();
  // secure_delete zeroes the freed pages; a checkpoint moves that into the main file
  // and truncates the WAL, so no older copy of a deleted row stays on disk.
  if (deleted > 0) db.pragma('wal_checkpoint(TRUNCATE)');
  // Each run looks only at what it freed, so its cost follows what changed, not the store's size.
  // The whole store is looked through with the stray scan: that also finds files a finished print
  // job or a replaced downtime summary was the last to hold.
  const whole = strayScanDue(blobs, now);
  return { snapshotsDeleted: deleted, blobsDeleted: collectGarbage(db, blobs, whole ? { strays: true } : { strays: false, among: freed }) };
}

/**
 * Listing every file in blobs/ costs with the size of the whole store, not of
 * what a run changed, and strays come only from a crashed process (a failed
 * run removes its own files): look for them on a store's first retention in
 * this process, then at most hourly.
 */
const STRAY_SCAN_EVERY_MS = 3_600_000;
const lastStrayScan = new WeakMap<BlobStore, number>();
function strayScanDue(blobs: BlobStore, now: Date): boolean {
  const last = lastStrayScan.get(blobs);
  if (last !== undefined && now.getTime() - last < STRAY_SCAN_EVERY_MS && now.getTime() >= last) return false;
  lastStrayScan.set(blobs, now.getTime());
  return true;
}

/** Still needed by a row: a document, a print job not yet ended, a downtime's summary, a downtime admission's record, or a downtime entry. */
const IN_USE = `EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = b.sha256)
  OR EXISTS (SELECT 1 FROM print_jobs p WHERE p.sha256 = b.sha256 AND p.state NOT IN ('completed', 'failed', 'cancelled'))
  OR EXISTS (SELECT 1 FROM downtimes d WHERE d.summary_sha256 = b.sha256)
  OR EXISTS (SELECT 1 FROM downtime_numbers n WHERE n.admission_sha256 = b.sha256)
  OR EXISTS (SELECT 1 FROM downtime_entries e WHERE e.record_sha256 = b.sha256)`;

/**
 * Remove blobs no artifact, unfinished print job or downtime summary refers
 * to, and (with `strays`) temporary files left by a crashed write. With
 * `among`, only those blobs are considered. Returns the number removed.
 */
export function collectGarbage(db: Db, blobs: BlobStore, opts: { strays?: boolean; among?: Iterable<string> } = {}): number {
  const unused = db
    .transaction(() => {
      let rows: string[];
      if (opts.among) {
        const unusedOne = db.prepare(`SELECT b.sha256 FROM blobs b WHERE b.sha256 = ? AND NOT (${IN_USE})`).pluck();
        rows = [...new Set(opts.among)].filter((sha) => unusedOne.get(sha) !== undefined);
      } else {
        rows = db.prepare(`SELECT b.sha256 FROM blobs b WHERE NOT (${IN_USE})`).pluck().all() as string[];
      }
      const drop = db.prepare('DELETE FROM blobs WHERE sha256 = ?');
      for (const sha of rows) drop.run(sha);
      return rows;
    })
    .immediate();
  for (const sha of unused) blobs.remove(sha);
  if (opts.strays === false) return unused.length;
  // Files with no row at all: a run killed after writing a file but before recording it.
  const known = new Set(db.prepare('SELECT sha256 FROM blobs').pluck().all() as string[]);
  let strays = 0;
  for (const name of blobs.list()) {
    if (name.startsWith('.tmp-') || !known.has(name)) {
      // A concurrent run may be between writing a blob and inserting its row; leave young files alone.
      if (blobs.ageMs(name) < 10 * 60_000) continue;
      blobs.removeRaw(name);
      strays++;
    }
  }
  return unused.length + strays;
}

/**
 * After a failed run: remove the files it wrote that no row records. A run
 * writing the same content at this moment puts its file back inside its own
 * transaction, as after any collection.
 */
export function removeUnrecorded(db: Db, blobs: BlobStore, sha256s: Iterable<string>): number {
  const recorded = db.prepare('SELECT 1 FROM blobs WHERE sha256 = ?').pluck();
  let removed = 0;
  for (const sha of new Set(sha256s)) {
    if (recorded.get(sha) !== undefined) continue;
    blobs.remove(sha);
    removed++;
  }
  return removed;
}
