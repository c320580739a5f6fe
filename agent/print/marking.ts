import type { Db } from '../store/db.js';
import { formatDateTime, type Translate } from '../render/i18n.js';
import type { PrintJobRow } from './queue.js';

/**
 * The words of a print job's conversion marking: where the data came from
 * (the snapshot's source system), a lookup code (the snapshot and the first
 * characters of the document's hash, or the print job for what no snapshot
 * holds), and when and by whom it was printed, in the paper's language.
 */
export function printMarkingText(db: Db, t: Translate, timeZone: string): (job: PrintJobRow, at: Date) => string {
  const snapshotOf = db.prepare('SELECT s.id, s.source_system AS system FROM artifacts a JOIN snapshots s ON s.id = a.snapshot_id WHERE a.id = ?');
  return (job, at) => {
    const snap = job.artifactId !== null ? (snapshotOf.get(job.artifactId) as { id: number; system: string | null } | undefined) : undefined;
    const code = snap ? `S${snap.id}-${job.sha256.slice(0, 8)}` : `J${job.id}-${job.sha256.slice(0, 8)}`;
    return t('print.marking', { system: snap?.system ?? 'Paperback', code, time: formatDateTime(at.toISOString(), timeZone) ?? at.toISOString(), user: job.requestedBy });
  };
}
