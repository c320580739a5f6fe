import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.js';

/**
 * Days offline and online on a simulated clock, shortened for CI (the month
 * is `node dist/bench/soak.js 30 30`, figures in bench/results/latest.json):
 * every five-minute run, an hourly print from the last good snapshot, the
 * history pruned and the audit archived daily with a one-day keep. Nothing
 * is printed twice or lost, the store verifies clean, and every table stays
 * within what one kept day allows.
 */
describe('a simulated outage and recovery', () => {
  it('keeps the store bounded and consistent, and prints each request once', { timeout: 240_000 }, async () => {
    const r = await runSoak({ daysOffline: 1, daysOnline: 2, keepDays: 1 });
    const runsPerDay = 24 * 12;
    expect(r.runs.failed).toBeGreaterThanOrEqual(runsPerDay);
    expect(r.runs.succeeded).toBeGreaterThanOrEqual(2 * runsPerDay);
    expect(r.prints.requested).toBeGreaterThanOrEqual(3 * 24);
    expect(r.prints).toEqual({ requested: r.prints.requested, completed: r.prints.requested, filesWritten: r.prints.requested });
    expect(r.verify).toEqual({ storeProblems: [], auditProblems: [], auditRows: r.prints.requested });
    // Bounded by one kept day (plus the day in progress), not by how long the box has run.
    expect(r.peak.rows.job_runs).toBeLessThanOrEqual(2 * runsPerDay);
    expect(r.peak.rows.snapshots).toBeLessThanOrEqual(2 * runsPerDay);
    expect(r.peak.rows.print_jobs).toBeLessThanOrEqual(2 * 24);
    expect(r.peak.rows.audit_log).toBeLessThanOrEqual(2 * 24 + 1);
    expect(r.peak.blobFiles).toBeLessThanOrEqual(10);
    const last = r.days.at(-1)!;
    expect(last.rows.job_runs).toBeLessThanOrEqual(2 * runsPerDay);
    expect(last.rows.snapshots).toBeLessThanOrEqual(10);
  });
});
