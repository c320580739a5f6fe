import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inThreadRenderer } from '../../agent/render/renderer.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { startScheduler } from '../../agent/schedule/scheduler.js';
import { runEvidence } from '../../agent/outage/monitor.js';
import { nextCronTime } from '../../agent/schedule/next.js';
import { listRuns } from '../../agent/store/snapshots.js';
import { jobYaml, jobsRunByHand, openTestAgent, startHis, tmpDir, waitFor, writeConfigDir } from '../support/fixtures.js';

let server: FhirTestServer;
beforeAll(async () => {
  ({ server } = await startHis({ patients: 3 }));
});
afterAll(async () => {
  await server.close();
});

describe('scheduler', () => {
  it('fires on cron ticks and skips ticks while the previous run is still going', async () => {
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"* * * * * *"') } }));
    // Every answer takes 1.2 s, so each run spans several one-second ticks.
    server.fault = ({ path }) => (path.startsWith('/Location?_id') ? { kind: 'delay', ms: 1200 } : undefined);
    const s = startScheduler({ ...a, config: a.config });
    try {
      await new Promise((r) => setTimeout(r, 4500));
    } finally {
      await s.stop();
      server.fault = null;
    }
    const runs = listRuns(a.db, 'ward-1');
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(3);
    // No two runs overlapped in time.
    const spans = runs.map((r) => [Date.parse(r.startedAt), Date.parse(r.endedAt ?? r.startedAt)] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(a.lines.some((l) => /previous run still going; this tick is skipped/.test(l))).toBe(true);
  });

  it('runs one job more at once than there are render threads, unless maxConcurrentRuns says otherwise', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const jobs = jobsRunByHand(ids);
    /** The most runs that were going at the same moment, with `threads` render threads. */
    const mostAtOnce = async (threads: number, maxConcurrentRuns?: number) => {
      const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: server.url, jobs, maxConcurrentRuns }));
      const s = startScheduler({ ...a, renderer: { ...inThreadRenderer, parallelism: threads } });
      // Each run's census answer waits 300 ms, so runs allowed to overlap do.
      server.fault = ({ path: p }) => (p.startsWith('/Location?_id') ? { kind: 'delay', ms: 300 } : undefined);
      try {
        const outcomes = await Promise.all(ids.map((id) => s.runNow(id)));
        expect(outcomes.map((o) => o.status)).toEqual(ids.map(() => 'succeeded'));
      } finally {
        server.fault = null;
        await s.stop();
      }
      const spans = ids.flatMap((id) => listRuns(a.db, id).map((r) => [Date.parse(r.startedAt), Date.parse(r.endedAt!)] as const));
      return Math.max(...spans.map(([start]) => spans.filter(([b, e]) => b <= start && start < e).length));
    };
    expect(await mostAtOnce(2)).toBe(3);
    expect(await mostAtOnce(1)).toBe(2);
    expect(await mostAtOnce(2, 1)).toBe(1);
  });

  it('stopped with runs still waiting their turn, ends each as failed with the reason, reports none as evidence and leaves no rejection unhandled', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: jobsRunByHand(ids), maxConcurrentRuns: 1 }));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const reported: { job: string; evidence: ReturnType<typeof runEvidence> }[] = [];
    const s = startScheduler({ ...a, config: a.config, onOutcome: (o) => reported.push({ job: o.jobId, evidence: runEvidence(o) }) });
    // The first run waits on its census answer while the other three wait for it to end.
    server.fault = ({ path: p }) => (p.startsWith('/Location?_id') ? { kind: 'delay', ms: 500 } : undefined);
    try {
      const outcomes = Promise.all(ids.map((id) => s.runNow(id)));
      await new Promise((r) => setTimeout(r, 150));
      await s.stop();
      const ended = await outcomes;
      expect(ended.map((o) => [o.status, o.error])).toEqual(ids.map(() => ['failed', 'scheduler stopped']));
      // The first was cut off in its pull, the others never pulled.
      expect(ended.map((o) => o.pull)).toEqual(['cancelled', 'not-reached', 'not-reached', 'not-reached']);
      // Not evidence that the HIS failed: the outage monitor hears nothing of them.
      expect(reported.sort((x, y) => x.job.localeCompare(y.job))).toEqual(ids.map((job) => ({ job, evidence: null })));
      // Give a stray rejection (a pull nobody awaits any more) time to surface.
      await new Promise((r) => setTimeout(r, 800));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      server.fault = null;
    }
    for (const id of ids) expect(listRuns(a.db, id).map((r) => [r.status, r.error])).toEqual([['failed', 'scheduler stopped']]);
  });

  it('does not run a tick still waiting out its box offset when a reload has disabled the job', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"* * * * * *"') } });
    const a = openTestAgent(dir);
    // The offset sleep is held until the test lets it go, so the reload surely comes during it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let sleeping = 0;
    const s = startScheduler({ ...a, config: a.config, sleep: async () => (sleeping++, held) });
    try {
      await waitFor(() => sleeping > 0, 3000);
      const off = new Map(a.config.jobs);
      off.set('ward-1', { ...a.config.jobs.get('ward-1')!, enabled: false });
      s.reload({ ...a.config, jobs: off });
      release();
      await new Promise((r) => setTimeout(r, 300));
      expect(s.isRunning('ward-1')).toBe(false);
    } finally {
      await s.stop();
    }
    expect(listRuns(a.db, 'ward-1')).toEqual([]);
  });

  it('computes the next run in the job time zone', () => {
    const from = new Date('2026-11-22T00:30:00Z'); // 07:30 in Ho Chi Minh City
    expect(nextCronTime('0 8 * * *', 'Asia/Ho_Chi_Minh', from)!.toISOString()).toBe('2026-11-22T01:00:00.000Z');
    expect(nextCronTime('0 8 * * *', 'UTC', from)!.toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(nextCronTime('*/15 * * * * *', 'UTC', from)!.toISOString()).toBe('2026-11-22T00:30:15.000Z');
    // Looking no further than asked.
    expect(nextCronTime('0 8 * * *', 'UTC', from, 60)).toBeNull();
  });

  it('tells whether a run is due soon (render threads stay up for it)', async () => {
    const dir = (cron: string, enabled = true) =>
      writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('cron: "*/5 * * * *"', `cron: "${cron}"`) + (enabled ? '' : 'enabled: false\n') } });
    const every5 = startScheduler(openTestAgent(dir('*/5 * * * *')));
    const yearly = startScheduler(openTestAgent(dir('0 0 1 1 *')));
    const off = startScheduler(openTestAgent(dir('*/5 * * * *', false)));
    try {
      expect(every5.runDueWithin(10 * 60_000)).toBe(true);
      expect(every5.runDueWithin(0)).toBe(false);
      expect(yearly.runDueWithin(10 * 60_000)).toBe(new Date().getUTCMonth() === 0 && new Date().getUTCDate() === 1);
      expect(off.runDueWithin(10 * 60_000)).toBe(false);
    } finally {
      await Promise.all([every5.stop(), yearly.stop(), off.stop()]);
    }
  });
});
