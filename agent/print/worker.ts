import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { PrinterConfig } from '../config/schema.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { acquireLease, processHolder, releaseLease } from '../store/leases.js';
import { assertCanPrint, findJobByName, getJobStatus, getPrinterStatus, PrintError, submitPdf } from './ipp.js';
import { claimJob, completeJob, dueJobs, failJob, failOver, FINAL_STATES, getPrintJob, listPrintJobs, markSent, noteWaiting, recoverInterrupted, retryJob, type PrintJobRow } from './queue.js';
import { errorFields } from '../log/errors.js';
import { LABEL_MEDIA_TYPE, type LabelRequest } from '../render/labels.js';
import { labelForPrinter } from './label-output.js';
import { sendRaw } from './raw-socket.js';
import { stampPrintMarking } from '../render/print-marking.js';

export interface PrintWorkerDeps {
  db: Db;
  blobs: BlobStore;
  printers: () => Map<string, PrinterConfig>;
  configDir: string;
  log: Logger;
  now?: () => Date;
  /** How often the queue is looked at and running jobs are polled. */
  pollMs?: number;
  /** Attempts (across printers) before a job is given up as failed. */
  maxAttempts?: number;
  /** Delay before attempt n+1 after n failures. */
  backoffMs?: (attempts: number) => number;
  /** This process's name in the queue's lease (default: pid@host/random). */
  holder?: string;
  /** How long the queue stays this process's after its last heartbeat. */
  leaseTtlMs?: number;
  /** The conversion marking stamped on every page of the copy sent (print/marking.ts); none when not given. */
  marking?: (job: PrintJobRow, at: Date) => string;
}

/** The lease that makes one process at a time the queue's sender. */
export const PRINT_QUEUE_LEASE = 'print-queue';

/** The name the printer sees: the document's, plus a tag that makes it this queue entry's alone, so a crash mid-send can ask the printer whether it arrived. */
export const ippJobName = (job: Pick<PrintJobRow, 'id' | 'jobName'>) => `${job.jobName.slice(0, 200)} [pb#${job.id}]`;

export interface PrintWorker {
  /** Look at the queue now rather than at the next poll. */
  kick(): void;
  /** True while this process owns the queue (sends and recovers jobs); otherwise it only waits on the owner's progress. */
  owner(): boolean;
  /** Resolve when the job reaches completed, failed or cancelled (or the timeout passes). */
  waitFor(id: number, timeoutMs?: number): Promise<PrintJobRow>;
  stop(): Promise<void>;
}

export const defaultBackoff = (attempts: number) => Math.min(5_000 * 2 ** (attempts - 1), 5 * 60_000);

/** Write into a folder (USB stick, share) atomically: a reader never sees half a PDF. */
function printToFolder(p: PrinterConfig, configDir: string, job: PrintJobRow, pdf: Buffer): string {
  const dir = path.resolve(configDir, p.uri);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const safe = job.jobName.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 80);
    const final = path.join(dir, `${String(job.id).padStart(6, '0')}-${safe}.pdf`);
    const tmp = path.join(dir, `.${crypto.randomBytes(6).toString('hex')}.tmp`);
    for (let c = 0; c < job.copies; c++) {
      const target = job.copies === 1 ? final : final.replace(/\.pdf$/, `-copy${c + 1}.pdf`);
      fs.writeFileSync(tmp, pdf, { mode: 0o600 });
      fs.renameSync(tmp, target);
    }
    return final;
  } catch (err) {
    throw new PrintError(`cannot write to folder printer ${p.id} (${dir}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, true, 'folder');
  }
}

/**
 * The durable print queue's worker. A job is done only when the printer
 * reports it completed; failures are retried with backoff, moved to the
 * fallback printer after `failoverAfter` failures, and after `maxAttempts`
 * marked failed with the reason — never dropped.
 */
export function startPrintWorker(deps: PrintWorkerDeps): PrintWorker {
  const now = deps.now ?? (() => new Date());
  const pollMs = deps.pollMs ?? 1000;
  const maxAttempts = deps.maxAttempts ?? 10;
  const backoff = deps.backoffMs ?? defaultBackoff;
  const log = deps.log.child({ room: 'print' });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const holder = deps.holder ?? processHolder();
  const ttl = deps.leaseTtlMs ?? 30_000;
  let owning = false;

  /**
   * Jobs a process was sending when it died. Ask the printer first: a job it
   * has (by its tagged name) was received and is followed, not sent again.
   * One it does not have, or a printer that cannot say, is sent again: the
   * printer may print it twice, but no paper at all is worse.
   */
  const recover = async () => {
    for (const j of listPrintJobs(deps.db, { states: ['sending'], limit: 500 })) {
      const printer = deps.printers().get(j.currentPrinterId);
      let found: number | null = null;
      if (printer?.kind === 'zpl') {
        recoverInterrupted(deps.db, j.id, 'resumed after a restart; a raw label printer cannot say whether it printed, so sending again (it may print twice)', now());
        continue;
      }
      if (printer && printer.kind !== 'folder') {
        try {
          found = await findJobByName(printer, deps.configDir, ippJobName(j));
        } catch (err) {
          log.warn({ printJob: j.id, printer: printer.id, reason: (err as Error).message }, 'cannot ask the printer about an interrupted job; sending it again');
          recoverInterrupted(deps.db, j.id, 'resumed after a restart; the printer could not say whether it has it, so sending again (it may print twice)', now());
          continue;
        }
      }
      if (found !== null) markSent(deps.db, j.id, { ippJobId: found, ippPrinterId: printer!.id }, `found at ${printer!.id} as job ${found} after a restart: not sent again`, now());
      else recoverInterrupted(deps.db, j.id, 'resumed after a restart; the printer does not have it, sending again', now());
    }
  };

  /** Take or keep the queue; a process that just became the owner first recovers what the last one left mid-send. */
  const own = async (): Promise<boolean> => {
    const was = owning;
    owning = acquireLease(deps.db, PRINT_QUEUE_LEASE, holder, ttl, now());
    if (owning && !was) {
      log.info({ holder }, 'this process now sends the print queue');
      await recover();
    }
    return owning;
  };
  // The heartbeat runs beside long sends, so the lease never lapses while this process is working.
  const heartbeat = setInterval(() => {
    if (owning && !stopped) owning = acquireLease(deps.db, PRINT_QUEUE_LEASE, holder, ttl, now());
  }, Math.max(200, Math.floor(ttl / 6)));
  heartbeat.unref();

  const fail = (job: PrintJobRow, err: Error) => {
    const retryable = err instanceof PrintError ? err.retryable : true;
    const attempts = job.attempts + 1;
    const printer = deps.printers().get(job.currentPrinterId);
    const fallback = printer?.fallback && deps.printers().has(printer.fallback) ? printer.fallback : null;
    // Every `failoverAfter` failures the job moves on to the printer's fallback (which may have its own).
    const switchNow = fallback !== null && fallback !== job.currentPrinterId && (!retryable || attempts % (printer?.failoverAfter ?? 3) === 0) && attempts < maxAttempts;
    if (switchNow) {
      failOver(deps.db, job.id, { attempts, currentPrinterId: fallback, error: err.message }, `failover from ${job.currentPrinterId} to ${fallback}: ${err.message}`, now());
      log.warn({ printJob: job.id, from: job.currentPrinterId, to: fallback, reason: err.message }, 'print job moved to the fallback printer');
      return;
    }
    if (!retryable || attempts >= maxAttempts) {
      failJob(deps.db, job.id, { attempts, error: err.message }, now());
      log.error({ printJob: job.id, printer: job.currentPrinterId, attempts, reason: err.message }, 'print job failed; staff can see it with the reason');
      return;
    }
    const next = new Date(now().getTime() + backoff(attempts));
    retryJob(deps.db, job.id, { attempts, error: err.message, nextAttemptAt: nowIso(next) }, `attempt ${attempts} failed: ${err.message}; next try ${nowIso(next)}`, now());
    log.warn({ printJob: job.id, printer: job.currentPrinterId, attempts, reason: err.message }, 'print attempt failed; will retry');
  };

  const attempt = async (job: PrintJobRow) => {
    if (!claimJob(deps.db, job.id, now())) return; // another process took it
    const sending = { ...job, state: 'sending' as const };
    const printer = deps.printers().get(job.currentPrinterId);
    if (!printer) return fail(sending, new PrintError(`printer ${job.currentPrinterId} is no longer configured`, false, 'no-printer'));
    let pdf: Buffer;
    try {
      pdf = deps.blobs.get(job.sha256);
    } catch (err) {
      return fail(sending, new PrintError(`the document to print is not available: ${(err as Error).message}`, false, 'no-document'));
    }
    try {
      if (job.mediaType === LABEL_MEDIA_TYPE) {
        const drawn = await labelForPrinter(JSON.parse(pdf.toString('utf8')) as LabelRequest, printer);
        if (drawn.format === 'zpl') {
          await sendRaw(printer, drawn.bytes);
          completeJob(deps.db, job.id, { attempts: job.attempts + 1 }, `sent to ${printer.id} (${drawn.bytes.length} bytes of ZPL); a raw printer does not report when it has printed`, now());
          return;
        }
        pdf = drawn.bytes;
      } else if (printer.kind === 'zpl') {
        throw new PrintError(`printer ${printer.id} prints labels and wristbands only (ZPL); a document cannot go to it`, false, 'labels-only');
      }
      // What is sent carries when and by whom it was printed; the stored document stays as it was.
      if (deps.marking) pdf = await stampPrintMarking(pdf, deps.marking(job, now()));
      if (printer.kind === 'folder') {
        const file = printToFolder(printer, deps.configDir, job, pdf);
        completeJob(deps.db, job.id, { attempts: job.attempts + 1 }, `written to ${path.basename(file)}`, now());
        return;
      }
      const status = await getPrinterStatus(printer, deps.configDir);
      assertCanPrint(printer, status);
      const sent = await submitPdf(printer, deps.configDir, pdf, { jobName: ippJobName(job), user: job.requestedBy.slice(0, 60), copies: job.copies, media: printer.defaults.media, sides: printer.defaults.sides }, status);
      markSent(deps.db, job.id, { ippJobId: sent.jobId, ippPrinterId: printer.id }, `accepted as job ${sent.jobId} at ${printer.id}`, now());
    } catch (err) {
      fail(sending, err as Error);
    }
  };

  const poll = async (job: PrintJobRow) => {
    const printer = job.ippPrinterId ? deps.printers().get(job.ippPrinterId) : undefined;
    if (!printer || job.ippJobId === null) return fail(job, new PrintError('lost track of the job at the printer', true, 'lost'));
    let st;
    try {
      st = await getJobStatus(printer, deps.configDir, job.ippJobId);
    } catch (err) {
      // The printer went away while printing: keep waiting; it may come back with the job.
      log.debug({ printJob: job.id, reason: (err as Error).message }, 'cannot poll the job now');
      return;
    }
    if (st.state === 'completed') {
      if (completeJob(deps.db, job.id, { attempts: job.attempts + 1 }, `printer reports completed${st.reasons.length ? ` (${st.reasons.join(', ')})` : ''}`, now())) {
        log.info({ printJob: job.id, printer: printer.id }, 'print job completed');
      }
    } else if (st.state === 'aborted' || st.state === 'canceled' || st.state === 'unknown') {
      fail(job, new PrintError(`printer ${printer.id} ${st.state === 'unknown' ? 'lost' : st.state} the job${st.message ? `: ${st.message}` : ''}${st.reasons.length ? ` (${st.reasons.join(', ')})` : ''}`, true, st.state));
    } else if (st.state === 'processing-stopped' || st.state === 'pending-held') {
      const detail = `waiting at the printer: ${st.reasons.join(', ') || st.state}`;
      if (job.error !== detail) noteWaiting(deps.db, job.id, detail, now());
    }
  };

  const tick = async () => {
    // Only the owner sends and polls; any other process leaves the queue to it and just waits on the rows.
    if (!(await own())) return;
    for (const j of listPrintJobs(deps.db, { states: ['processing'], limit: 500 })) {
      if (stopped) return;
      await poll(j);
    }
    for (const j of dueJobs(deps.db, now(), 50)) {
      if (stopped) return;
      await attempt(j);
    }
  };

  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    running = tick()
      .catch((err: unknown) => log.error({ err: errorFields(err) }, 'print queue tick failed'))
      .finally(() => {
        running = null;
        if (stopped) return;
        if (again) {
          again = false;
          setImmediate(run);
        } else {
          timer = setTimeout(run, pollMs);
          timer.unref();
        }
      });
  };
  setImmediate(run);

  return {
    kick: run,
    owner: () => owning,
    async waitFor(id, timeoutMs = 120_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const j = getPrintJob(deps.db, id);
        if (!j) throw new Error(`no print job ${id}`);
        if (FINAL_STATES.includes(j.state) || Date.now() > until) return j;
        await new Promise((r) => setTimeout(r, Math.min(pollMs, 200)));
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(heartbeat);
      await running;
      // A clean stop hands the queue on at once; a killed process's lease simply expires.
      if (owning) releaseLease(deps.db, PRINT_QUEUE_LEASE, holder);
      owning = false;
    },
  };
}
