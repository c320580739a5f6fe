import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { VerifyProblem } from '../store/verify.js';
import { listAudit, type AuditRow } from './log.js';

/**
 * The audit log is archived, never deleted: rows older than the box keeps in
 * SQLite are written, whole and sealed as they were, to a file of JSON lines
 * in the archive folder; the file's hash and the segment's last chain hash are
 * recorded, and only then do the rows leave the table (in one transaction,
 * the append-only triggers lifted for that statement alone). The next row in
 * the table still names the archived last row as its predecessor, so
 * `audit verify` walks the archive files and the table as one chain.
 */
export interface AuditArchive {
  firstId: number;
  lastId: number;
  lastHash: string;
  file: string;
  sha256: string;
  archivedAt: string;
}

const COLS = 'id, at, actor, action, subject, detail, prev_hash AS prevHash, hash, mac, key_id AS keyId';

export function listArchives(db: Db): AuditArchive[] {
  return db.prepare('SELECT first_id AS firstId, last_id AS lastId, last_hash AS lastHash, file, sha256, archived_at AS archivedAt FROM audit_archives ORDER BY first_id').all() as AuditArchive[];
}

/** Move rows written before `before` into a new archive file. Null when there is nothing old enough. */
export function archiveAudit(db: Db, dir: string, before: Date, now = new Date()): AuditArchive | null {
  const rows = db.prepare(`SELECT ${COLS} FROM audit_log WHERE at < ? ORDER BY id`).all(nowIso(before)) as AuditRow[];
  // Only a run from the start of the table: a row is never archived ahead of an older one still in it.
  const firstInTable = db.prepare('SELECT MIN(id) FROM audit_log').pluck().get() as number | null;
  let n = 0;
  while (n < rows.length && rows[n]!.id === (firstInTable ?? 0) + n) n++;
  const segment = rows.slice(0, n);
  if (segment.length === 0) return null;
  const first = segment[0]!;
  const last = segment.at(-1)!;
  const file = `audit-${String(first.id).padStart(9, '0')}-${String(last.id).padStart(9, '0')}.jsonl`;
  const body = Buffer.from(segment.map((r) => JSON.stringify(r)).join('\n') + '\n');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${file}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, file));
  const sha256 = crypto.createHash('sha256').update(body).digest('hex');
  const archive: AuditArchive = { firstId: first.id, lastId: last.id, lastHash: last.hash, file, sha256, archivedAt: nowIso(now) };
  db.transaction(() => {
    db.prepare('INSERT INTO audit_archives (first_id, last_id, last_hash, file, sha256, archived_at) VALUES (?, ?, ?, ?, ?, ?)').run(archive.firstId, archive.lastId, archive.lastHash, file, sha256, archive.archivedAt);
    db.exec('DROP TRIGGER audit_log_no_delete');
    db.prepare('DELETE FROM audit_log WHERE id <= ?').run(last.id);
    db.exec(`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`);
  }).immediate();
  return archive;
}

/** Every archived row, in order, read back from the files (each checked against its recorded hash first). */
export function readArchives(db: Db, dir: string): { rows: AuditRow[]; problems: VerifyProblem[] } {
  const rows: AuditRow[] = [];
  const problems: VerifyProblem[] = [];
  for (const a of listArchives(db)) {
    const f = path.join(dir, a.file);
    let body: Buffer;
    try {
      body = fs.readFileSync(f);
    } catch {
      problems.push({ severity: 'error', what: `audit log: the archive of rows ${a.firstId}–${a.lastId} (${f}) is missing` });
      continue;
    }
    if (crypto.createHash('sha256').update(body).digest('hex') !== a.sha256) {
      problems.push({ severity: 'error', what: `audit log: the archive of rows ${a.firstId}–${a.lastId} (${a.file}) was changed after it was written` });
      continue;
    }
    for (const line of body.toString('utf8').split('\n')) if (line) rows.push(JSON.parse(line) as AuditRow);
  }
  return { rows, problems };
}

/** Rows for an export: the archived ones in the range, then the table's (the privacy officer's CSV covers the whole history). */
export function auditRowsWithArchives(db: Db, dir: string, opts: { since?: string; until?: string }): AuditRow[] {
  const inRange = (r: AuditRow) => (!opts.since || r.at >= opts.since) && (!opts.until || r.at < opts.until);
  const firstInTable = db.prepare('SELECT MIN(at) FROM audit_log').pluck().get() as string | null;
  const needArchive = listArchives(db).length > 0 && (!opts.since || !firstInTable || opts.since < firstInTable);
  const archived = needArchive ? readArchives(db, dir).rows.filter(inRange) : [];
  return [...archived, ...listAudit(db, opts)];
}
