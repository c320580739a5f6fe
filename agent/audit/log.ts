import crypto from 'node:crypto';
import type { Db } from '../store/db.js';
import type { VerifyProblem } from '../store/verify.js';
import { currentSealKey, mac, sealKeyById, sealText } from './seal.js';
import { checkAnchor } from './anchor.js';
import { listArchives, readArchives } from './archive.js';
import { csvCell } from '../model/csv.js';

/**
 * The audit trail: who logged in, viewed, downloaded or printed what, and who
 * changed configuration or declared a downtime. Rows are append-only (the
 * database's triggers refuse UPDATE and DELETE) and chained: each row's hash
 * covers its fields and the previous row's hash, so an edit or a removed row
 * anywhere breaks the chain from there on, and `paperback verify` says where.
 *
 * Subjects are document addresses, user names and ids, never patient names.
 */
export type AuditAction =
  | 'login'
  | 'login-failed'
  | 'logout'
  | 'break-glass'
  | 'session-expired'
  | 'view'
  | 'download'
  | 'print'
  | 'config-change'
  | 'config-refused'
  | 'downtime-declared'
  | 'downtime-ended'
  | 'job-run'
  | 'printer-test'
  | 'user-added'
  | 'user-password'
  | 'user-disabled'
  | 'user-enabled'
  | 'break-glass-code-set'
  | 'audit-export'
  | 'demo-outage'
  | 'census-accepted'
  | 'user-unlocked'
  | 'downtime-admission'
  | 'downtime-entry'
  | 'entries-filed'
  | 'entry-resolved'
  | 'label-print'
  | 'numbers-import'
  | 'numbers-mapped'
  | 'numbers-report'
  /** Audit rows that could not be kept (the disk was full and the held rows overflowed): how many, and when. */
  | 'audit-gap';

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  subject?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: string | null;
  prevHash: string;
  hash: string;
  mac?: string | null;
  keyId?: string | null;
}

const GENESIS = '0'.repeat(64);

function rowHash(r: { id: number; at: string; actor: string; action: string; subject: string | null; detail: string | null; prevHash: string }): string {
  // JSON of a fixed-order array: no field can bleed into the next.
  return crypto.createHash('sha256').update(JSON.stringify([r.id, r.at, r.actor, r.action, r.subject, r.detail, r.prevHash])).digest('hex');
}

/** Append one row. Runs in an IMMEDIATE transaction so two processes cannot fork the chain. */
export function appendAudit(db: Db, e: AuditEntry, now: Date = new Date()): number {
  return db
    .transaction(() => {
      const last = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
      const row = {
        id: (last?.id ?? 0) + 1,
        at: now.toISOString(),
        actor: e.actor.slice(0, 120),
        action: e.action,
        subject: e.subject?.slice(0, 300) ?? null,
        detail: e.detail ? JSON.stringify(e.detail).slice(0, 2000) : null,
        prevHash: last?.hash ?? GENESIS,
      };
      const hash = rowHash(row);
      const seal = currentSealKey(db);
      db.prepare('INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash, mac, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        row.id,
        row.at,
        row.actor,
        row.action,
        row.subject,
        row.detail,
        row.prevHash,
        hash,
        seal ? mac(seal.key, sealText(row.id, hash)) : null,
        seal?.id ?? null,
      );
      return row.id;
    })
    .immediate();
}

const COLS = 'id, at, actor, action, subject, detail, prev_hash AS prevHash, hash';

export function listAudit(db: Db, opts: { since?: string; until?: string; limit?: number; actor?: string } = {}): AuditRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (opts.since) (where.push('at >= ?'), args.push(opts.since));
  if (opts.until) (where.push('at < ?'), args.push(opts.until));
  if (opts.actor) (where.push('actor = ?'), args.push(opts.actor));
  const sql = `SELECT ${COLS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${opts.limit ? 'DESC LIMIT ?' : 'ASC'}`;
  if (opts.limit) args.push(opts.limit);
  const rows = db.prepare(sql).all(...args) as AuditRow[];
  return opts.limit ? rows.reverse() : rows;
}

/**
 * Walk the whole chain: every link (SHA-256 of the row and the one before),
 * every seal (HMAC with a key outside the database: an edited or added row
 * whose chain was recomputed fails here), and, with `anchorFile`, the anchor
 * (rows removed from the end, a replaced database). The first broken link is
 * reported with its row id; later rows are not re-reported.
 */
export interface AuditCheckpoint {
  id: number;
  hash: string;
  /** The first sealed row at or before the checkpoint, if any: later unsealed rows are forged. */
  sealedSince: number | null;
}

export function verifyAuditChain(db: Db, opts: { anchorFile?: string; from?: AuditCheckpoint; archiveDir?: string } = {}): { checked: number; problems: VerifyProblem[]; checkpoint: AuditCheckpoint | null } {
  const problems: VerifyProblem[] = [];
  let prev = GENESIS;
  let expectedId = 1;
  let checked = 0;
  let sealedSince: number | null = null;
  const unknownKeys = new Set<string>();
  const archives = listArchives(db);
  let archived: AuditRow[] = [];
  if (archives.length && opts.archiveDir && !opts.from) {
    // The whole history: the archive files first, then the table, as one chain.
    const read = readArchives(db, opts.archiveDir);
    problems.push(...read.problems);
    archived = read.rows;
  } else if (archives.length && !opts.from) {
    // Without the archive folder, the chain starts where the last archive ended (as recorded).
    const last = archives.at(-1)!;
    prev = last.lastHash;
    expectedId = last.lastId + 1;
  }
  // From a checkpoint (the IT page's last check): the checkpoint row must be unchanged, then only newer rows are walked.
  if (opts.from) {
    const at = db.prepare('SELECT hash FROM audit_log WHERE id = ?').get(opts.from.id) as { hash: string } | undefined;
    if (at?.hash === opts.from.hash) {
      prev = at.hash;
      expectedId = opts.from.id + 1;
      sealedSince = opts.from.sealedSince;
    }
  }
  const start = expectedId;
  const tableRows = db.prepare(`SELECT ${COLS}, mac, key_id AS keyId FROM audit_log WHERE id >= ? ORDER BY id`).iterate(archived.length ? 1 : start) as IterableIterator<AuditRow>;
  const all = function* () {
    yield* archived;
    yield* tableRows;
  };
  for (const r of all()) {
    checked++;
    if (problems.length > 0) continue;
    if (r.id !== expectedId) problems.push({ severity: 'error', what: `audit log: row ${expectedId}${r.id > expectedId + 1 ? `–${r.id - 1}` : ''} is missing (rows were removed)`, ref: `audit:${expectedId}` });
    else if (r.prevHash !== prev) problems.push({ severity: 'error', what: `audit log: row ${r.id} does not follow row ${r.id - 1} (the chain was rewritten)`, ref: `audit:${r.id}` });
    else if (rowHash(r) !== r.hash) problems.push({ severity: 'error', what: `audit log: row ${r.id} was altered after it was written`, ref: `audit:${r.id}` });
    else if (!r.mac && sealedSince !== null) problems.push({ severity: 'error', what: `audit log: row ${r.id} has no seal though the rows from ${sealedSince} have one (added without the key: forged)`, ref: `audit:${r.id}` });
    else if (r.mac) {
      sealedSince ??= r.id;
      const key = sealKeyById(db, r.keyId ?? '');
      if (!key) unknownKeys.add(r.keyId ?? '?');
      else if (mac(key, sealText(r.id, r.hash)) !== r.mac) problems.push({ severity: 'error', what: `audit log: row ${r.id}'s seal does not match (edited, or added without the key)`, ref: `audit:${r.id}` });
    }
    prev = r.hash;
    expectedId = r.id + 1;
  }
  if (unknownKeys.size) problems.push({ severity: 'warning', what: `audit log: some rows were sealed with a key this box no longer has (${[...unknownKeys].join(', ')}); their chain is checked, not their seal` });
  if (opts.anchorFile && !problems.some((p) => p.severity === 'error')) problems.push(...checkAnchor(db, opts.anchorFile, opts.archiveDir));
  const ok = !problems.some((p) => p.severity === 'error');
  const total = start - 1 + checked;
  return { checked: total, problems, checkpoint: ok && total > 0 ? { id: expectedId - 1, hash: prev, sealedSince } : ok ? (opts.from ?? null) : null };
}

/** The audit log as CSV for the privacy officer (RFC 4180, UTF-8 with BOM so Excel reads Vietnamese). */
export function auditCsv(rows: AuditRow[]): string {
  const head = ['id', 'time_utc', 'actor', 'action', 'subject', 'detail', 'hash'];
  const lines = rows.map((r) => [r.id, r.at, r.actor, r.action, r.subject, r.detail, r.hash].map(csvCell).join(','));
  return `\uFEFF${head.join(',')}\r\n${lines.map((l) => `${l}\r\n`).join('')}`;
}
