import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { JobBusyError, runJob } from '../../agent/schedule/run.js';
import { runEvidence } from '../../agent/outage/monitor.js';
import { runWithRetry, boxOffsetMs } from '../../agent/schedule/scheduler.js';
import { acquireJobLock } from '../../agent/store/locks.js';
import { lastRun, currentSnapshot, getArtifact, listRuns } from '../../agent/store/snapshots.js';
import { verifyStore } from '../../agent/store/verify.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { inThreadRenderer, type Renderer } from '../../agent/render/renderer.js';
import { jobYaml, openTestAgent, runCli, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';

let his: { server: FhirTestServer; hospital: SyntheticHospital };
beforeAll(async () => {
  his = await startHis({ patients: 10 });
});
afterAll(async () => {
  await his.server.close();
});

const agentFor = (extra = '') => openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.server.url, jobs: { 'ward-1': jobYaml('ward-1', extra) } }));

describe('a snapshot run', () => {
  it('pulls, renders, publishes and records the run', async () => {
    const a = agentFor();
    const o = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    expect(o.pull).toBe('succeeded');
    const cur = currentSnapshot(a.db, 'ward-1')!;
    expect(cur.id).toBe(o.snapshotId);
    expect(cur.counts.patients).toBe(10);
    expect(cur.counts.documents).toBe(11); // census + 10 MARs
    const data = JSON.parse(a.blobs.get(getArtifact(a.db, cur.id, 'data/ward')!.sha256).toString()) as WardSnapshot;
    expect(data.patients.map((p) => p.mrn).sort()).toEqual(his.hospital.wards[0]!.patients.map((p) => p.mrn).sort());
    const [run] = listRuns(a.db, 'ward-1');
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual', snapshotId: cur.id });
    expect(run!.durationMs).toBeGreaterThanOrEqual(0);
    expect(verifyStore(a.db, a.blobs).ok).toBe(true);
  });

  it('a failed pull keeps the last good snapshot current and records the error', async () => {
    const a = agentFor();
    const first = await runJob(a, 'ward-1', { trigger: 'manual' });
    his.server.fault = () => ({ kind: 'status', status: 503 });
    try {
      const o = await runJob(a, 'ward-1', { trigger: 'schedule' });
      expect(o.status).toBe('failed');
      expect(o.error).toMatch(/HTTP 503/);
      // Evidence against the HIS for the outage monitor.
      expect(o.pull).toBe('failed');
      expect(runEvidence(o)).toEqual({ ok: false, detail: o.error });
    } finally {
      his.server.fault = null;
    }
    expect(currentSnapshot(a.db, 'ward-1')!.id).toBe(first.snapshotId);
    expect(listRuns(a.db, 'ward-1')[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/503/) });
    expect(verifyStore(a.db, a.blobs).ok).toBe(true);
  });

  it('never runs the same job twice at once, in this process or another', async () => {
    const a = agentFor();
    const first = runJob(a, 'ward-1', { trigger: 'manual' });
    await expect(runJob(a, 'ward-1', { trigger: 'manual' })).rejects.toBeInstanceOf(JobBusyError);
    expect((await first).status).toBe('succeeded');
    // Another process (`paperback run`) while this one holds the lock: refused with exit code 4.
    const lock = acquireJobLock(a.db, 'ward-1', 60_000);
    expect('heldBy' in lock).toBe(false);
    const res = await runCli(['--config', a.config.dir, 'run', 'ward-1']);
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/already running \(process \d+/);
    if (!('heldBy' in lock)) lock.release();
  });

  it('retries a failed run with backoff and succeeds when the HIS recovers', async () => {
    const agent = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('attempts: 1, backoffSeconds: 1', 'attempts: 3, backoffSeconds: 30') } }));
    // Each run asks twice (the HTTP layer retries once): four failures sink two runs.
    let failuresLeft = 4;
    his.server.fault = ({ path }) => (path.startsWith('/Location?_id') && failuresLeft-- > 0 ? { kind: 'status', status: 500 } : undefined);
    const waits: number[] = [];
    try {
      const o = await runWithRetry({ ...agent, sleep: async (ms) => void waits.push(ms) }, 'ward-1', 'schedule');
      expect(o.status).toBe('succeeded');
    } finally {
      his.server.fault = null;
    }
    expect(listRuns(agent.db, 'ward-1').map((r) => [r.trigger, r.attempt, r.status])).toEqual([
      ['retry', 3, 'succeeded'],
      ['retry', 2, 'failed'],
      ['schedule', 1, 'failed'],
    ]);
    expect(waits).toEqual([30_000, 60_000]);
  });

  it('gives up after the last attempt and reports the error', async () => {
    const agent = agentFor();
    his.server.fault = () => ({ kind: 'status', status: 500 });
    const waits: number[] = [];
    try {
      const o = await runWithRetry({ ...agent, sleep: async (ms) => void waits.push(ms) }, 'ward-1', 'schedule');
      expect(o.status).toBe('failed');
      expect(o.error).toMatch(/HTTP 500/);
    } finally {
      his.server.fault = null;
    }
    expect(waits).toEqual([1000]);
    expect(listRuns(agent.db, 'ward-1')).toHaveLength(2);
    expect(currentSnapshot(agent.db, 'ward-1')).toBeNull();
  });

  it('a render that fails partway keeps the last good snapshot and removes the files it had already written', async () => {
    // Nothing reused: every document is drawn, and written, anew.
    const a = agentFor('reuseWithinMinutes: 0\n');
    const first = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(first.status, first.error ?? '').toBe('succeeded');
    const filesBefore = a.blobs.list().length;
    // Files are stored as documents come out of rendering, so some are on disk when the 6th fails.
    let n = 0;
    const failing: Renderer = {
      ...inThreadRenderer,
      document: (req) => (++n === 6 ? Promise.reject(new Error('render thread failed: out of paper in the render thread')) : inThreadRenderer.document(req)),
    };
    const written = new Set<string>();
    const blobs = { ...a.blobs, putAsync: (c: Buffer) => a.blobs.putAsync(c).then((f) => (written.add(f.sha256), f)) };
    // Another minute: a new as-of on every page, so the early documents are new files.
    const o = await runJob({ ...a, blobs, renderer: failing, now: () => new Date(Date.now() + 60_000) }, 'ward-1', { trigger: 'manual' });
    expect(o.status).toBe('failed');
    expect(o.error).toMatch(/out of paper/);
    // The HIS answered: a local fault is no evidence that it is down.
    expect(o.pull).toBe('succeeded');
    expect(runEvidence(o)).toMatchObject({ ok: true });
    expect(currentSnapshot(a.db, 'ward-1')!.id).toBe(first.snapshotId);
    expect(written.size).toBeGreaterThan(1);
    const after = verifyStore(a.db, a.blobs);
    expect(after.ok).toBe(true);
    expect(after.problems).toEqual([]);
    expect(a.blobs.list().length).toBe(filesBefore);
    expect(currentSnapshot(a.db, 'ward-1')!.counts.documents).toBe(11);
  });

  it('stops a run that exceeds its time limit', async () => {
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('runTimeoutSeconds: 60', 'runTimeoutSeconds: 1') } }));
    his.server.fault = () => ({ kind: 'delay', ms: 2500 });
    try {
      const o = await runJob(a, 'ward-1', { trigger: 'manual' });
      expect(o.status).toBe('failed');
      expect(o.error).toMatch(/exceeded its time limit of 1 s/);
      expect(o.pull).toBe('failed');
    } finally {
      his.server.fault = null;
    }
  });

  it('a retention that fails after the publish leaves the run succeeded and the new snapshot current', async () => {
    const a = agentFor('reuseWithinMinutes: 0\n');
    for (let i = 0; i < 3; i++) expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    // The store refuses to delete files (a read-only remount, a failing disk) when the fourth run tidies up.
    const blobs = new Proxy(a.blobs, { get: (t, k) => (k === 'remove' ? () => { throw new Error('EROFS: read-only file system'); } : Reflect.get(t, k)) });
    const o = await runJob({ ...a, blobs }, 'ward-1', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    expect(currentSnapshot(a.db, 'ward-1')!.id).toBe(o.snapshotId);
    expect(lastRun(a.db, 'ward-1')!.status).toBe('succeeded');
    expect(a.lines.some((l) => /retention failed after the publish/.test(l))).toBe(true);
  });

  it('flags a census that suddenly shrinks instead of silently accepting it', async () => {
    const a = agentFor();
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    // The server now answers the census with only 6 of the 10 encounters: past the source's
    // warning (30 %), short of the job's drop guard (50 %, tests/safety/census.test.ts holds that).
    const { repo } = his.server;
    const removed = his.hospital.wards[0]!.patients.slice(6).map((p) => `enc-${p.id}`);
    const saved = [];
    for (const id of removed) {
      saved.push(await repo.readResource('Encounter', id));
      await repo.deleteResource('Encounter', id);
    }
    try {
      const o = await runJob(a, 'ward-1', { trigger: 'manual' });
      expect(o.status).toBe('succeeded');
      expect(o.warnings.join()).toMatch(/census fell from 10 to 6 patients/);
      expect(currentSnapshot(a.db, 'ward-1')!.warnings[0]!.code).toBe('census-shrunk');
    } finally {
      for (const r of saved) await repo.updateResource(r);
    }
  });

  it('spreads boxes over the hour with a stable per-box offset', () => {
    expect(boxOffsetMs('box-a', 'ward-1', 60)).toBe(boxOffsetMs('box-a', 'ward-1', 60));
    const offsets = new Set(Array.from({ length: 20 }, (_, i) => boxOffsetMs(`box-${i}`, 'ward-1', 60)));
    expect(offsets.size).toBeGreaterThan(15);
    for (const o of offsets) expect(o).toBeGreaterThanOrEqual(0), expect(o).toBeLessThan(60_000);
    expect(boxOffsetMs('box-a', 'ward-1', 0)).toBe(0);
  });

  it('writes no patient data to the log at any level', async () => {
    const a = agentFor();
    a.log.level = 'trace';
    await runJob(a, 'ward-1', { trigger: 'manual' });
    his.server.fault = () => ({ kind: 'status', status: 500 });
    try {
      await runJob(a, 'ward-1', { trigger: 'manual' });
    } finally {
      his.server.fault = null;
    }
    const text = a.lines.join('\n');
    expect(a.lines.length).toBeGreaterThan(2);
    for (const p of his.hospital.wards[0]!.patients) {
      expect(text).not.toContain(p.mrn!);
      expect(text).not.toContain(p.name!);
    }
  });
});
