import crypto from 'node:crypto';
import { PaperbackError } from '../log/errors.js';
import { ENTRY_MOVES, entryPayload, type EntryKind, type EntryPayload, type EntryState } from '../model/downtime-entry.js';
import { blobRows, type BlobStore } from './blobs.js';
import { nowIso, type Db } from './db.js';

/**
 * Downtime entries, durable (the house's publish model): the entry itself is
 * a sealed blob written first, then its row, in one immediate transaction.
 * Entries are append-only: a correction is a new entry that names the one it
 * corrects and why; the old one stays, and is no longer *effective*. Each has
 * a uid of its own, fixed at record time, which file-back sends as the
 * conditional-create identifier (FHIR ifNoneExist) or the message control id
 * (HL7 MSH-10), so a resend never duplicates.
 */

export class EntryError extends PaperbackError {
  constructor(message: string) {
    super('entry-invalid', message);
  }
}

export interface EntryRow {
  id: number;
  uid: string;
  downtimeId: number;
  jobId: string;
  /** The patient: her MRN (patient key) or, for a downtime admission, her downtime number. */
  patient: string;
  kind: EntryKind;
  occurredAt: string;
  enteredAt: string;
  enteredBy: string;
  recordSha256: string;
  correctsId: number | null;
  correctionReason: string | null;
  state: EntryState;
  attempts: number;
  lastError: string | null;
  filedAt: string | null;
  filedRef: string | null;
}

const COLS = `id, uid, downtime_id AS downtimeId, job_id AS jobId, patient, kind, occurred_at AS occurredAt, entered_at AS enteredAt,
  entered_by AS enteredBy, record_sha256 AS recordSha256, corrects_id AS correctsId, correction_reason AS correctionReason, state,
  attempts, last_error AS lastError, filed_at AS filedAt, filed_ref AS filedRef`;

/** How far a clock may run ahead of ours (a phone's): a time later than this is in the future. */
const FUTURE_SLACK_MS = 2 * 60_000;

export interface NewEntry {
  jobId: string;
  patient: string;
  occurredAt: string;
  payload: unknown;
  /** A correction: the entry it corrects, and why. */
  corrects?: { id: number; reason: string };
}

/**
 * Record an entry during a downtime. Refused, with the reason in words: a
 * payload that fails its checks, a time in the future, a time outside the
 * downtime by more than the margin, a correction of an entry that does not
 * exist, is another patient's, or gives no reason.
 */
export function recordEntry(db: Db, blobs: BlobStore, e: NewEntry, o: { downtime: { id: number; startedAt: string; endedAt: string | null }; by: string; marginMinutes: number; now: Date }): EntryRow {
  const { payload, occurredAt, reason } = checkEntry(e, o);
  const record = { payload, occurredAt, enteredAt: o.now.toISOString(), enteredBy: o.by, patient: e.patient };
  const { sha256, size } = blobs.put(Buffer.from(JSON.stringify(record)));
  const uid = crypto.randomUUID();
  return db
    .transaction(() => {
      if (e.corrects) {
        const old = db.prepare('SELECT job_id AS jobId, patient FROM downtime_entries WHERE id = ?').get(e.corrects.id) as { jobId: string; patient: string } | undefined;
        if (!old) throw new EntryError(`there is no entry ${e.corrects.id} to correct`);
        if (old.jobId !== e.jobId || old.patient !== e.patient) throw new EntryError(`entry ${e.corrects.id} is another patient's`);
      }
      blobRows(db, o.now)(sha256, size);
      const id = Number(
        db
          .prepare(
            `INSERT INTO downtime_entries (uid, downtime_id, job_id, patient, kind, occurred_at, entered_at, entered_by, record_sha256, corrects_id, correction_reason, state, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
          )
          .run(uid, o.downtime.id, e.jobId, e.patient, payload.kind, record.occurredAt, record.enteredAt, o.by, sha256, e.corrects?.id ?? null, reason ?? null, nowIso(o.now)).lastInsertRowid,
      );
      return db.prepare(`SELECT ${COLS} FROM downtime_entries WHERE id = ?`).get(id) as EntryRow;
    })
    .immediate();
}

/**
 * Every rule an entry must pass, without writing anything: recordEntry's
 * checks, and the practice mode's (a drill outside a downtime saves nothing).
 */
export function checkEntry(e: Pick<NewEntry, 'occurredAt' | 'payload' | 'corrects'>, o: { downtime: { startedAt: string; endedAt: string | null }; marginMinutes: number; now: Date }): { payload: EntryPayload; occurredAt: string; reason: string | undefined } {
  const parsed = entryPayload.safeParse(e.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EntryError(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  const at = Date.parse(e.occurredAt);
  if (Number.isNaN(at)) throw new EntryError('when it happened is not a date and time');
  if (at > o.now.getTime() + FUTURE_SLACK_MS) throw new EntryError('when it happened is in the future');
  const margin = o.marginMinutes * 60_000;
  if (at < Date.parse(o.downtime.startedAt) - margin) throw new EntryError(`it happened more than ${o.marginMinutes} min before the downtime began: enter it in the HIS`);
  if (o.downtime.endedAt && at > Date.parse(o.downtime.endedAt) + margin) throw new EntryError(`it happened more than ${o.marginMinutes} min after the downtime ended: enter it in the HIS`);
  const reason = e.corrects?.reason.trim();
  if (e.corrects && !reason) throw new EntryError('a correction needs its reason');
  return { payload: parsed.data, occurredAt: new Date(at).toISOString(), reason };
}

/** An entry with what was recorded, opened from its sealed blob. */
export interface Entry extends EntryRow {
  payload: EntryPayload;
  /** A later entry corrects this one: it is kept, but no longer what stands. */
  correctedBy: number | null;
}

/**
 * A patient's entries (or a ward's, without `patient`), in the order things
 * happened. `only` keeps the rows it accepts, judged after corrections are
 * known from every row, so only their sealed records are opened.
 */
export function listEntries(db: Db, blobs: BlobStore, q: { jobId: string; patient?: string; downtimeId?: number; only?: (row: EntryRow & { correctedBy: number | null }) => boolean }): Entry[] {
  const where = ['job_id = ?'];
  const args: unknown[] = [q.jobId];
  if (q.patient) (where.push('patient = ?'), args.push(q.patient));
  if (q.downtimeId !== undefined) (where.push('downtime_id = ?'), args.push(q.downtimeId));
  const rows = db.prepare(`SELECT ${COLS} FROM downtime_entries WHERE ${where.join(' AND ')} ORDER BY occurred_at, id`).all(...args) as EntryRow[];
  const correctedBy = new Map<number, number>();
  for (const r of rows) if (r.correctsId !== null) correctedBy.set(r.correctsId, r.id);
  return rows
    .map((r) => ({ ...r, correctedBy: correctedBy.get(r.id) ?? null }))
    .filter((r) => !q.only || q.only(r))
    .map((r) => ({ ...r, payload: (JSON.parse(blobs.get(r.recordSha256).toString('utf8')) as { payload: EntryPayload }).payload }));
}

/** What stands: entries no later entry corrects. */
export const effectiveEntries = (entries: Entry[]): Entry[] => entries.filter((e) => e.correctedBy === null);

/**
 * Move an entry along its filing states (model/downtime-entry.ts ENTRY_MOVES),
 * in one immediate transaction, only from the states the move allows: two
 * processes filing back at once, or a resend after a crash, cannot file an
 * entry twice or undo a filing. False when the entry was not in a from-state.
 */
export function moveEntry(db: Db, id: number, move: keyof typeof ENTRY_MOVES, o: { now: Date; ref?: string; error?: string }): boolean {
  const m = ENTRY_MOVES[move]!;
  return db
    .transaction(() => {
      const state = db.prepare('SELECT state FROM downtime_entries WHERE id = ?').pluck().get(id) as EntryState | undefined;
      if (!state || !m.from.includes(state)) return false;
      db.prepare(
        `UPDATE downtime_entries SET state = ?, updated_at = ?,
           attempts = attempts + ?, last_error = COALESCE(?, last_error),
           filed_at = CASE WHEN ? = 'filed' THEN ? ELSE filed_at END, filed_ref = CASE WHEN ? = 'filed' THEN ? ELSE filed_ref END
         WHERE id = ?`,
      ).run(m.to, nowIso(o.now), move === 'file' || move === 'fail' ? 1 : 0, o.error ?? null, m.to, nowIso(o.now), m.to, o.ref ?? null, id);
      return true;
    })
    .immediate();
}

/** How many entries stand in each filing state, for the reconciliation view and the downtime summary. */
export function entryCounts(db: Db, downtimeId?: number): Record<EntryState, number> {
  const rows = db.prepare(`SELECT state, COUNT(*) AS n FROM downtime_entries ${downtimeId !== undefined ? 'WHERE downtime_id = ?' : ''} GROUP BY state`).all(...(downtimeId !== undefined ? [downtimeId] : [])) as { state: EntryState; n: number }[];
  const out: Record<EntryState, number> = { pending: 0, filed: 0, failed: 0, rejected: 0, 'needs-person': 0 };
  for (const r of rows) out[r.state] = r.n;
  return out;
}

/** Whether anything was ever recorded for a job (a link on the ward page), without opening a sealed file. */
export const jobHasEntries = (db: Db, jobId: string): boolean => db.prepare('SELECT 1 FROM downtime_entries WHERE job_id = ? LIMIT 1').get(jobId) !== undefined;
