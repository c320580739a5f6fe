import type { Db } from '../store/db.js';
import { acceptHeldSnapshot, currentSnapshot, heldSnapshot, type SnapshotRow } from '../store/snapshots.js';
import { PaperbackError } from '../log/errors.js';

/**
 * A census the drop guard held (schedule/run.ts): what it is, and how a
 * person accepts it. Shared by the CLI and the IT page, so both check and
 * audit the same way.
 */
export interface HeldCensus {
  jobId: string;
  held: SnapshotRow;
  current: SnapshotRow | null;
  /** Why it was held, in English (the run's reason). */
  reason: string;
}

export function heldCensus(db: Db, jobId: string): HeldCensus | null {
  const held = heldSnapshot(db, jobId);
  if (!held) return null;
  const reason = held.warnings.find((w) => w.code === 'census-held')?.message ?? 'the census was held';
  return { jobId, held, current: currentSnapshot(db, jobId), reason };
}

export class NothingHeldError extends PaperbackError {
  constructor(readonly jobId: string) {
    super('nothing-held', `job ${jobId} has no held census to accept`);
  }
}

/**
 * Publish the held census because a person says it is right (the ward really
 * emptied). `snapshotId`, when given, must be the one still held: a person
 * accepts what they looked at, not whatever a later run held since. The
 * caller records who accepted it in the audit log.
 */
export function acceptHeldCensus(db: Db, jobId: string, opts: { snapshotId?: number; now?: Date } = {}): { published: SnapshotRow; previous: SnapshotRow | null } {
  const h = heldCensus(db, jobId);
  if (!h) throw new NothingHeldError(jobId);
  const published = acceptHeldSnapshot(db, jobId, opts.snapshotId ?? h.held.id, opts.now ?? new Date());
  return { published, previous: h.current };
}

/** What the audit log keeps of an acceptance: counts and ids, no patient data. */
export const acceptanceDetail = (a: { published: SnapshotRow; previous: SnapshotRow | null }) => ({ snapshot: a.published.id, patients: a.published.counts.patients ?? null, previous: a.previous?.id ?? null, previousPatients: a.previous?.counts.patients ?? null });
