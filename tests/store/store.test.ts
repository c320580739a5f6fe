import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../agent/store/migrations.js';
import { openDb, schemaVersion } from '../../agent/store/db.js';
import { BlobIntegrityError, openBlobStore } from '../../agent/store/blobs.js';
import { acquireJobLock } from '../../agent/store/locks.js';
import { applyRetention } from '../../agent/store/retention.js';
import { addArtifact, beginRun, createStagingSnapshot, currentSnapshot, failSnapshot, finishRun, listArtifacts, listSnapshots, publishSnapshot } from '../../agent/store/snapshots.js';
import { verifyStore } from '../../agent/store/verify.js';
import { claimJob, completeJob, enqueuePrint } from '../../agent/print/queue.js';
import { tmpDir } from '../support/fixtures.js';

const T0 = new Date('2026-11-01T00:00:00Z');
const at = (h: number) => new Date(T0.getTime() + h * 3_600_000);

/** Publish a snapshot with one document whose content is `text`. */
function snapshot(db: ReturnType<typeof openDb>, blobs: ReturnType<typeof openBlobStore>, jobId: string, text: string, when: Date, publish = true) {
  const runId = beginRun(db, jobId, 'manual', 1, when);
  const id = createStagingSnapshot(db, { jobId, runId, sourceId: 'his', now: when });
  addArtifact(db, blobs, id, { address: 'census', kind: 'document', mediaType: 'application/pdf', title: 'Census' }, Buffer.from(text), when);
  if (publish) {
    publishSnapshot(db, id, { asOf: when.toISOString(), sourceSystem: 'test', counts: { patients: 1 }, warnings: [], now: when });
    finishRun(db, runId, { status: 'succeeded', snapshotId: id, now: when });
  }
  return id;
}

describe('store', () => {
  it('a shard folder removed under a running store is made again by the next write there', async () => {
    const blobs = openBlobStore(tmpDir(), null);
    const first = blobs.put(Buffer.from('census at 10:00'));
    fs.rmSync(path.dirname(blobs.pathOf(first.sha256)), { recursive: true });
    // Same content, same shard: written again, since its file went with the folder.
    expect(blobs.put(Buffer.from('census at 10:00')).sha256).toBe(first.sha256);
    expect(blobs.get(first.sha256).toString()).toBe('census at 10:00');
    fs.rmSync(path.dirname(blobs.pathOf(first.sha256)), { recursive: true });
    expect((await blobs.putAsync(Buffer.from('census at 10:00'))).sha256).toBe(first.sha256);
    expect(blobs.get(first.sha256).toString()).toBe('census at 10:00');
  });

  it('migrates an existing version-1 database without losing its rows', () => {
    const dir = tmpDir();
    const v1 = openDb(dir, { migrations: MIGRATIONS.slice(0, 1) });
    expect(schemaVersion(v1)).toBe(1);
    const blobs = openBlobStore(dir, null);
    // Rows as version 1 wrote them: plain SQL against the version-1 tables.
    const { sha256, size } = blobs.put(Buffer.from('old census'));
    const t = at(0).toISOString();
    v1.prepare("INSERT INTO job_runs (id, job_id, trigger, started_at, ended_at, status, pid) VALUES (1, 'ward-1', 'manual', ?, ?, 'succeeded', 1)").run(t, t);
    v1.prepare("INSERT INTO snapshots (id, job_id, run_id, status, as_of, source_id, created_at, published_at) VALUES (7, 'ward-1', 1, 'published', ?, 'his', ?, ?)").run(t, t, t);
    v1.prepare('INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?)').run(sha256, size, t);
    v1.prepare("INSERT INTO artifacts (snapshot_id, address, kind, media_type, title, pages, sha256, size) VALUES (7, 'census', 'document', 'application/pdf', 'Census', 1, ?, ?)").run(sha256, size);
    v1.prepare("INSERT INTO current_snapshot (job_id, snapshot_id, updated_at) VALUES ('ward-1', 7, ?)").run(t);
    v1.close();
    const db = openDb(dir);
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(currentSnapshot(db, 'ward-1')!.id).toBe(7);
    // Columns added later read as unknown on old rows, never as made-up values.
    expect(listArtifacts(db, 7, 'document')).toMatchObject([{ address: 'census', sha256, renderKey: null, asOf: null }]);
    expect(blobs.get(sha256).toString()).toBe('old census');
    expect(db.prepare('SELECT COUNT(*) FROM print_jobs').pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database newer than this program', () => {
    const dir = tmpDir();
    openDb(dir).close();
    const raw = new Database(path.join(dir, 'paperback.sqlite'));
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openDb(dir)).toThrow(/schema version 99, newer than this Paperback knows/);
  });

  it('publishes atomically: a staging or failed snapshot never becomes current', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const blobs = openBlobStore(dir, null);
    const good = snapshot(db, blobs, 'ward-1', 'good census', at(0));
    const staging = snapshot(db, blobs, 'ward-1', 'half-written census', at(1), false);
    expect(currentSnapshot(db, 'ward-1')!.id).toBe(good);
    failSnapshot(db, staging);
    expect(() => publishSnapshot(db, staging, { asOf: at(1).toISOString(), sourceSystem: 't', counts: {}, warnings: [], now: at(1) })).toThrow(/only a staging snapshot/);
    expect(currentSnapshot(db, 'ward-1')!.id).toBe(good);
    const [art] = listArtifacts(db, good);
    expect(blobs.get(art!.sha256).toString()).toBe('good census');
  });

  it('checks content on read and in verify: a changed file is reported, never served', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const blobs = openBlobStore(dir, null);
    const id = snapshot(db, blobs, 'ward-1', 'census v1', at(0));
    const [art] = listArtifacts(db, id);
    expect(verifyStore(db, blobs).ok).toBe(true);
    fs.chmodSync(blobs.pathOf(art!.sha256), 0o600);
    fs.writeFileSync(blobs.pathOf(art!.sha256), 'census v2!');
    expect(() => blobs.get(art!.sha256)).toThrow(BlobIntegrityError);
    const report = verifyStore(db, blobs);
    expect(report.ok).toBe(false);
    expect(report.problems[0]!.what).toMatch(/size 10 differs|does not match/);
    fs.rmSync(blobs.pathOf(art!.sha256));
    expect(verifyStore(db, blobs).problems.some((p) => /file is missing/.test(p.what))).toBe(true);
  });

  it('retention keeps the last N, drops older than T, never the current one, and removes files with rows', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const blobs = openBlobStore(dir, null);
    const ids = [0, 1, 2, 3, 4].map((h) => snapshot(db, blobs, 'ward-1', `census ${h}`, at(h)));
    const other = snapshot(db, blobs, 'ward-2', 'other ward', at(0));
    const r = applyRetention(db, blobs, 'ward-1', { keepLast: 3, maxAgeDays: 30 }, at(5));
    expect(r.snapshotsDeleted).toBe(2);
    expect(listSnapshots(db, 'ward-1').map((s) => s.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(blobs.list()).toHaveLength(4); // three of ward-1 + one of ward-2
    // Age: everything older than 1 day goes, except the current snapshot.
    const r2 = applyRetention(db, blobs, 'ward-1', { keepLast: 10, maxAgeDays: 1 }, at(24 * 10));
    expect(r2.snapshotsDeleted).toBe(2);
    expect(listSnapshots(db, 'ward-1').map((s) => s.id)).toEqual([ids[4]]);
    expect(currentSnapshot(db, 'ward-1')!.id).toBe(ids[4]);
    expect(currentSnapshot(db, 'ward-2')!.id).toBe(other);
    expect(verifyStore(db, blobs).ok).toBe(true);
    expect(verifyStore(db, blobs).problems).toEqual([]);
  });

  it('retention keeps a blob shared with a newer snapshot (same content, one file)', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const blobs = openBlobStore(dir, null);
    snapshot(db, blobs, 'ward-1', 'unchanged', at(0));
    snapshot(db, blobs, 'ward-1', 'unchanged', at(1));
    expect(blobs.list()).toHaveLength(1);
    applyRetention(db, blobs, 'ward-1', { keepLast: 1, maxAgeDays: 30 }, at(2));
    expect(blobs.list()).toHaveLength(1);
    expect(verifyStore(db, blobs).ok).toBe(true);
  });

  it('retention removes files a crashed run left behind once they are 10 minutes old, looking for them at most hourly', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const blobs = openBlobStore(dir, null);
    snapshot(db, blobs, 'ward-1', 'census', at(0));
    // Files written by runs that died before recording them: one from half an hour ago, one just now.
    const old = blobs.put(Buffer.from('left by a run killed 30 minutes ago')).sha256;
    const young = blobs.put(Buffer.from('being written by a run right now')).sha256;
    const age = (sha: string, minutes: number) => fs.utimesSync(blobs.pathOf(sha), new Date(Date.now() - minutes * 60_000), new Date(Date.now() - minutes * 60_000));
    age(old, 30);
    applyRetention(db, blobs, 'ward-1', { keepLast: 3, maxAgeDays: 30 }, at(1));
    expect(blobs.has(old)).toBe(false);
    expect(blobs.has(young)).toBe(true);
    // Older now, but the store was looked through less than an hour ago.
    age(young, 30);
    applyRetention(db, blobs, 'ward-1', { keepLast: 3, maxAgeDays: 30 }, at(1.5));
    expect(blobs.has(young)).toBe(true);
    applyRetention(db, blobs, 'ward-1', { keepLast: 3, maxAgeDays: 30 }, at(2.1));
    expect(blobs.has(young)).toBe(false);
    expect(verifyStore(db, blobs).problems).toEqual([]);
  });

  it('retention looks only at the files its run freed; one still being printed waits for the next look through the store', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const blobs = openBlobStore(dir, null);
    const keepOne = { keepLast: 1, maxAgeDays: 30 };
    const shaOf = (id: number) => listArtifacts(db, id)[0]!.sha256;
    const printed = shaOf(snapshot(db, blobs, 'ward-1', 'census 0', at(0)));
    applyRetention(db, blobs, 'ward-1', keepOne, at(0)); // the store's first look through: nothing to drop
    const job = enqueuePrint(db, { artifactId: null, sha256: printed, address: 'census', jobName: 'census', printerId: 'ward-1-printer', copies: 1, requestedBy: 'nurse' }, at(0));
    const second = shaOf(snapshot(db, blobs, 'ward-1', 'census 1', at(0.1)));
    // The snapshot goes, its file stays while the print job needs it.
    expect(applyRetention(db, blobs, 'ward-1', keepOne, at(0.1))).toEqual({ snapshotsDeleted: 1, blobsDeleted: 0 });
    expect(blobs.has(printed)).toBe(true);
    // The job ends. The next run frees only its own files, so the printed one stays until the hourly look.
    claimJob(db, job, at(0.2));
    completeJob(db, job, { attempts: 1 }, 'printed', at(0.2));
    snapshot(db, blobs, 'ward-1', 'census 2', at(0.3));
    expect(applyRetention(db, blobs, 'ward-1', keepOne, at(0.3))).toEqual({ snapshotsDeleted: 1, blobsDeleted: 1 });
    expect(blobs.has(second)).toBe(false);
    expect(blobs.has(printed)).toBe(true);
    expect(applyRetention(db, blobs, 'ward-1', keepOne, at(1.1))).toEqual({ snapshotsDeleted: 0, blobsDeleted: 1 });
    expect(blobs.has(printed)).toBe(false);
    expect(verifyStore(db, blobs).problems).toEqual([]);
  });

  it('a job lock excludes a second holder until released, and is taken over from a dead process', () => {
    const dir = tmpDir();
    const db = openDb(dir);
    const a = acquireJobLock(db, 'ward-1', 60_000);
    expect('heldBy' in a).toBe(false);
    const b = acquireJobLock(db, 'ward-1', 60_000);
    expect('heldBy' in b && b.heldBy.pid).toBe(process.pid);
    if (!('heldBy' in a)) a.release();
    const c = acquireJobLock(db, 'ward-1', 60_000);
    expect('heldBy' in c).toBe(false);
    // A holder whose process no longer exists (SIGKILL) does not block.
    db.prepare('UPDATE job_locks SET pid = 999999 WHERE job_id = ?').run('ward-1');
    const d = acquireJobLock(db, 'ward-1', 60_000);
    expect('heldBy' in d).toBe(false);
  });
});
