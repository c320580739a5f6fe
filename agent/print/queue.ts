import { nowIso, type Db } from '../store/db.js';

export type PrintState = 'queued' | 'sending' | 'processing' | 'completed' | 'failed' | 'cancelled';
export const FINAL_STATES: readonly PrintState[] = ['completed', 'failed', 'cancelled'];

export interface PrintJobRow {
  id: number;
  artifactId: number | null;
  sha256: string;
  address: string;
  jobName: string;
  printerId: string;
  currentPrinterId: string;
  copies: number;
  requestedBy: string;
  reason: 'manual' | 'downtime' | 'test' | 'label';
  downtimeId: number | null;
  /** application/pdf, or a label request (render/labels.ts) drawn for the printer that sends it. */
  mediaType: string;
  state: PrintState;
  attempts: number;
  nextAttemptAt: string | null;
  ippJobId: number | null;
  ippPrinterId: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface PrintEvent {
  at: string;
  state: string;
  printerId: string | null;
  detail: string | null;
}

const COLS = `id, artifact_id AS artifactId, sha256, address, job_name AS jobName, printer_id AS printerId,
  current_printer_id AS currentPrinterId, copies, requested_by AS requestedBy, reason, downtime_id AS downtimeId, state,
  attempts, next_attempt_at AS nextAttemptAt, ipp_job_id AS ippJobId, ipp_printer_id AS ippPrinterId, error,
  created_at AS createdAt, updated_at AS updatedAt, completed_at AS completedAt, media_type AS mediaType`;

export interface NewPrintJob {
  artifactId: number | null;
  sha256: string;
  address: string;
  jobName: string;
  printerId: string;
  copies: number;
  requestedBy: string;
  reason?: PrintJobRow['reason'];
  downtimeId?: number | null;
  mediaType?: string;
}

/** Store the request before anything is sent: it survives a restart and is resumed. */
export function enqueuePrint(db: Db, j: NewPrintJob, now = new Date()): number {
  return db.transaction(() => {
    const id = Number(
      db.prepare(
        `INSERT INTO print_jobs (artifact_id, sha256, address, job_name, printer_id, current_printer_id, copies, requested_by, reason, downtime_id, state, attempts, next_attempt_at, created_at, updated_at, media_type)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)`,
      ).run(j.artifactId, j.sha256, j.address, j.jobName, j.printerId, j.printerId, j.copies, j.requestedBy, j.reason ?? 'manual', j.downtimeId ?? null, nowIso(now), nowIso(now), nowIso(now), j.mediaType ?? 'application/pdf').lastInsertRowid,
    );
    recordEvent(db, id, 'queued', j.printerId, `requested by ${j.requestedBy}, ${j.copies} cop${j.copies === 1 ? 'y' : 'ies'}`, now);
    return id;
  })();
}

export function recordEvent(db: Db, id: number, state: string, printerId: string | null, detail: string | null, now = new Date()): void {
  db.prepare('INSERT INTO print_job_events (print_job_id, at, state, printer_id, detail) VALUES (?, ?, ?, ?, ?)').run(id, nowIso(now), state, printerId, detail);
}

type JobFields = Partial<Pick<PrintJobRow, 'attempts' | 'nextAttemptAt' | 'ippJobId' | 'ippPrinterId' | 'error' | 'currentPrinterId'>>;

/**
 * Move a job to a new state and record the change, in one immediate
 * transaction, only if the job is still in one of `from`: two processes may
 * look at one queue, and a transition from a state the job has already left
 * does nothing (false). The named transitions below are the only way a job
 * moves; their diagram:
 *
 *   queued ──claim──▶ sending ──markSent──▶ processing ──complete──▶ completed
 *     ▲                 │  │                    │
 *     │                 │  └──complete (folder) │
 *     └──retry / failOver / recover ◀───────────┤
 *                       └────────fail───────────┴──▶ failed
 */
function move(db: Db, id: number, from: readonly PrintState[], to: PrintState, fields: JobFields, detail: string | null, now: Date): boolean {
  return db.transaction(() => {
    const state = db.prepare('SELECT state FROM print_jobs WHERE id = ?').pluck().get(id) as PrintState | undefined;
    if (!state || !from.includes(state)) return false;
    const sets = ['state = ?', 'updated_at = ?'];
    const vals: unknown[] = [to, nowIso(now)];
    const map: Record<string, string> = { attempts: 'attempts', nextAttemptAt: 'next_attempt_at', ippJobId: 'ipp_job_id', ippPrinterId: 'ipp_printer_id', error: 'error', currentPrinterId: 'current_printer_id' };
    for (const [k, v] of Object.entries(fields)) {
      sets.push(`${map[k]} = ?`);
      vals.push(v);
    }
    if (to === 'completed') {
      sets.push('completed_at = ?');
      vals.push(nowIso(now));
    }
    db.prepare(`UPDATE print_jobs SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id);
    const printer = fields.currentPrinterId ?? (db.prepare('SELECT current_printer_id FROM print_jobs WHERE id = ?').pluck().get(id) as string);
    recordEvent(db, id, to, printer, detail, now);
    return true;
  }).immediate();
}

const ACTIVE: readonly PrintState[] = ['sending', 'processing'];

/** queued → sending: this process will send it; false when another already took it. */
export const claimJob = (db: Db, id: number, now = new Date()) => move(db, id, ['queued'], 'sending', {}, null, now);
/** sending → processing: the printer accepted it as its job `ippJobId`. */
export const markSent = (db: Db, id: number, f: { ippJobId: number; ippPrinterId: string }, detail: string, now = new Date()) => move(db, id, ['sending'], 'processing', f, detail, now);
/** processing → processing: what the printer says it is waiting for (paper, a jam). */
export const noteWaiting = (db: Db, id: number, detail: string, now = new Date()) => move(db, id, ['processing'], 'processing', { error: detail }, detail, now);
/** sending (a folder printer) or processing → completed. */
export const completeJob = (db: Db, id: number, f: { attempts: number }, detail: string, now = new Date()) => move(db, id, ACTIVE, 'completed', { ...f, error: null }, detail, now);
/** An attempt failed: back to queued for a later try on the same printer. */
export const retryJob = (db: Db, id: number, f: { attempts: number; error: string; nextAttemptAt: string }, detail: string, now = new Date()) => move(db, id, ACTIVE, 'queued', { ...f, ippJobId: null, ippPrinterId: null }, detail, now);
/** Failures enough: back to queued on the fallback printer. */
export const failOver = (db: Db, id: number, f: { attempts: number; error: string; currentPrinterId: string }, detail: string, now = new Date()) =>
  move(db, id, ACTIVE, 'queued', { ...f, nextAttemptAt: nowIso(now), ippJobId: null, ippPrinterId: null }, detail, now);
/** Given up, with the reason staff will see. From queued too: a job whose printer or document is gone fails before it is sent. */
export const failJob = (db: Db, id: number, f: { attempts: number; error: string }, now = new Date()) => move(db, id, ['queued', ...ACTIVE], 'failed', { ...f, nextAttemptAt: null }, f.error, now);
/** sending → queued by the queue's new owner: the process that was sending it died. */
export const recoverInterrupted = (db: Db, id: number, detail: string, now = new Date()) => move(db, id, ['sending'], 'queued', { nextAttemptAt: nowIso(now) }, detail, now);

export function getPrintJob(db: Db, id: number): PrintJobRow | null {
  return (db.prepare(`SELECT ${COLS} FROM print_jobs WHERE id = ?`).get(id) as PrintJobRow | undefined) ?? null;
}

export function listPrintJobs(db: Db, opts: { states?: readonly PrintState[]; limit?: number; downtimeId?: number } = {}): PrintJobRow[] {
  const where: string[] = [];
  const vals: unknown[] = [];
  if (opts.states) {
    where.push(`state IN (${opts.states.map(() => '?').join(',')})`);
    vals.push(...opts.states);
  }
  if (opts.downtimeId !== undefined) {
    where.push('downtime_id = ?');
    vals.push(opts.downtimeId);
  }
  return db.prepare(`SELECT ${COLS} FROM print_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...vals, opts.limit ?? 100) as PrintJobRow[];
}

export function printJobEvents(db: Db, id: number): PrintEvent[] {
  return db.prepare('SELECT at, state, printer_id AS printerId, detail FROM print_job_events WHERE print_job_id = ? ORDER BY id').all(id) as PrintEvent[];
}

/**
 * Jobs whose next attempt is due, oldest first. A downtime pack prints in
 * order: a pack job waits while an earlier job of the same pack (same
 * downtime, same printer asked for) is not yet done, so a printer that
 * answers busy, or a job retried later, never lets the next MAR overtake it.
 * A job that failed for good no longer holds the rest back: it is reported.
 */
export function dueJobs(db: Db, now: Date, limit = 20): PrintJobRow[] {
  return db
    .prepare(
      `SELECT ${COLS} FROM print_jobs j WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         AND NOT (j.reason = 'downtime' AND j.downtime_id IS NOT NULL AND EXISTS (
           SELECT 1 FROM print_jobs e WHERE e.reason = 'downtime' AND e.downtime_id = j.downtime_id AND e.printer_id = j.printer_id
             AND e.id < j.id AND e.state NOT IN ('completed', 'failed', 'cancelled')))
       ORDER BY id LIMIT ?`,
    )
    .all(nowIso(now), limit) as PrintJobRow[];
}

export function queueDepth(db: Db): { queued: number; processing: number; failed: number } {
  const rows = db.prepare(`SELECT state, COUNT(*) AS n FROM print_jobs WHERE state IN ('queued','sending','processing','failed') GROUP BY state`).all() as { state: string; n: number }[];
  const get = (s: string) => rows.find((r) => r.state === s)?.n ?? 0;
  return { queued: get('queued'), processing: get('sending') + get('processing'), failed: get('failed') };
}
