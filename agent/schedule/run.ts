import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { SnapshotJob } from '../config/schema.js';
import type { Dataset, WardSnapshot } from '../model/ward.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { acquireJobLock, type LockHolder } from '../store/locks.js';
import { applyRetention, removeUnrecorded } from '../store/retention.js';
import {
  addArtifactsByHash,
  beginRun,
  createStagingSnapshot,
  currentSnapshot,
  listArtifacts,
  failSnapshot,
  finishRun,
  holdSnapshot,
  markInterrupted,
  publishSnapshot,
  type RunTrigger,
} from '../store/snapshots.js';
import type { Source } from '../sources/types.js';
import { renderSnapshotDocuments, type RenderedArtifact, type ReusableDocument } from '../render/publish.js';
import type { Renderer } from '../render/renderer.js';
import { faultPoint } from '../store/faults.js';
import { defaultNameOrder } from '../model/names.js';
import { boundWard, CUT_MARK } from '../model/bounds.js';
import { onSiteHighAlertList, type HighAlertExtra } from '../model/high-alert.js';
import { runSlots } from './slots.js';

const templatesDir = (c: LoadedConfig) => c.templatesDir;

export class JobBusyError extends Error {
  constructor(readonly jobId: string, readonly holder: LockHolder) {
    super(`job ${jobId} is already running (process ${holder.pid} on ${holder.host} since ${holder.acquiredAt})`);
    this.name = 'JobBusyError';
  }
}

export class UnknownJobError extends Error {
  constructor(readonly jobId: string, known: string[]) {
    super(`no snapshot job "${jobId}" (have: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownJobError';
  }
}

export interface RunDeps {
  db: Db;
  blobs: BlobStore;
  config: LoadedConfig;
  sources: Map<string, Source>;
  log: Logger;
  now?: () => Date;
  /** While true (a downtime), retention deletes nothing. */
  retentionPaused?: () => boolean;
  /** Who draws the PDFs; this thread when not given. */
  renderer?: Renderer;
}

export interface RunOutcome {
  jobId: string;
  runId: number;
  /** held: pulled and rendered, but the census looked wrong; the previous snapshot stays current (error says why). */
  status: 'succeeded' | 'failed' | 'held';
  snapshotId: number | null;
  error: string | null;
  /**
   * How the pull from the job's source went: what the run says about the
   * central system. A run that failed after a good pull (a broken template,
   * a full disk) failed here, not there; a pull cut off because the caller
   * stopped (the agent shutting down) is `cancelled`, not the source's doing.
   */
  pull: 'succeeded' | 'failed' | 'cancelled' | 'not-reached';
  durationMs: number;
  counts: Record<string, number>;
  warnings: string[];
}

/**
 * Why a census must be held rather than published: it lost more than the
 * job allows of the last good census, or every patient. Null when it may go.
 */
export function censusDropHold(prevPatients: number | undefined, nowPatients: number, guard: { maxDropPercent: number; minPatients: number }): string | null {
  if (prevPatients === undefined || prevPatients === 0) return null;
  if (nowPatients === 0) return `the source returned no patients where the last good census had ${prevPatients}`;
  if (prevPatients < guard.minPatients) return null;
  const lost = ((prevPatients - nowPatients) / prevPatients) * 100;
  if (lost <= guard.maxDropPercent) return null;
  return `the census fell from ${prevPatients} to ${nowPatients} patients (${Math.round(lost)}% fewer; this job holds a drop of more than ${guard.maxDropPercent}%)`;
}

/** The site's own high-alert list (paperback.yaml highAlert) on top of what the source and the built-in list said. */
function markSiteHighAlert(snap: WardSnapshot, extra: HighAlertExtra): void {
  if (!extra.atc?.length && !extra.names?.length) return;
  for (const p of snap.patients) for (const o of p.orders.items) if (!o.highAlert && onSiteHighAlertList(o.drug, o.codes ?? [], extra)) o.highAlert = true;
}

/** Flag a census that lost more than `fraction` of its patients since the last good snapshot. */
export function censusShrinkWarning(prevPatients: number | undefined, nowPatients: number, fraction: number): string | null {
  if (prevPatients === undefined || prevPatients < 5) return null;
  const lost = prevPatients - nowPatients;
  if (lost / prevPatients <= fraction) return null;
  return `the census fell from ${prevPatients} to ${nowPatients} patients since the previous snapshot (more than ${Math.round(fraction * 100)}%); check with the ward before relying on it`;
}

function countsOf(s: WardSnapshot): Record<string, number> {
  return {
    beds: s.beds.length,
    patients: s.patients.length,
    orders: s.patients.reduce((n, p) => n + p.orders.items.length, 0),
    administrations: s.patients.reduce((n, p) => n + p.administrations.items.length, 0),
    allergies: s.patients.reduce((n, p) => n + p.allergies.items.length, 0),
  };
}

/** The current snapshot's patient documents, for reuse when nothing they are made from changed. */
function previousDocuments(deps: RunDeps, snapshotId: number | null): ((address: string) => ReusableDocument | null) | undefined {
  if (snapshotId === null) return undefined;
  const byAddress = new Map(listArtifacts(deps.db, snapshotId, 'document').filter((a) => a.renderKey && a.asOf).map((a) => [a.address, a]));
  return (address) => {
    const a = byAddress.get(address);
    // A file retention or a crash took away is simply rendered again.
    return a && deps.blobs.has(a.sha256) ? { renderKey: a.renderKey!, sha256: a.sha256, size: a.size, pages: a.pages, asOf: a.asOf! } : null;
  };
}

/**
 * One run of one job: pull → render → store → publish. Holds the job's
 * cross-process lock throughout. Any failure leaves the previous snapshot
 * current and records why; it never throws for a failed pull (it returns a
 * failed outcome), only for a job that does not exist or is already running.
 */
export async function runJob(deps: RunDeps, jobId: string, opts: { trigger: RunTrigger; attempt?: number; signal?: AbortSignal }): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const job = deps.config.jobs.get(jobId);
  if (!job) throw new UnknownJobError(jobId, [...deps.config.jobs.keys()]);
  const ttl = (job.runTimeoutSeconds + 60) * 1000;
  const lock = acquireJobLock(deps.db, jobId, ttl, now);
  if ('heldBy' in lock) throw new JobBusyError(jobId, lock.heldBy);
  const renew = setInterval(() => lock.renew(ttl), 15_000);
  renew.unref();
  const started = now();
  markInterrupted(deps.db, jobId, null, started);
  const runId = beginRun(deps.db, jobId, opts.trigger, opts.attempt ?? 1, started);
  const log = deps.log.child({ job: jobId, run: runId });
  let snapshotId: number | null = null;
  const writes = runSlots(() => 4);
  /** Every file this run writes, by its artifact's index: awaited before the rows, removed if the run fails. */
  const writing = new Map<number, Promise<{ sha256: string; size: number }>>();
  const timeout = AbortSignal.timeout(job.runTimeoutSeconds * 1000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let pull: RunOutcome['pull'] = 'not-reached';
  try {
    // A run that waited its turn while the scheduler stopped ends here, before it asks the HIS anything.
    signal.throwIfAborted();
    const source = deps.sources.get(job.source);
    if (!source) throw new Error(`source "${job.source}" is not available in this process`);
    snapshotId = createStagingSnapshot(deps.db, { jobId, runId, sourceId: job.source, now: started });
    faultPoint('after-staging');
    log.info({ trigger: opts.trigger, attempt: opts.attempt ?? 1 }, 'snapshot run started');
    const ward = deps.config.box.wards.find((w) => w.id === job.scope.ward)!;
    // Render threads start while the pull waits on the network.
    deps.renderer?.warm();
    const t0 = performance.now();
    pull = 'failed';
    const box = deps.config.box;
    const nameOrder = box.names.order ?? defaultNameOrder(box.language);
    const pulled = await abortable(source.pull({ ward, location: job.scope.location, datasets: job.datasets as Dataset[], now: now(), signal, nameOrder }), signal);
    pull = 'succeeded';
    const snap = pulled.snapshot;
    // Every source's ward, bounded before anything is drawn: an over-long value is cut, an impossible date unknown.
    const bounded = boundWard(snap);
    if (bounded.cut) snap.warnings.push({ code: 'partial-data', message: `${bounded.cut} value(s) from the source were too long for paper and are cut, marked ${CUT_MARK}`, say: { key: 'warning.valuesCut', vars: { n: bounded.cut, mark: CUT_MARK } } });
    if (bounded.implausible) snap.warnings.push({ code: 'partial-data', message: `${bounded.implausible} date(s) from the source cannot be real and are shown as unknown`, say: { key: 'warning.implausibleDates', vars: { n: bounded.implausible } } });
    markSiteHighAlert(snap, box.highAlert);
    const prev = currentSnapshot(deps.db, jobId);
    const fraction = (deps.config.box.sources.find((s) => s.id === job.source) as { censusShrinkWarning?: number }).censusShrinkWarning ?? 0.3;
    const shrink = censusShrinkWarning(prev?.counts.patients, snap.patients.length, fraction);
    if (shrink) {
      snap.warnings.push({ code: 'census-shrunk', message: shrink });
      log.warn({ previous: prev?.counts.patients, current: snap.patients.length }, 'census shrank sharply; flagged for review');
    }
    const t1 = performance.now();
    // Files are written as documents come out of the render threads, a few at once so their fsyncs
    // overlap each other and the rendering; rows come after, in one transaction (below).
    const store = (a: RenderedArtifact, i: number) => {
      const f = writes.run(async () => {
        signal.throwIfAborted();
        const f = a.reused ?? (await deps.blobs.putAsync(a.content));
        faultPoint(`blob-written-${i}`);
        return f;
      });
      f.catch(() => undefined); // awaited below, or on failure
      writing.set(i, f);
      return f;
    };
    // Bounded by the run's time limit even if a render thread stops answering (the pool stops that thread).
    const rendered = await abortable(renderSnapshotDocuments(
      snap,
      { documents: job.documents, forms: job.forms, language: deps.config.box.paperLanguage ?? deps.config.box.language, timeZone: job.schedule.timeZone ?? deps.config.box.timeZone, hospital: deps.config.box.site.name, templatesDir: templatesDir(deps.config) },
      {
        renderedAt: now(),
        signal,
        previous: previousDocuments(deps, prev?.id ?? null),
        reuseWithinMinutes: job.reuseWithinMinutes,
        renderer: deps.renderer,
        onArtifact: (i, a) => void store(a, i),
      },
    ), signal);
    for (const r of pulled.reports ?? []) {
      rendered.push({ meta: { address: r.address, kind: 'document', mediaType: 'application/pdf', title: `${r.title} (as of ${r.asOf})` }, content: r.pdf });
    }
    const t2 = performance.now();
    // Every file safe on disk first; then every row in one transaction, so a row only ever
    // names a file already there, and a crash leaves all rows or none.
    const files = await Promise.all(rendered.map((a, i) => writing.get(i) ?? store(a, i)));
    signal.throwIfAborted();
    const at = now();
    addArtifactsByHash(deps.db, snapshotId, rendered.map((a, i) => ({ meta: a.meta, ...files[i]! })), at, (i) => {
      // A file another job shares (a blank form) may have been collected by that job's retention while
      // this run wrote: put it back, inside the transaction, before the row that names it commits.
      const a = rendered[i]!;
      if (a.content && !deps.blobs.has(files[i]!.sha256)) deps.blobs.put(a.content);
      faultPoint(`artifact-${i}`);
    });
    const counts = {
      ...countsOf(snap),
      documents: rendered.filter((r) => r.meta.kind === 'document').length,
      pages: rendered.reduce((s, r) => s + (r.meta.pages ?? 0), 0),
      rendered: rendered.filter((r) => r.meta.kind === 'document' && !r.reused).length,
      reused: rendered.filter((r) => r.reused).length,
      requests: pulled.requests,
      pulledChangesOnly: pulled.changesOnly ? 1 : 0,
      // Where the time went, for the IT page and the bench.
      pullMs: Math.round(t1 - t0),
      renderMs: Math.round(t2 - t1),
      storeMs: Math.round(performance.now() - t2),
    };
    faultPoint('before-publish');
    // A census that collapsed is kept whole but not published: a held sheet beats a wrong one.
    const hold = censusDropHold(prev?.counts.patients, snap.patients.length, job.censusDropGuard);
    if (hold) {
      holdSnapshot(deps.db, snapshotId, { asOf: snap.asOf, sourceSystem: source.info.system, counts, warnings: [...snap.warnings, { code: 'census-held', message: hold }], now: now() });
      const ended = now();
      finishRun(deps.db, runId, { status: 'held', error: hold, snapshotId, now: ended });
      log.warn({ snapshot: snapshotId, previous: prev?.counts.patients, current: snap.patients.length }, 'census held: the previous snapshot stays current until an admin accepts this one');
      return { jobId, runId, status: 'held', snapshotId, error: hold, pull, durationMs: ended.getTime() - started.getTime(), counts, warnings: [hold, ...snap.warnings.map((w) => w.message)] };
    }
    publishSnapshot(deps.db, snapshotId, { asOf: snap.asOf, sourceSystem: source.info.system, counts, warnings: snap.warnings, now: now() });
    faultPoint('after-publish');
    const ended = now();
    finishRun(deps.db, runId, { status: 'succeeded', snapshotId, now: ended });
    log.info({ snapshot: snapshotId, durationMs: ended.getTime() - started.getTime(), counts }, 'snapshot published');
    if (!deps.retentionPaused?.()) {
      // The snapshot is published: a failure to tidy old ones must not turn this run into a failed one
      // (and print "the previous snapshot stays current", which would no longer be true).
      try {
        const r = applyRetention(deps.db, deps.blobs, jobId, job.retention, ended);
        if (r.snapshotsDeleted || r.blobsDeleted) log.info(r, 'retention applied');
      } catch (err) {
        log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'retention failed after the publish; it runs again with the next run');
      }
    }
    return { jobId, runId, status: 'succeeded', snapshotId, error: null, pull, durationMs: ended.getTime() - started.getTime(), counts, warnings: snap.warnings.map((w) => w.message) };
  } catch (err) {
    // Files already on their way finish, then go: no row will name them.
    const written = (await Promise.allSettled(writing.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value.sha256] : []));
    removeUnrecorded(deps.db, deps.blobs, written);
    const ended = now();
    const message = signal.aborted && timeout.aborted ? `the run exceeded its time limit of ${job.runTimeoutSeconds} s` : (err as Error).message;
    if (pull === 'failed' && opts.signal?.aborted && !timeout.aborted) pull = 'cancelled';
    if (snapshotId !== null) failSnapshot(deps.db, snapshotId);
    finishRun(deps.db, runId, { status: 'failed', error: message, snapshotId: null, now: ended });
    log.error({ err: { name: (err as Error).name, message }, durationMs: ended.getTime() - started.getTime() }, 'snapshot run failed; the previous snapshot stays current');
    return { jobId, runId, status: 'failed', snapshotId: null, error: message, pull, durationMs: ended.getTime() - started.getTime(), counts: {}, warnings: [] };
  } finally {
    clearInterval(renew);
    lock.release();
  }
}

/**
 * Reject as soon as the signal fires, even if the work ignores it. The work is
 * followed to its end in every case: it usually fails on the same abort a
 * moment later, and a rejection nobody follows would crash a stricter runtime.
 */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

export type { SnapshotJob };
