import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/db.js';
import type { VerifyProblem } from '../store/verify.js';
import { currentSealKey, mac, sealKeyById } from './seal.js';
import { listArchives, readArchives } from './archive.js';

/**
 * The audit chain's anchor: its last row (id and hash), sealed with the
 * audit key and written outside the database at intervals, and logged to the
 * journal. The seal proves rows were not forged or edited; the anchor proves
 * rows were not removed from the end, and the database was not swapped for
 * an empty or older one, up to the last anchor. Rows after the last anchor
 * are protected by the seal only (docs/security.md: what the audit chain proves).
 */
export interface AuditAnchor {
  lastId: number;
  lastHash: string;
  at: string;
  keyId: string;
  mac: string;
}

const anchorText = (a: Pick<AuditAnchor, 'lastId' | 'lastHash' | 'at'>) => `audit-anchor|${a.lastId}|${a.lastHash}|${a.at}`;

export function readAnchor(file: string): AuditAnchor | null | 'unreadable' {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as AuditAnchor;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'unreadable';
  }
}

/** Write the anchor for the log as it is now (atomically); null when there is nothing new to anchor or no key. */
export function writeAnchor(db: Db, file: string, now = new Date()): AuditAnchor | null {
  const key = currentSealKey(db);
  const last = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
  if (!key || !last) return null;
  const prev = readAnchor(file);
  if (prev && prev !== 'unreadable' && prev.lastId === last.id && prev.lastHash === last.hash) return null;
  const base = { lastId: last.id, lastHash: last.hash, at: now.toISOString() };
  const anchor: AuditAnchor = { ...base, keyId: key.id, mac: mac(key.key, anchorText(base)) };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(anchor)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return anchor;
}

/** What the anchor says about the log in this database (and, for rows since archived, in the archive). */
export function checkAnchor(db: Db, file: string, archiveDir?: string): VerifyProblem[] {
  const a = readAnchor(file);
  const rows = db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get() as number;
  if (a === null) return rows > 0 && currentSealKey(db) ? [{ severity: 'warning', what: `audit log: no anchor at ${file} yet, so removed rows at the end or a replaced database cannot be detected (serve writes one every few minutes)` }] : [];
  if (a === 'unreadable') return [{ severity: 'error', what: `audit log: the anchor ${file} cannot be read (damaged or replaced)` }];
  const key = sealKeyById(db, a.keyId);
  if (!key) return [{ severity: 'warning', what: `audit log: the anchor was sealed with a key this box no longer has (${a.keyId}); it cannot be checked` }];
  if (mac(key, anchorText(a)) !== a.mac) return [{ severity: 'error', what: `audit log: the anchor ${file} was altered (its seal does not match)` }];
  let row = db.prepare('SELECT hash FROM audit_log WHERE id = ?').get(a.lastId) as { hash: string } | undefined;
  if (!row && archiveDir && listArchives(db).some((x) => x.firstId <= a.lastId && a.lastId <= x.lastId)) row = readArchives(db, archiveDir).rows.find((r) => r.id === a.lastId);
  if (!row) return [{ severity: 'error', what: `audit log: row ${a.lastId}, anchored at ${a.at}, is missing: rows were removed from the end or the database was replaced`, ref: `audit:${a.lastId}` }];
  if (row.hash !== a.lastHash) return [{ severity: 'error', what: `audit log: row ${a.lastId} is not the row anchored at ${a.at}: the log was rewritten or the database replaced`, ref: `audit:${a.lastId}` }];
  return [];
}
