import { listAudit } from '../audit/log.js';
import type { LoadedConfig } from '../config/load.js';
import { blobRows, type BlobStore } from '../store/blobs.js';
import { nowIso, type Db } from '../store/db.js';
import { getSnapshot, readSnapshotWard } from '../store/snapshots.js';
import type { DowntimeSummaryData } from '../render/downtime-summary.js';

export type DowntimeKind = 'detected' | 'declared' | 'planned';

export interface DowntimeRow {
  id: number;
  kind: DowntimeKind;
  cause: string;
  startedAt: string;
  endedAt: string | null;
  declaredBy: string | null;
  endedBy: string | null;
  windowId: string | null;
  printedAt: string | null;
  summarySha256: string | null;
  summaryPages: number | null;
}

const COLS = `id, kind, cause, started_at AS startedAt, ended_at AS endedAt, declared_by AS declaredBy, ended_by AS endedBy,
  window_id AS windowId, printed_at AS printedAt, summary_sha256 AS summarySha256, summary_pages AS summaryPages`;

export function activeDowntime(db: Db): DowntimeRow | null {
  return (db.prepare(`SELECT ${COLS} FROM downtimes WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1`).get() as DowntimeRow | undefined) ?? null;
}

export function getDowntime(db: Db, id: number): DowntimeRow | null {
  return (db.prepare(`SELECT ${COLS} FROM downtimes WHERE id = ?`).get(id) as DowntimeRow | undefined) ?? null;
}

export function listDowntimes(db: Db, limit = 20): DowntimeRow[] {
  return db.prepare(`SELECT ${COLS} FROM downtimes ORDER BY id DESC LIMIT ?`).all(limit) as DowntimeRow[];
}

export function startDowntime(db: Db, d: { kind: DowntimeKind; cause: string; declaredBy?: string | null; windowId?: string | null }, now: Date): DowntimeRow {
  return db.transaction(() => {
    const existing = activeDowntime(db);
    if (existing) return existing;
    const id = Number(db.prepare('INSERT INTO downtimes (kind, cause, started_at, declared_by, window_id) VALUES (?, ?, ?, ?, ?)').run(d.kind, d.cause, nowIso(now), d.declaredBy ?? null, d.windowId ?? null).lastInsertRowid);
    db.prepare('INSERT INTO outage_events (at, scope, from_state, to_state, cause) VALUES (?, ?, ?, ?, ?)').run(nowIso(now), 'downtime', 'normal', 'downtime', `${d.kind}: ${d.cause}`);
    return getDowntime(db, id)!;
  }).immediate();
}

export function endDowntime(db: Db, id: number, endedBy: string | null, cause: string, now: Date): void {
  db.transaction(() => {
    db.prepare('UPDATE downtimes SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL').run(nowIso(now), endedBy, id);
    db.prepare('INSERT INTO outage_events (at, scope, from_state, to_state, cause) VALUES (?, ?, ?, ?, ?)').run(nowIso(now), 'downtime', 'downtime', 'normal', cause);
  }).immediate();
}

/** Declarations by hand (CLI, admin page); the running agent acts on them at its next tick. */
export function declareDowntime(db: Db, by: string, reason: string, now: Date): number {
  const open = db.prepare('SELECT id FROM declarations WHERE ended_at IS NULL').pluck().get() as number | undefined;
  if (open) return open;
  return Number(db.prepare('INSERT INTO declarations (declared_at, declared_by, reason) VALUES (?, ?, ?)').run(nowIso(now), by, reason).lastInsertRowid);
}

export function endDeclaration(db: Db, by: string, now: Date): boolean {
  return db.prepare('UPDATE declarations SET ended_at = ?, ended_by = ? WHERE ended_at IS NULL').run(nowIso(now), by).changes > 0;
}

export function openDeclaration(db: Db): { id: number; declaredAt: string; declaredBy: string; reason: string } | null {
  return (db.prepare('SELECT id, declared_at AS declaredAt, declared_by AS declaredBy, reason FROM declarations WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1').get() as never) ?? null;
}

export function lastEndedDeclaration(db: Db): { endedBy: string | null } | null {
  return (db.prepare('SELECT ended_by AS endedBy FROM declarations WHERE ended_at IS NOT NULL ORDER BY id DESC LIMIT 1').get() as never) ?? null;
}

/** Gather what the summary shows: snapshots that were current at the start, prints during the downtime. */
export function summaryData(db: Db, blobs: BlobStore, config: LoadedConfig, dt: DowntimeRow): DowntimeSummaryData {
  const snapshots = [...config.jobs.values()].map((job) => {
    // The snapshot current when the downtime began: the newest published before its start.
    const id = db.prepare(`SELECT id FROM snapshots WHERE job_id = ? AND status = 'published' AND published_at <= ? ORDER BY id DESC LIMIT 1`).pluck().get(job.id, dt.startedAt) as number | undefined;
    const snap = id ? getSnapshot(db, id) : null;
    const ward = snap ? readSnapshotWard(db, blobs, snap.id) : null;
    return { jobId: job.id, title: job.title, snapshotId: snap?.id ?? null, asOf: snap?.asOf ?? null, ward };
  });
  const prints = db
    .prepare(`SELECT created_at AS at, address, current_printer_id AS printerId, requested_by AS requestedBy, copies, state, error, reason FROM print_jobs
              WHERE downtime_id = ? OR (created_at >= ? AND created_at <= ?) ORDER BY id`)
    .all(dt.id, dt.startedAt, dt.endedAt ?? nowIso()) as DowntimeSummaryData['prints'];
  // Who signed in with the break-glass code while the HIS was down: the summary names every such session.
  const breakGlass = listAudit(db, { since: dt.startedAt, until: dt.endedAt ?? nowIso() })
    .filter((r) => r.action === 'break-glass')
    .map((r) => ({ at: r.at, actor: r.actor }));
  // What nurses recorded on the box during it (downtime entries, without what they say) and where each stands.
  const entries = db.prepare('SELECT kind, state, COUNT(*) AS n FROM downtime_entries WHERE downtime_id = ? GROUP BY kind, state').all(dt.id) as { kind: string; state: string; n: number }[];
  const admissions = db.prepare('SELECT COUNT(*) FROM downtime_numbers WHERE issued_at >= ? AND issued_at <= ?').pluck().get(dt.startedAt, dt.endedAt ?? nowIso()) as number;
  return { id: dt.id, kind: dt.kind, cause: dt.cause, startedAt: dt.startedAt, endedAt: dt.endedAt ?? nowIso(), declaredBy: dt.declaredBy, endedBy: dt.endedBy, snapshots, prints, breakGlass, entries, admissions };
}

export function saveSummary(db: Db, blobs: BlobStore, downtimeId: number, pdf: Buffer, pages: number, now: Date): string {
  const { sha256, size } = blobs.put(pdf);
  db.transaction(() => {
    blobRows(db, now)(sha256, size);
    db.prepare('UPDATE downtimes SET summary_sha256 = ?, summary_pages = ? WHERE id = ?').run(sha256, pages, downtimeId);
  })();
  return sha256;
}
