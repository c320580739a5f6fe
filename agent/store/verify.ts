import type { Db } from './db.js';
import { BlobIntegrityError, type BlobStore } from './blobs.js';
import fs from 'node:fs';

export interface VerifyProblem {
  severity: 'error' | 'warning';
  what: string;
  /** Ids and hashes only: never patient data. */
  ref?: string;
}

export interface VerifyReport {
  ok: boolean;
  checked: { snapshots: number; artifacts: number; blobs: number; auditRows: number };
  problems: VerifyProblem[];
}

/** Extra checks other rooms contribute (e.g. the audit hash chain) without the store knowing them. */
export type ExtraCheck = (db: Db) => { checked: number; problems: VerifyProblem[] };

/**
 * Check the store: the database's own integrity, every current pointer, every
 * artifact row against its file and hash, and files no row knows about.
 */
export function verifyStore(db: Db, blobs: BlobStore, extra: { audit?: ExtraCheck } = {}, opts: { expectSealed?: boolean } = {}): VerifyReport {
  const problems: VerifyProblem[] = [];
  const integrity = db.pragma('integrity_check', { simple: true });
  if (integrity !== 'ok') problems.push({ severity: 'error', what: `SQLite integrity check: ${String(integrity)}` });
  const fk = db.pragma('foreign_key_check') as unknown[];
  if (fk.length > 0) problems.push({ severity: 'error', what: `${fk.length} row(s) break foreign keys` });

  const currents = db
    .prepare('SELECT c.job_id AS jobId, c.snapshot_id AS snapshotId, s.status FROM current_snapshot c LEFT JOIN snapshots s ON s.id = c.snapshot_id')
    .all() as { jobId: string; snapshotId: number; status: string | null }[];
  for (const c of currents) {
    if (c.status !== 'published') problems.push({ severity: 'error', what: `job ${c.jobId}: current snapshot ${c.snapshotId} is ${c.status ?? 'missing'}, not published`, ref: c.jobId });
  }
  const running = db.prepare(`SELECT COUNT(*) FROM snapshots WHERE status = 'staging'`).pluck().get() as number;
  if (running > 0) problems.push({ severity: 'warning', what: `${running} snapshot(s) still staging (a run in progress, or one that was interrupted and will be marked at the job's next run)` });

  const artifacts = db.prepare('SELECT a.id, a.sha256, a.size, a.snapshot_id AS snapshotId FROM artifacts a').all() as { id: number; sha256: string; size: number; snapshotId: number }[];
  const checkedHashes = new Map<string, string | null>();
  let unsealed = 0;
  for (const a of artifacts) {
    let err = checkedHashes.get(a.sha256);
    if (err === undefined) {
      err = null;
      const file = blobs.pathOf(a.sha256);
      if (!fs.existsSync(file)) err = 'file is missing';
      else {
        try {
          const content = blobs.get(a.sha256);
          if (content.length !== a.size) err = `size ${content.length} differs from recorded ${a.size}`;
          else if (!blobs.isSealed(a.sha256)) unsealed++;
        } catch (e) {
          err = e instanceof BlobIntegrityError ? 'content does not match its SHA-256, or cannot be decrypted with this data key' : (e as Error).message;
        }
      }
      checkedHashes.set(a.sha256, err);
    }
    if (err) problems.push({ severity: 'error', what: `artifact ${a.id} (snapshot ${a.snapshotId}): ${err}`, ref: a.sha256 });
  }
  if (unsealed > 0 && opts.expectSealed) problems.push({ severity: 'warning', what: `${unsealed} file(s) in blobs/ are not encrypted (written before encryption was on); they go with retention` });
  const known = new Set(db.prepare('SELECT sha256 FROM blobs').pluck().all() as string[]);
  const onDisk = blobs.list();
  const strays = onDisk.filter((n) => !known.has(n));
  if (strays.length > 0) problems.push({ severity: 'warning', what: `${strays.length} file(s) in blobs/ belong to no snapshot (left by an interrupted run; removed by retention)` });

  let auditRows = 0;
  if (extra.audit) {
    const r = extra.audit(db);
    auditRows = r.checked;
    problems.push(...r.problems);
  }
  const snapshots = db.prepare('SELECT COUNT(*) FROM snapshots').pluck().get() as number;
  return {
    ok: !problems.some((p) => p.severity === 'error'),
    checked: { snapshots, artifacts: artifacts.length, blobs: onDisk.length, auditRows },
    problems,
  };
}
