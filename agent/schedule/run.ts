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
import { renderSnapshotDocuments, type RenderedArtifact, type ReusableDocument } from '../render/snapshot-documents.js';
import type { Renderer } from '../render/renderer.js';
import { faultPoint } from '../store/faults.js';
import { defaultNameOrder } from '../model/names.js';
import { boundWard, CUT_MARK } from '../model/bounds.js';
import { onSiteHighAlertList, type HighAlertExtra } from '../model/high-alert.js';
import { runSlots } from './slots.js';
import { errorFields, PaperbackError } from '../log/errors.js';
import { abortable } from '../model/abort.js';
import { entryOverlayFor, hisWardOf, HIS_WARD_ADDRESS } from '../outage/entry-sources.js';

const templatesDir = (c: LoadedConfig) => c.templatesDir;

/** Retryable: the run going on elsewhere ends, and the job can run again. */
export class JobBusyError extends PaperbackError {
  constructor(readonly jobId: string, readonly holder: LockHolder) {
    super('job-busy', `job ${jobId} is already running (process ${holder.pid} on ${holder.host} since ${holder.acquiredAt})`, { retryable: true });
  }
}

export class UnknownJobError extends PaperbackError {
  constructor(readonly jobId: string, known: string[]) {
    super('unknown-job', `no snapshot job "${jobId}" (have: ${known.join(', ') || 'none'})`);
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

/** What every phase of one run shares: the job, the run's rows, its deadline and the files it is writing. */
interface RunContext {
  deps: RunDeps;
  job: SnapshotJob;
  trigger: RunTrigger;
  runId: number;
  log: Logger;
  now: () => Date;
  started: Date;
  /** The caller's stop and the run's own time limit, together. */
  signal: AbortSignal;
  timeout: AbortSignal;
  callerSignal?: AbortSignal;
  snapshotId: number | null;
  pull: RunOutcome['pull'];
  writes: ReturnType<typeof runSlots>;
  /** Every file this run writes, by its artifact's index: awaited before the rows, removed if the run fails. */
  writing: Map<number, Promise<{ sha256: string; size: number }>>;
}

interface Pulled {
  snap: WardSnapshot;
  /** The HIS's ward under the downtime entries applied to `snap`, kept beside it for the next entries run. */
  his: WardSnapshot | null;
  reports: NonNullable<Awaited<ReturnType<Source['pull']>>['reports']>;
  requests: number;
  changesOnly: boolean;
  prev: ReturnType<typeof currentSnapshot>;
  pullMs: number;
}

/**
 * One run of one job: pull → render → store → publish, each a phase below.
 * Holds the job's cross-process lock throughout. Any failure leaves the
 * previous snapshot current and records why; it never throws for a failed
 * pull (it returns a failed outcome), only for a job that does not exist or
 * is already running.
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
  const timeout = AbortSignal.timeout(job.runTimeoutSeconds * 1000);
  const ctx: RunContext = {
    deps, job, trigger: opts.trigger, runId, now, started, timeout,
    log: deps.log.child({ job: jobId, run: runId }),
    signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    callerSignal: opts.signal,
    snapshotId: null,
    pull: 'not-reached',
    writes: runSlots(() => 4),
    writing: new Map(),
  };
  try {
    // A run that waited its turn while the scheduler stopped ends here, before it asks the HIS anything.
    ctx.signal.throwIfAborted();
    const source = deps.sources.get(job.source);
    if (!source) throw new Error(`source "${job.source}" is not available in this process`);
    ctx.snapshotId = createStagingSnapshot(deps.db, { jobId, runId, sourceId: job.source, now: started });
    faultPoint('after-staging');
    ctx.log.info({ trigger: opts.trigger, attempt: opts.attempt ?? 1 }, 'snapshot run started');
    const pulled = await pullWard(ctx, source);
    const t1 = performance.now();
    const rendered = await renderDocuments(ctx, pulled);
    const t2 = performance.now();
    await recordArtifacts(ctx, rendered);
    const counts = {
      ...countsOf(pulled.snap),
      documents: rendered.filter((r) => r.meta.kind === 'document').length,
      pages: rendered.reduce((s, r) => s + (r.meta.pages ?? 0), 0),
      rendered: rendered.filter((r) => r.meta.kind === 'document' && !r.reused).length,
      reused: rendered.filter((r) => r.reused).length,
      requests: pulled.requests,
      pulledChangesOnly: pulled.changesOnly ? 1 : 0,
      // Where the time went, for the IT page and the bench.
      pullMs: pulled.pullMs,
      renderMs: Math.round(t2 - t1),
      storeMs: Math.round(performance.now() - t2),
    };
    faultPoint('before-publish');
    return publishOrHold(ctx, source.info.system, pulled, counts);
  } catch (err) {
    return await failRun(ctx, err);
  } finally {
    clearInterval(renew);
    lock.release();
  }
}

/**
 * Phase 1: ask the source for the ward, then bound it and mark what the site
 * and the last census say about it; then apply what nurses recorded on this
 * box during a downtime and the HIS does not have yet. An entries run asks
 * the source nothing: it takes the HIS's ward the current snapshot was made
 * from, so entries are applied once, to the HIS's data, however many runs.
 */
async function pullWard(ctx: RunContext, source: Source): Promise<Pulled> {
  const { deps, job } = ctx;
  const t0 = performance.now();
  const got = ctx.trigger === 'entries' ? fromCurrentSnapshot(ctx) : await pullFromSource(ctx, source);
  const overlay = entryOverlayFor(deps.db, deps.blobs, { jobId: job.id, ward: job.scope.ward, his: got.snap });
  const snap = overlay ?? got.snap;
  return { ...got, snap, his: overlay ? got.snap : null, pullMs: Math.round(performance.now() - t0) };
}

function fromCurrentSnapshot(ctx: RunContext): Omit<Pulled, 'his' | 'pullMs'> {
  const prev = currentSnapshot(ctx.deps.db, ctx.job.id);
  const his = prev ? hisWardOf(ctx.deps.db, ctx.deps.blobs, prev.id) : null;
  if (!prev || !his) throw new Error('there is no snapshot to apply the downtime entries to yet');
  // The HIS was not asked: this run says nothing about it to the outage monitor (pull stays not-reached).
  return { snap: his, reports: [], requests: 0, changesOnly: false, prev };
}

async function pullFromSource(ctx: RunContext, source: Source): Promise<Omit<Pulled, 'his' | 'pullMs'>> {
  const { deps, job, signal } = ctx;
  const box = deps.config.box;
  const ward = box.wards.find((w) => w.id === job.scope.ward)!;
  // Render threads start while the pull waits on the network.
  deps.renderer?.warm();
  ctx.pull = 'failed';
  const nameOrder = box.names.order ?? defaultNameOrder(box.language);
  const pulled = await abortable(source.pull({ ward, location: job.scope.location, datasets: job.datasets as Dataset[], now: ctx.now(), signal, nameOrder }), signal);
  ctx.pull = 'succeeded';
  const snap = pulled.snapshot;
  // Every source's ward, bounded before anything is drawn: an over-long value is cut, an impossible date unknown.
  const bounded = boundWard(snap);
  if (bounded.cut) snap.warnings.push({ code: 'partial-data', message: `${bounded.cut} value(s) from the source were too long for paper and are cut, marked ${CUT_MARK}`, say: { key: 'warning.valuesCut', vars: { n: bounded.cut, mark: CUT_MARK } } });
  if (bounded.implausible) snap.warnings.push({ code: 'partial-data', message: `${bounded.implausible} date(s) from the source cannot be real and are shown as unknown`, say: { key: 'warning.implausibleDates', vars: { n: bounded.implausible } } });
  markSiteHighAlert(snap, box.highAlert);
  // Capitals by the language's rules: "Nguyễn Thị Hồng" → "NGUYỄN THỊ HỒNG", every mark kept.
  if (box.names.capitals) for (const p of snap.patients) if (p.name) p.name = p.name.toLocaleUpperCase(box.language);
  const prev = currentSnapshot(deps.db, job.id);
  const fraction = (box.sources.find((s) => s.id === job.source) as { censusShrinkWarning?: number }).censusShrinkWarning ?? 0.3;
  const shrink = censusShrinkWarning(prev?.counts.patients, snap.patients.length, fraction);
  if (shrink) {
    snap.warnings.push({ code: 'census-shrunk', message: shrink });
    ctx.log.warn({ previous: prev?.counts.patients, current: snap.patients.length }, 'census shrank sharply; flagged for review');
  }
  return { snap, reports: pulled.reports ?? [], requests: pulled.requests, changesOnly: !!pulled.changesOnly, prev };
}

/**
 * Phase 2: draw the documents. Each file is written as it comes out of the
 * render threads, a few at once so their fsyncs overlap each other and the
 * rendering; the rows come after, in one transaction (phase 3).
 */
async function renderDocuments(ctx: RunContext, pulled: Pulled): Promise<RenderedArtifact[]> {
  const { deps, job, signal } = ctx;
  const box = deps.config.box;
  const settings = { documents: job.documents, forms: job.forms, language: box.paperLanguage ?? box.language, timeZone: job.schedule.timeZone ?? box.timeZone, hospital: box.site.name, templatesDir: templatesDir(deps.config) };
  // Bounded by the run's time limit even if a render thread stops answering (the pool stops that thread).
  const rendered = await abortable(
    renderSnapshotDocuments(pulled.snap, settings, {
      renderedAt: ctx.now(),
      signal,
      previous: previousDocuments(deps, pulled.prev?.id ?? null),
      reuseWithinMinutes: job.reuseWithinMinutes,
      renderer: deps.renderer,
      onArtifact: (i, a) => void storeFile(ctx, a, i),
    }),
    signal,
  );
  if (pulled.his) {
    rendered.push({ meta: { address: HIS_WARD_ADDRESS, kind: 'data', mediaType: 'application/json', title: 'The HIS ward under the downtime entries', asOf: pulled.his.asOf }, content: Buffer.from(JSON.stringify(pulled.his)) });
  }
  for (const r of pulled.reports) {
    rendered.push({ meta: { address: r.address, kind: 'document', mediaType: 'application/pdf', title: `${r.title} (as of ${r.asOf})` }, content: r.pdf });
  }
  return rendered;
}

/** Write one artifact's file (or reuse the one already stored), remembered so the run can await or remove it. */
function storeFile(ctx: RunContext, a: RenderedArtifact, i: number): Promise<{ sha256: string; size: number }> {
  const f = ctx.writes.run(async () => {
    ctx.signal.throwIfAborted();
    const f = a.reused ?? (await ctx.deps.blobs.putAsync(a.content));
    faultPoint(`blob-written-${i}`);
    return f;
  });
  f.catch(() => undefined); // awaited in recordArtifacts, or on failure
  ctx.writing.set(i, f);
  return f;
}

/**
 * Phase 3: every file safe on disk first; then every row in one
 * transaction, so a row only ever names a file already there, and a crash
 * leaves all rows or none.
 */
async function recordArtifacts(ctx: RunContext, rendered: RenderedArtifact[]): Promise<void> {
  const { deps } = ctx;
  const files = await Promise.all(rendered.map((a, i) => ctx.writing.get(i) ?? storeFile(ctx, a, i)));
  ctx.signal.throwIfAborted();
  addArtifactsByHash(deps.db, ctx.snapshotId!, rendered.map((a, i) => ({ meta: a.meta, ...files[i]! })), ctx.now(), (i) => {
    // A file another job shares (a blank form) may have been collected by that job's retention while
    // this run wrote: put it back, inside the transaction, before the row that names it commits.
    const a = rendered[i]!;
    if (a.content && !deps.blobs.has(files[i]!.sha256)) deps.blobs.put(a.content);
    faultPoint(`artifact-${i}`);
  });
}

/**
 * Phase 4: publish the snapshot, or hold it when the census collapsed (kept
 * whole, not published: a held sheet beats a wrong one). Retention follows a
 * publish and can no longer fail the run.
 */
function publishOrHold(ctx: RunContext, sourceSystem: string, pulled: Pulled, counts: Record<string, number>): RunOutcome {
  const { deps, job, runId, log } = ctx;
  const { snap, prev } = pulled;
  const snapshotId = ctx.snapshotId!;
  const outcome = (status: RunOutcome['status'], error: string | null, warnings: string[], ended: Date): RunOutcome => ({ jobId: job.id, runId, status, snapshotId, error, pull: ctx.pull, durationMs: ended.getTime() - ctx.started.getTime(), counts, warnings });
  // Patients the ward itself discharged on this box are not a census that collapsed.
  const hold = ctx.trigger === 'entries' ? null : censusDropHold(prev?.counts.patients, snap.patients.length, job.censusDropGuard);
  if (hold) {
    holdSnapshot(deps.db, snapshotId, { asOf: snap.asOf, sourceSystem, counts, warnings: [...snap.warnings, { code: 'census-held', message: hold }], now: ctx.now() });
    const ended = ctx.now();
    finishRun(deps.db, runId, { status: 'held', error: hold, snapshotId, now: ended });
    log.warn({ snapshot: snapshotId, previous: prev?.counts.patients, current: snap.patients.length }, 'census held: the previous snapshot stays current until an admin accepts this one');
    return outcome('held', hold, [hold, ...snap.warnings.map((w) => w.message)], ended);
  }
  publishSnapshot(deps.db, snapshotId, { asOf: snap.asOf, sourceSystem, counts, warnings: snap.warnings, now: ctx.now() });
  faultPoint('after-publish');
  const ended = ctx.now();
  finishRun(deps.db, runId, { status: 'succeeded', snapshotId, now: ended });
  log.info({ snapshot: snapshotId, durationMs: ended.getTime() - ctx.started.getTime(), counts }, 'snapshot published');
  if (!deps.retentionPaused?.()) {
    // The snapshot is published: a failure to tidy old ones must not turn this run into a failed one
    // (and print "the previous snapshot stays current", which would no longer be true).
    try {
      const r = applyRetention(deps.db, deps.blobs, job.id, job.retention, ended);
      if (r.snapshotsDeleted || r.blobsDeleted) log.info(r, 'retention applied');
    } catch (err) {
      log.warn({ err: errorFields(err) }, 'retention failed after the publish; it runs again with the next run');
    }
  }
  return outcome('succeeded', null, snap.warnings.map((w) => w.message), ended);
}

/** Any phase failed: the files it wrote go, the staging snapshot is marked failed, and the previous snapshot stays current. */
async function failRun(ctx: RunContext, err: unknown): Promise<RunOutcome> {
  const { deps, job, runId, log } = ctx;
  // Files already on their way finish, then go: no row will name them.
  const written = (await Promise.allSettled(ctx.writing.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value.sha256] : []));
  removeUnrecorded(deps.db, deps.blobs, written);
  const ended = ctx.now();
  const message = ctx.signal.aborted && ctx.timeout.aborted ? `the run exceeded its time limit of ${job.runTimeoutSeconds} s` : (err as Error).message;
  if (ctx.pull === 'failed' && ctx.callerSignal?.aborted && !ctx.timeout.aborted) ctx.pull = 'cancelled';
  if (ctx.snapshotId !== null) failSnapshot(deps.db, ctx.snapshotId);
  finishRun(deps.db, runId, { status: 'failed', error: message, snapshotId: null, now: ended });
  const durationMs = ended.getTime() - ctx.started.getTime();
  log.error({ err: { ...errorFields(err), message: message.slice(0, 300) }, durationMs }, 'snapshot run failed; the previous snapshot stays current');
  return { jobId: job.id, runId, status: 'failed', snapshotId: null, error: message, pull: ctx.pull, durationMs, counts: {}, warnings: [] };
}

export type { SnapshotJob };
