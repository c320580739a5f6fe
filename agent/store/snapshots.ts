import { nowIso, StoreError, type Db } from './db.js';
import { blobRows, type BlobStore } from './blobs.js';
import type { SnapshotWarning, WardSnapshot } from '../model/ward.js';

/** `entries`: no pull; the HIS's ward of the current snapshot again, with the downtime entries recorded since (outage/entry-overlay.ts). */
export type RunTrigger = 'schedule' | 'manual' | 'retry' | 'pre-window' | 'startup' | 'entries';
/** `held`: the run pulled and rendered, but its census looked wrong and was not published (see holdSnapshot). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'held';

export interface RunRow {
  id: number;
  jobId: string;
  trigger: RunTrigger;
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  status: RunStatus;
  error: string | null;
  durationMs: number | null;
  snapshotId: number | null;
}

export interface SnapshotRow {
  id: number;
  jobId: string;
  runId: number;
  /**
   * staging → published (publishSnapshot), staging → held (holdSnapshot), held → published
   * (acceptHeldSnapshot), held → failed (a later publish or hold supersedes it), staging → failed.
   */
  status: 'staging' | 'published' | 'held' | 'failed';
  asOf: string | null;
  sourceId: string;
  sourceSystem: string | null;
  counts: Record<string, number>;
  warnings: SnapshotWarning[];
  createdAt: string;
  publishedAt: string | null;
}

export interface ArtifactRow {
  id: number;
  snapshotId: number;
  address: string;
  kind: 'document' | 'data';
  mediaType: string;
  title: string;
  patientKey: string | null;
  pages: number | null;
  sha256: string;
  size: number;
  renderKey: string | null;
  asOf: string | null;
}

const RUN_COLS = `id, job_id AS jobId, trigger, attempt, started_at AS startedAt, ended_at AS endedAt, status, error,
  duration_ms AS durationMs, snapshot_id AS snapshotId`;
const SNAP_COLS = `id, job_id AS jobId, run_id AS runId, status, as_of AS asOf, source_id AS sourceId, source_system AS sourceSystem,
  counts_json, warnings_json, created_at AS createdAt, published_at AS publishedAt`;
const ART_COLS = `id, snapshot_id AS snapshotId, address, kind, media_type AS mediaType, title, patient_key AS patientKey, pages, sha256, size, render_key AS renderKey, as_of AS asOf`;

type RawSnap = Omit<SnapshotRow, 'counts' | 'warnings'> & { counts_json: string; warnings_json: string };
const toSnap = (r: RawSnap | undefined): SnapshotRow | null =>
  r ? { ...r, counts: JSON.parse(r.counts_json), warnings: JSON.parse(r.warnings_json), counts_json: undefined, warnings_json: undefined } as unknown as SnapshotRow : null;

export function beginRun(db: Db, jobId: string, trigger: RunTrigger, attempt: number, now: Date): number {
  return Number(
    db.prepare('INSERT INTO job_runs (job_id, trigger, attempt, started_at, status, pid) VALUES (?, ?, ?, ?, ?, ?)').run(jobId, trigger, attempt, nowIso(now), 'running', process.pid)
      .lastInsertRowid,
  );
}

export function finishRun(db: Db, runId: number, r: { status: Exclude<RunStatus, 'running'>; error?: string | null; snapshotId?: number | null; now: Date }): void {
  const started = db.prepare('SELECT started_at FROM job_runs WHERE id = ?').pluck().get(runId) as string;
  db.prepare('UPDATE job_runs SET status = ?, error = ?, snapshot_id = ?, ended_at = ?, duration_ms = ? WHERE id = ?').run(
    r.status,
    r.error ?? null,
    r.snapshotId ?? null,
    nowIso(r.now),
    r.now.getTime() - new Date(started).getTime(),
    runId,
  );
}

/**
 * Called by the holder of a job's lock: any run of that job still marked
 * running belongs to a process that died (SIGKILL, power cut). Mark it and its
 * staging snapshot as interrupted/failed so history is truthful.
 */
export function markInterrupted(db: Db, jobId: string, exceptRunId: number | null, now: Date): number {
  return db.transaction(() => {
    const runs = db.prepare(`SELECT id FROM job_runs WHERE job_id = ? AND status = 'running' AND id IS NOT ?`).pluck().all(jobId, exceptRunId) as number[];
    for (const id of runs) {
      db.prepare(`UPDATE job_runs SET status = 'interrupted', error = 'the process running this job stopped before it finished', ended_at = ? WHERE id = ?`).run(nowIso(now), id);
      db.prepare(`UPDATE snapshots SET status = 'failed' WHERE run_id = ? AND status = 'staging'`).run(id);
    }
    return runs.length;
  })();
}

export function createStagingSnapshot(db: Db, s: { jobId: string; runId: number; sourceId: string; now: Date }): number {
  return Number(
    db.prepare('INSERT INTO snapshots (job_id, run_id, status, source_id, created_at) VALUES (?, ?, ?, ?, ?)').run(s.jobId, s.runId, 'staging', s.sourceId, nowIso(s.now))
      .lastInsertRowid,
  );
}

export interface NewArtifact {
  address: string;
  kind: 'document' | 'data';
  mediaType: string;
  title: string;
  patientKey?: string | null;
  pages?: number | null;
  /** Hash of what a patient document was made from (incremental snapshots). */
  renderKey?: string | null;
  /** The as-of time printed on this document; older than the snapshot's when it was reused. */
  asOf?: string | null;
}

/** Write the content (synced to disk) and record it in the staging snapshot. */
export function addArtifact(db: Db, blobs: BlobStore, snapshotId: number, a: NewArtifact, content: Buffer, now: Date): ArtifactRow {
  const { sha256, size } = blobs.put(content);
  return addArtifactByHash(db, snapshotId, a, sha256, size, now);
}

/** Many artifacts in one transaction; `each` runs after each row (crash tests pause there). */
export function addArtifactsByHash(db: Db, snapshotId: number, items: { meta: NewArtifact; sha256: string; size: number }[], now: Date, each?: (i: number) => void): void {
  const insert = artifactInserter(db, snapshotId, now);
  db.transaction(() =>
    items.forEach((it, i) => {
      insert(it.meta, it.sha256, it.size);
      each?.(i);
    }),
  )();
}

/** Record an artifact whose content is already in the blob store (reuse of an unchanged document). */
export function addArtifactByHash(db: Db, snapshotId: number, a: NewArtifact, sha256: string, size: number, now: Date): ArtifactRow {
  return artifactInserter(db, snapshotId, now)(a, sha256, size);
}

/** Statements prepared once for a snapshot's artifacts (a ward has ~80: preparing per row was most of the cost). */
function artifactInserter(db: Db, snapshotId: number, now: Date) {
  const status = db.prepare('SELECT status FROM snapshots WHERE id = ?').pluck();
  const blob = blobRows(db, now);
  const artifact = db.prepare('INSERT INTO artifacts (snapshot_id, address, kind, media_type, title, patient_key, pages, sha256, size, render_key, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  return db.transaction((a: NewArtifact, sha256: string, size: number): ArtifactRow => {
    const st = status.get(snapshotId);
    if (st !== 'staging') throw new StoreError('artifacts can only be added to a staging snapshot', { snapshotId, status: st });
    blob(sha256, size);
    const id = Number(artifact.run(snapshotId, a.address, a.kind, a.mediaType, a.title, a.patientKey ?? null, a.pages ?? null, sha256, size, a.renderKey ?? null, a.asOf ?? null).lastInsertRowid);
    return { id, snapshotId, address: a.address, kind: a.kind, mediaType: a.mediaType, title: a.title, patientKey: a.patientKey ?? null, pages: a.pages ?? null, sha256, size, renderKey: a.renderKey ?? null, asOf: a.asOf ?? null };
  });
}

/** The job's current pointer moved to a snapshot (inside the caller's transaction). */
function pointCurrentAt(db: Db, jobId: string, snapshotId: number, now: Date): void {
  db.prepare(`INSERT INTO current_snapshot (job_id, snapshot_id, updated_at) VALUES (?, ?, ?)
    ON CONFLICT(job_id) DO UPDATE SET snapshot_id = excluded.snapshot_id, updated_at = excluded.updated_at`).run(jobId, snapshotId, nowIso(now));
}

/** held → failed for the job's held snapshot, if any: a newer publish or hold supersedes it (inside the caller's transaction). */
function supersedeHeld(db: Db, jobId: string): void {
  db.prepare(`UPDATE snapshots SET status = 'failed' WHERE job_id = ? AND status = 'held'`).run(jobId);
}

/**
 * The publish: in one transaction the staging snapshot becomes published and
 * the job's current pointer moves to it. Every artifact was written and synced
 * before this is called, so a reader never sees a half-written snapshot.
 */
export function publishSnapshot(db: Db, snapshotId: number, p: { asOf: string; sourceSystem: string; counts: Record<string, number>; warnings: SnapshotWarning[]; now: Date }): void {
  db.transaction(() => {
    const row = db.prepare('SELECT job_id AS jobId, status FROM snapshots WHERE id = ?').get(snapshotId) as { jobId: string; status: string } | undefined;
    if (!row || row.status !== 'staging') throw new StoreError('only a staging snapshot can be published', { snapshotId, status: row?.status });
    db.prepare(`UPDATE snapshots SET status = 'published', as_of = ?, source_system = ?, counts_json = ?, warnings_json = ?, published_at = ? WHERE id = ?`).run(
      p.asOf, p.sourceSystem, JSON.stringify(p.counts), JSON.stringify(p.warnings), nowIso(p.now), snapshotId,
    );
    pointCurrentAt(db, row.jobId, snapshotId, p.now);
    // A census the source now confirms supersedes one that was held.
    supersedeHeld(db, row.jobId);
  }).immediate();
}

/**
 * The hold: a complete snapshot whose census looks wrong (a collapse) is kept,
 * whole, beside the current one, which stays current. One transaction:
 * staging → held, and an older held snapshot of the job is superseded.
 */
export function holdSnapshot(db: Db, snapshotId: number, p: { asOf: string; sourceSystem: string; counts: Record<string, number>; warnings: SnapshotWarning[]; now: Date }): void {
  db.transaction(() => {
    const row = db.prepare('SELECT job_id AS jobId, status FROM snapshots WHERE id = ?').get(snapshotId) as { jobId: string; status: string } | undefined;
    if (!row || row.status !== 'staging') throw new StoreError('only a staging snapshot can be held', { snapshotId, status: row?.status });
    supersedeHeld(db, row.jobId);
    db.prepare(`UPDATE snapshots SET status = 'held', as_of = ?, source_system = ?, counts_json = ?, warnings_json = ? WHERE id = ? AND status = 'staging'`).run(
      p.asOf, p.sourceSystem, JSON.stringify(p.counts), JSON.stringify(p.warnings), snapshotId,
    );
  }).immediate();
}

/** The job's held snapshot, if its newest census is waiting for someone to accept it. */
export function heldSnapshot(db: Db, jobId: string): SnapshotRow | null {
  return toSnap(db.prepare(`SELECT ${SNAP_COLS} FROM snapshots WHERE job_id = ? AND status = 'held' ORDER BY id DESC LIMIT 1`).get(jobId) as RawSnap | undefined);
}

/**
 * An admin accepts a held census: held → published, the current pointer moves
 * to it, in one transaction. Refused unless that very snapshot is still held
 * (a newer run may have published or held another meanwhile).
 */
export function acceptHeldSnapshot(db: Db, jobId: string, snapshotId: number, now: Date): SnapshotRow {
  return db.transaction(() => {
    const row = db.prepare('SELECT job_id AS jobId, status FROM snapshots WHERE id = ?').get(snapshotId) as { jobId: string; status: string } | undefined;
    if (!row || row.jobId !== jobId || row.status !== 'held') throw new StoreError('only a held snapshot of this job can be accepted', { jobId, snapshotId, status: row?.status });
    db.prepare(`UPDATE snapshots SET status = 'published', published_at = ? WHERE id = ? AND status = 'held'`).run(nowIso(now), snapshotId);
    pointCurrentAt(db, jobId, snapshotId, now);
    return getSnapshot(db, snapshotId)!;
  }).immediate();
}

export function failSnapshot(db: Db, snapshotId: number): void {
  db.prepare(`UPDATE snapshots SET status = 'failed' WHERE id = ? AND status = 'staging'`).run(snapshotId);
}

export function currentSnapshot(db: Db, jobId: string): SnapshotRow | null {
  return toSnap(db.prepare(`SELECT ${SNAP_COLS} FROM snapshots WHERE id = (SELECT snapshot_id FROM current_snapshot WHERE job_id = ?)`).get(jobId) as RawSnap | undefined);
}

export function getSnapshot(db: Db, id: number): SnapshotRow | null {
  return toSnap(db.prepare(`SELECT ${SNAP_COLS} FROM snapshots WHERE id = ?`).get(id) as RawSnap | undefined);
}

export function listSnapshots(db: Db, jobId: string, limit = 50): SnapshotRow[] {
  return (db.prepare(`SELECT ${SNAP_COLS} FROM snapshots WHERE job_id = ? ORDER BY id DESC LIMIT ?`).all(jobId, limit) as RawSnap[]).map((r) => toSnap(r)!);
}

export function listArtifacts(db: Db, snapshotId: number, kind?: 'document' | 'data'): ArtifactRow[] {
  const sql = `SELECT ${ART_COLS} FROM artifacts WHERE snapshot_id = ?${kind ? ' AND kind = ?' : ''} ORDER BY id`;
  return db.prepare(sql).all(...(kind ? [snapshotId, kind] : [snapshotId])) as ArtifactRow[];
}

export function getArtifact(db: Db, snapshotId: number, address: string): ArtifactRow | null {
  return (db.prepare(`SELECT ${ART_COLS} FROM artifacts WHERE snapshot_id = ? AND address = ?`).get(snapshotId, address) as ArtifactRow | undefined) ?? null;
}

export function lastRun(db: Db, jobId: string): RunRow | null {
  return (db.prepare(`SELECT ${RUN_COLS} FROM job_runs WHERE job_id = ? ORDER BY id DESC LIMIT 1`).get(jobId) as RunRow | undefined) ?? null;
}

export function listRuns(db: Db, jobId: string, limit = 20): RunRow[] {
  return db.prepare(`SELECT ${RUN_COLS} FROM job_runs WHERE job_id = ? ORDER BY id DESC LIMIT ?`).all(jobId, limit) as RunRow[];
}

export function getRun(db: Db, runId: number): RunRow | null {
  return (db.prepare(`SELECT ${RUN_COLS} FROM job_runs WHERE id = ?`).get(runId) as RunRow | undefined) ?? null;
}

/** The ward a snapshot published (its data/ward file), or null when it has none or the file cannot be read. */
export function readSnapshotWard(db: Db, blobs: BlobStore, snapshotId: number): WardSnapshot | null {
  const data = getArtifact(db, snapshotId, 'data/ward');
  if (!data) return null;
  try {
    return JSON.parse(blobs.get(data.sha256).toString('utf8')) as WardSnapshot;
  } catch {
    return null;
  }
}
