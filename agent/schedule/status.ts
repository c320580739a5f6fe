import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { lockHolder } from '../store/locks.js';
import { currentSnapshot, lastRun } from '../store/snapshots.js';
import { heldCensus } from './held-census.js';
import { boxOffsetMs } from './scheduler.js';
import { nextCronTime } from './next.js';

export interface JobStatus {
  id: string;
  title: string;
  enabled: boolean;
  schedule: string;
  running: boolean;
  lastRun: { id: number; status: string; trigger: string; startedAt: string; endedAt: string | null; durationMs: number | null; error: string | null } | null;
  current: { snapshotId: number; asOf: string | null; ageSeconds: number | null; stale: boolean; counts: Record<string, number>; warnings: string[] } | null;
  /** A newer census the drop guard held instead of publishing; null when none waits. */
  held: { snapshotId: number; asOf: string | null; patients: number | null; reason: string } | null;
  nextRun: string | null;
}

export function jobStatuses(config: LoadedConfig, db: Db, now = new Date()): JobStatus[] {
  return [...config.jobs.values()].map((job) => {
    const run = lastRun(db, job.id);
    const cur = currentSnapshot(db, job.id);
    const held = heldCensus(db, job.id);
    const age = cur?.asOf ? Math.max(0, Math.round((now.getTime() - new Date(cur.asOf).getTime()) / 1000)) : null;
    const next = job.enabled ? nextCronTime(job.schedule.cron, job.schedule.timeZone ?? config.box.timeZone, now) : null;
    return {
      id: job.id,
      title: job.title,
      enabled: job.enabled,
      schedule: `${job.schedule.cron} (${job.schedule.timeZone ?? config.box.timeZone})`,
      running: lockHolder(db, job.id, now) !== null,
      lastRun: run && { id: run.id, status: run.status, trigger: run.trigger, startedAt: run.startedAt, endedAt: run.endedAt, durationMs: run.durationMs, error: run.error },
      current: cur && { snapshotId: cur.id, asOf: cur.asOf, ageSeconds: age, stale: age === null || age > job.maxAgeMinutes * 60, counts: cur.counts, warnings: cur.warnings.map((w) => w.message) },
      held: held && { snapshotId: held.held.id, asOf: held.held.asOf, patients: held.held.counts.patients ?? null, reason: held.reason },
      nextRun: next ? new Date(next.getTime() + boxOffsetMs(config.box.box.id, job.id, config.box.schedule.spreadSeconds)).toISOString() : null,
    };
  });
}

export function formatAge(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
