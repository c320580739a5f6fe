import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { PrinterConfig } from '../config/schema.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { assertCanPrint, getJobStatus, getPrinterStatus, PrintError, submitPdf } from './ipp.js';
import { dueJobs, FINAL_STATES, getPrintJob, listPrintJobs, transition, type PrintJobRow } from './queue.js';

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
}

export interface PrintWorker {
  /** Look at the queue now rather than at the next poll. */
  kick(): void;
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

  // A job caught mid-send by a crash: the printer may or may not have it. Sending again
  // risks a duplicate page; not sending risks no paper at all. Paper wins.
  for (const j of listPrintJobs(deps.db, { states: ['sending'] })) {
    transition(deps.db, j.id, 'queued', { nextAttemptAt: nowIso(now()) }, 'resumed after a restart; sending again (the printer may print it twice)', now());
  }

  const fail = (job: PrintJobRow, err: Error) => {
    const retryable = err instanceof PrintError ? err.retryable : true;
    const attempts = job.attempts + 1;
    const printer = deps.printers().get(job.currentPrinterId);
    const fallback = printer?.fallback && deps.printers().has(printer.fallback) ? printer.fallback : null;
    // Every `failoverAfter` failures the job moves on to the printer's fallback (which may have its own).
    const switchNow = fallback !== null && fallback !== job.currentPrinterId && (!retryable || attempts % (printer?.failoverAfter ?? 3) === 0) && attempts < maxAttempts;
    if (switchNow) {
      transition(deps.db, job.id, 'queued', { attempts, currentPrinterId: fallback, nextAttemptAt: nowIso(now()), error: err.message, ippJobId: null, ippPrinterId: null }, `failover from ${job.currentPrinterId} to ${fallback}: ${err.message}`, now());
      log.warn({ printJob: job.id, from: job.currentPrinterId, to: fallback, reason: err.message }, 'print job moved to the fallback printer');
      return;
    }
    if (!retryable || attempts >= maxAttempts) {
      transition(deps.db, job.id, 'failed', { attempts, error: err.message, nextAttemptAt: null }, err.message, now());
      log.error({ printJob: job.id, printer: job.currentPrinterId, attempts, reason: err.message }, 'print job failed; staff can see it with the reason');
      return;
    }
    const next = new Date(now().getTime() + backoff(attempts));
    transition(deps.db, job.id, 'queued', { attempts, error: err.message, nextAttemptAt: nowIso(next), ippJobId: null, ippPrinterId: null }, `attempt ${attempts} failed: ${err.message}; next try ${nowIso(next)}`, now());
    log.warn({ printJob: job.id, printer: job.currentPrinterId, attempts, reason: err.message }, 'print attempt failed; will retry');
  };

  const attempt = async (job: PrintJobRow) => {
    const printer = deps.printers().get(job.currentPrinterId);
    if (!printer) return fail(job, new PrintError(`printer ${job.currentPrinterId} is no longer configured`, false, 'no-printer'));
    let pdf: Buffer;
    try {
      pdf = deps.blobs.get(job.sha256);
    } catch (err) {
      return fail(job, new PrintError(`the document to print is not available: ${(err as Error).message}`, false, 'no-document'));
    }
    if (!transition(deps.db, job.id, 'sending', {}, null, now(), 'queued')) return; // another process took it
    try {
      if (printer.kind === 'folder') {
        const file = printToFolder(printer, deps.configDir, job, pdf);
        transition(deps.db, job.id, 'completed', { attempts: job.attempts + 1, error: null }, `written to ${path.basename(file)}`, now());
        return;
      }
      const status = await getPrinterStatus(printer, deps.configDir);
      assertCanPrint(printer, status);
      const sent = await submitPdf(printer, deps.configDir, pdf, { jobName: job.jobName, user: job.requestedBy.slice(0, 60), copies: job.copies, media: printer.defaults.media, sides: printer.defaults.sides }, status);
      transition(deps.db, job.id, 'processing', { ippJobId: sent.jobId, ippPrinterId: printer.id }, `accepted as job ${sent.jobId} at ${printer.id}`, now());
    } catch (err) {
      fail({ ...job, state: 'sending' }, err as Error);
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
      if (transition(deps.db, job.id, 'completed', { attempts: job.attempts + 1, error: null }, `printer reports completed${st.reasons.length ? ` (${st.reasons.join(', ')})` : ''}`, now(), 'processing')) {
        log.info({ printJob: job.id, printer: printer.id }, 'print job completed');
      }
    } else if (st.state === 'aborted' || st.state === 'canceled' || st.state === 'unknown') {
      fail(job, new PrintError(`printer ${printer.id} ${st.state === 'unknown' ? 'lost' : st.state} the job${st.message ? `: ${st.message}` : ''}${st.reasons.length ? ` (${st.reasons.join(', ')})` : ''}`, true, st.state));
    } else if (st.state === 'processing-stopped' || st.state === 'pending-held') {
      const detail = `waiting at the printer: ${st.reasons.join(', ') || st.state}`;
      if (job.error !== detail) transition(deps.db, job.id, 'processing', { error: detail }, detail, now());
    }
  };

  const tick = async () => {
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
      .catch((err: unknown) => log.error({ err: { message: (err as Error).message } }, 'print queue tick failed'))
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
      await running;
    },
  };
}
