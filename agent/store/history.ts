import { nowIso, type Db } from './db.js';

/**
 * Nothing grows forever: a box offline for weeks records runs every five
 * minutes, prints, HL7 messages and outage events. Each table's rows older
 * than `keepDays` are removed here, in one transaction, except what is still
 * needed: a run a snapshot names, a print job not finished, an HL7 message
 * not yet applied, a patient the feed still has in a bed. The audit log is
 * never pruned (it is the record of who saw what). SQLite reuses the freed
 * pages, so the file stops growing rather than shrinking.
 */
export interface HistoryPruned {
  failedSnapshots: number;
  jobRuns: number;
  printJobs: number;
  outageEvents: number;
  declarations: number;
  hl7Messages: number;
  hl7Quarantine: number;
  adtPatients: number;
  sessions: number;
}

export function pruneHistory(db: Db, keepDays: number, now = new Date()): HistoryPruned {
  const cutoff = nowIso(new Date(now.getTime() - keepDays * 86_400_000));
  return db.transaction(() => {
    const run = (sql: string) => db.prepare(sql).run(cutoff).changes;
    // A run that failed leaves a snapshot row with no documents; 288 a day pile up while the HIS is down.
    const dayAgo = nowIso(new Date(now.getTime() - 86_400_000));
    const failedSnapshots = db.prepare(`DELETE FROM snapshots WHERE status = 'failed' AND created_at < ? AND id NOT IN (SELECT snapshot_id FROM artifacts) AND id NOT IN (SELECT snapshot_id FROM current_snapshot)`).run(dayAgo).changes;
    return {
      failedSnapshots,
      jobRuns: run(`DELETE FROM job_runs WHERE started_at < ? AND status <> 'running' AND id NOT IN (SELECT run_id FROM snapshots)`),
      // Their events go with them (ON DELETE CASCADE).
      printJobs: run(`DELETE FROM print_jobs WHERE updated_at < ? AND state IN ('completed', 'failed', 'cancelled')`),
      outageEvents: run('DELETE FROM outage_events WHERE at < ?'),
      declarations: run('DELETE FROM declarations WHERE ended_at IS NOT NULL AND ended_at < ?'),
      hl7Messages: run(`DELETE FROM hl7_messages WHERE received_at < ? AND status <> 'stored'`),
      hl7Quarantine: run('DELETE FROM hl7_quarantine WHERE received_at < ?'),
      // A merged MRN's record stays: it is what refuses later events for the retired number.
      adtPatients: run(`DELETE FROM adt_patients WHERE updated_at < ? AND status NOT IN ('admitted', 'merged')`),
      sessions: run('DELETE FROM sessions WHERE expires_at < ?'),
    };
  }).immediate();
}
