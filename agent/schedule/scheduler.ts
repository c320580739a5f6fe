import crypto from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { Renderer } from '../render/renderer.js';
import type { RunTrigger } from '../store/snapshots.js';
import { JobBusyError, runJob, type RunDeps, type RunOutcome } from './run.js';
import { runSlots } from './slots.js';
import { abortableSleep } from '../model/abort.js';
import { nextCronTime } from './next.js';
import { errorFields } from '../log/errors.js';

/**
 * A stable delay in [0, spread) seconds for this box and job, so a hospital's
 * boxes scheduled "every 5 minutes" do not all hit the HIS in the same second,
 * and each box keeps the same slot from one day to the next.
 */
export function boxOffsetMs(boxId: string, jobId: string, spreadSeconds: number): number {
  if (spreadSeconds <= 0) return 0;
  const h = crypto.createHash('sha256').update(`${boxId}\0${jobId}`).digest().readUInt32BE(0);
  return (h % (spreadSeconds * 1000));
}

export interface Scheduler {
  /** Run a job now (with the job's retry policy). Resolves with the last attempt's outcome. */
  runNow(jobId: string, trigger?: RunTrigger): Promise<RunOutcome>;
  nextRun(jobId: string): Date | null;
  /** Whether any enabled job is scheduled to start within `ms` from now. */
  runDueWithin(ms: number): boolean;
  isRunning(jobId: string): boolean;
  /**
   * Publish the job's current snapshot again with the downtime entries recorded since (trigger
   * `entries`): at once, beside a pull that waits on a dead HIS; once more if entries come while it runs.
   */
  applyEntries(jobId: string): void;
  reload(config: LoadedConfig): void;
  stop(): Promise<void>;
}

/**
 * Calls `tick` at a cron expression's times until stopped. node-cron in the
 * agent; a test passes its own and fires ticks by hand, so it never waits
 * for a wall clock to reach the next second or minute.
 */
export type Ticker = (expr: string, timeZone: string, name: string, tick: () => Promise<void>) => { stop(): void | Promise<void> };

const cronTicker: Ticker = (expr, timeZone, name, tick) => {
  const task: ScheduledTask = cron.schedule(expr, tick, { timezone: timeZone, name });
  return { stop: () => task.destroy() };
};

export interface SchedulerDeps extends Omit<RunDeps, 'config'> {
  config: LoadedConfig;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onOutcome?: (o: RunOutcome) => void;
  ticker?: Ticker;
}

/**
 * Run a job with its retry policy: a failed attempt is retried after
 * backoff × 2^(n−1) seconds, up to `retry.attempts` more times. A job that is
 * already running (in this or another process) is not retried: that run will
 * produce the snapshot.
 */
export async function runWithRetry(deps: RunDeps & { sleep?: SchedulerDeps['sleep'] }, jobId: string, trigger: RunTrigger, signal?: AbortSignal): Promise<RunOutcome> {
  const job = deps.config.jobs.get(jobId);
  const attempts = 1 + (job?.retry.attempts ?? 0);
  const sleep = deps.sleep ?? abortableSleep;
  let outcome: RunOutcome | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    outcome = await runJob(deps, jobId, { trigger: attempt === 1 || trigger === 'entries' ? trigger : 'retry', attempt, signal });
    // A held census is the source's answer, not a failure: asking again at once would only hold it again.
    if (outcome.status !== 'failed' || attempt === attempts || signal?.aborted) break;
    const wait = (job?.retry.backoffSeconds ?? 30) * 1000 * 2 ** (attempt - 1);
    deps.log.warn({ job: jobId, attempt, retryInMs: wait }, 'snapshot run failed; will retry');
    await sleep(wait, signal);
  }
  return outcome!;
}

/**
 * How many snapshot runs go at once. A central print host may have a hundred
 * ward jobs on the same cron minute: run together, each would hold a ward's
 * data and documents in memory, so the rest wait their turn. By default one
 * run more than there are render threads, so while one run waits on its pull
 * the threads draw the others' documents (4,000 patients on 2 cores, same
 * code: 50.7 s on average over 7 runs with 3 or 4 at once, 54.6 s over 5 with
 * 2; this machine varies by ±10 % from run to run).
 */
export function concurrentRunLimit(config: LoadedConfig, renderer: Pick<Renderer, 'parallelism'> | undefined): number {
  return config.box.schedule.maxConcurrentRuns ?? (renderer?.parallelism ?? 1) + 1;
}

export function startScheduler(deps: SchedulerDeps): Scheduler {
  let config = deps.config;
  const tasks = new Map<string, ReturnType<Ticker>>();
  const ticker = deps.ticker ?? cronTicker;
  const now = deps.now ?? (() => new Date());
  const running = new Map<string, Promise<RunOutcome>>();
  const stopper = new AbortController();
  const log: Logger = deps.log.child({ room: 'schedule' });
  const slots = runSlots(() => concurrentRunLimit(config, deps.renderer));

  const execute = (jobId: string, trigger: RunTrigger): Promise<RunOutcome> => {
    const existing = running.get(jobId);
    if (existing) return existing;
    const p = slots
      .run(() => runWithRetry({ ...deps, config }, jobId, trigger, stopper.signal))
      .then((o) => {
        deps.onOutcome?.(o);
        return o;
      })
      .finally(() => running.delete(jobId));
    running.set(jobId, p);
    return p;
  };

  // Entries runs: one per job at a time, and one more when entries came while it ran.
  const entriesRuns = new Map<string, Promise<void>>();
  const entriesAgain = new Set<string>();
  const entriesLoop = async (jobId: string) => {
    do {
      entriesAgain.delete(jobId);
      for (let attempt = 1; !stopper.signal.aborted; attempt++) {
        try {
          const o = await slots.run(() => runJob({ ...deps, config }, jobId, { trigger: 'entries', signal: stopper.signal }));
          deps.onOutcome?.(o);
          if (o.status === 'failed') log.warn({ job: jobId, error: o.error }, 'downtime entries could not be applied to the paper; the next entry or run tries again');
          break;
        } catch (err) {
          // A pull (here or in another process) holds the job between its attempts: wait for it, not for its retries.
          if (err instanceof JobBusyError && attempt < 150) {
            await (deps.sleep ?? abortableSleep)(2000, stopper.signal).catch(() => undefined);
            continue;
          }
          if (!stopper.signal.aborted) log.error({ job: jobId, err: errorFields(err) }, 'downtime entries run could not start');
          break;
        }
      }
    } while (entriesAgain.has(jobId) && !stopper.signal.aborted);
  };

  const schedule = () => {
    for (const t of tasks.values()) void t.stop();
    tasks.clear();
    for (const job of config.jobs.values()) {
      if (!job.enabled) continue;
      const offset = boxOffsetMs(config.box.box.id, job.id, config.box.schedule.spreadSeconds);
      const task = ticker(
        job.schedule.cron,
        job.schedule.timeZone ?? config.box.timeZone,
        job.id,
        async () => {
          if (running.has(job.id)) {
            log.warn({ job: job.id }, 'previous run still going; this tick is skipped');
            return;
          }
          try {
            await (deps.sleep ?? abortableSleep)(offset, stopper.signal);
            // The job files may have been reloaded during the offset: a job disabled or removed meanwhile does not run.
            if (!config.jobs.get(job.id)?.enabled) return;
            await execute(job.id, 'schedule');
          } catch (err) {
            if (err instanceof JobBusyError) log.info({ job: job.id }, 'job is running in another process; tick skipped');
            else if (!stopper.signal.aborted) log.error({ job: job.id, err: errorFields(err) }, 'scheduled run could not start');
          }
        },
      );
      tasks.set(job.id, task);
    }
    log.info({ jobs: [...tasks.keys()] }, 'jobs scheduled');
  };
  schedule();

  return {
    runNow: (jobId, trigger = 'manual') => execute(jobId, trigger),
    nextRun(jobId) {
      const job = config.jobs.get(jobId);
      if (!job || !job.enabled) return null;
      const next = nextCronTime(job.schedule.cron, job.schedule.timeZone ?? config.box.timeZone, now());
      return next && new Date(next.getTime() + boxOffsetMs(config.box.box.id, jobId, config.box.schedule.spreadSeconds));
    },
    runDueWithin(ms) {
      const at = now();
      const minutes = Math.ceil(ms / 60_000);
      for (const job of config.jobs.values()) {
        if (!job.enabled) continue;
        const offset = boxOffsetMs(config.box.box.id, job.id, config.box.schedule.spreadSeconds);
        const next = nextCronTime(job.schedule.cron, job.schedule.timeZone ?? config.box.timeZone, at, minutes);
        if (next && next.getTime() + offset - at.getTime() <= ms) return true;
      }
      return false;
    },
    isRunning: (jobId) => running.has(jobId),
    applyEntries(jobId) {
      if (entriesRuns.has(jobId)) {
        entriesAgain.add(jobId);
        return;
      }
      entriesRuns.set(jobId, entriesLoop(jobId).finally(() => entriesRuns.delete(jobId)));
    },
    reload(next) {
      config = next;
      schedule();
    },
    async stop() {
      for (const t of tasks.values()) await t.stop();
      tasks.clear();
      stopper.abort(new Error('scheduler stopped'));
      await Promise.allSettled([...running.values(), ...entriesRuns.values()]);
    },
  };
}
