import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inThreadRenderer } from '../../agent/render/renderer.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { startScheduler, type Ticker } from '../../agent/schedule/scheduler.js';
import type { Source } from '../../agent/sources/types.js';
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
  it('runs on each cron tick and skips a tick that comes while the previous run is still going', async () => {
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': jobYaml('ward-1') } }));
    const hand = handTicker();
    // The first pull waits until the test lets it go, so the second tick surely comes during it.
    const release = holdPulls(a.sources);
    const s = startScheduler({ ...a, config: a.config, ticker: hand.ticker, sleep: async () => {} });
    try {
      expect(hand.crons()).toEqual({ 'ward-1': '*/5 * * * *' });
      const first = hand.tick('ward-1');
      await waitFor(() => s.isRunning('ward-1'), 5000);
      await hand.tick('ward-1');
      expect(a.lines.some((l) => /previous run still going; this tick is skipped/.test(l))).toBe(true);
      release();
      await first;
      await hand.tick('ward-1');
    } finally {
      await s.stop();
    }
    const runs = listRuns(a.db, 'ward-1');
    expect(runs.map((r) => [r.status, r.trigger])).toEqual([
      ['succeeded', 'schedule'],
      ['succeeded', 'schedule'],
    ]);
    // No two runs overlapped in time.
    const spans = runs.map((r) => [Date.parse(r.startedAt), Date.parse(r.endedAt ?? r.startedAt)] as const).sort((x, y) => x[0] - y[0]);
    expect(spans[1]![0]).toBeGreaterThanOrEqual(spans[0]![1]);
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
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': jobYaml('ward-1') } }));
    const hand = handTicker();
    // The offset sleep is held until the test lets it go, so the reload surely comes during it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let sleeping = 0;
    const s = startScheduler({ ...a, config: a.config, ticker: hand.ticker, sleep: async () => (sleeping++, held) });
    try {
      const tick = hand.tick('ward-1');
      expect(sleeping).toBe(1);
      const off = new Map(a.config.jobs);
      off.set('ward-1', { ...a.config.jobs.get('ward-1')!, enabled: false });
      s.reload({ ...a.config, jobs: off });
      // The disabled job has no ticks any more.
      expect(hand.crons()).toEqual({});
      release();
      await tick;
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

  it('tells whether a run is due soon (render threads stay up for it), by the clock it is given', async () => {
    const dir = (cron: string, enabled = true) =>
      writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('cron: "*/5 * * * *"', `cron: "${cron}"`) + (enabled ? '' : 'enabled: false\n') } });
    const at = (iso: string) => () => new Date(iso);
    const start = (cron: string, now: () => Date, enabled = true) => startScheduler({ ...openTestAgent(dir(cron, enabled)), ticker: handTicker().ticker, now });
    const midsummer = at('2026-06-21T12:00:00Z');
    const every5 = start('*/5 * * * *', at('2026-06-21T12:01:00Z'));
    // Three days before New Year: nextRun looks a week ahead at most.
    const yearlyLater = start('0 0 1 1 *', at('2026-12-29T00:00:00Z'));
    // New Year in the box's zone, with its offset: five minutes before it, that run is due.
    const newYear = yearlyLater.nextRun('ward-1')!;
    const yearlyNow = start('0 0 1 1 *', () => new Date(newYear.getTime() - 5 * 60_000));
    const off = start('*/5 * * * *', midsummer, false);
    try {
      // The next five-minute slot (12:05) is 4 minutes away, plus this box's offset within the spread.
      const offset = every5.nextRun('ward-1')!.getTime() - Date.parse('2026-06-21T12:05:00Z');
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(every5.runDueWithin(4 * 60_000 + offset)).toBe(true);
      expect(every5.runDueWithin(4 * 60_000 + offset - 1)).toBe(false);
      expect(newYear.getTime() - Date.parse('2026-12-29T00:00:00Z')).toBeGreaterThan(2 * 86_400_000);
      expect(yearlyNow.runDueWithin(5 * 60_000)).toBe(true);
      expect(yearlyNow.runDueWithin(5 * 60_000 - 1)).toBe(false);
      expect(yearlyLater.runDueWithin(10 * 60_000)).toBe(false);
      expect(off.runDueWithin(10 * 60_000)).toBe(false);
      expect(off.nextRun('ward-1')).toBeNull();
    } finally {
      await Promise.all([every5.stop(), yearlyNow.stop(), yearlyLater.stop(), off.stop()]);
    }
  });
});

/** A ticker the test fires by hand: `tick(job)` runs one cron tick and resolves when that tick's work is done. */
function handTicker() {
  const ticks = new Map<string, { expr: string; tick: () => Promise<void> }>();
  const ticker: Ticker = (expr, _timeZone, name, tick) => {
    ticks.set(name, { expr, tick });
    return { stop: () => void ticks.delete(name) };
  };
  return {
    ticker,
    tick(job: string): Promise<void> {
      const t = ticks.get(job);
      if (!t) throw new Error(`no ticks scheduled for ${job}`);
      return t.tick();
    },
    crons: () => Object.fromEntries([...ticks].map(([job, t]) => [job, t.expr])),
  };
}

/** Make every pull of these sources wait until the returned function is called. */
function holdPulls(sources: Map<string, Source>): () => void {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  for (const [id, src] of sources) sources.set(id, { ...src, pull: async (req) => (await held, src.pull(req)) });
  return release;
}
