import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import ipp, { type IppMessage, type IppResponse } from '@sealsystems/ipp';
import type { PrinterConfig } from '../config/schema.js';
import { PaperbackError } from '../log/errors.js';

/** Why a printer could not take or finish a job, in words staff can act on. */
export class PrintError extends PaperbackError {
  constructor(
    message: string,
    /** retryable: try again later (busy, unreachable, stopped); false: this printer will never take it. */
    retryable: boolean,
    code: string,
  ) {
    super(code, message, { retryable });
  }
}

export interface PrinterStatus {
  reachable: boolean;
  state: 'idle' | 'processing' | 'stopped' | 'unknown';
  reasons: string[];
  message: string | null;
  accepting: boolean;
  formats: string[];
  media: string[];
  operations: string[];
  error: string | null;
}

export interface JobStatus {
  state: 'pending' | 'pending-held' | 'processing' | 'processing-stopped' | 'canceled' | 'aborted' | 'completed' | 'unknown';
  reasons: string[];
  message: string | null;
}

const asList = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Printer-state reasons that mean a person must act at the printer. */
export const ATTENTION_REASONS = /media-empty|media-jam|media-needed|toner-empty|marker-supply-empty|door-open|cover-open|offline|paused|shutdown|stopped/;

function printerFor(cfg: PrinterConfig, configDir: string, timeoutMs: number) {
  const agent = cfg.uri.startsWith('ipps:') && cfg.caFile ? new https.Agent({ ca: fs.readFileSync(path.resolve(configDir, cfg.caFile)), keepAlive: false }) : undefined;
  return ipp.Printer(cfg.uri, { timeout: timeoutMs, agent });
}

function exec(cfg: PrinterConfig, configDir: string, op: string, msg: IppMessage, timeoutMs: number): Promise<IppResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: PrintError) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    };
    // The library's own timeout only covers the socket; this bounds the whole exchange.
    const timer = setTimeout(() => fail(new PrintError(`printer ${cfg.id} did not answer ${op} within ${timeoutMs} ms`, true, 'timeout')), timeoutMs + 1000);
    try {
      printerFor(cfg, configDir, timeoutMs).execute(op, msg, (err, res) => {
        clearTimeout(timer);
        if (settled) return;
        if (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'error';
          return fail(new PrintError(`cannot reach printer ${cfg.id} (${new URL(cfg.uri.replace(/^ipps?:/, 'http:')).host}): ${code === 'error' ? err.message : code}`, true, 'unreachable'));
        }
        settled = true;
        resolve(res);
      });
    } catch (err) {
      clearTimeout(timer);
      fail(new PrintError(`printer ${cfg.id}: ${(err as Error).message}`, false, 'client'));
    }
  });
}

function checkStatus(cfg: PrinterConfig, op: string, res: IppResponse): void {
  const s = res.statusCode;
  if (s.startsWith('successful')) return;
  if (s === 'server-error-busy' || s === 'server-error-service-unavailable' || s === 'server-error-temporary-error') throw new PrintError(`printer ${cfg.id} is busy (${s}); will retry`, true, 'busy');
  if (s === 'server-error-not-accepting-jobs') throw new PrintError(`printer ${cfg.id} is not accepting jobs`, true, 'not-accepting');
  if (s === 'client-error-document-format-not-supported') throw new PrintError(pdfNotSupported(cfg), false, 'format');
  throw new PrintError(`printer ${cfg.id} refused ${op}: ${s}`, s.startsWith('server-error'), s);
}

const pdfNotSupported = (cfg: PrinterConfig) =>
  `printer ${cfg.id} does not accept PDF. Send to it through a CUPS queue (ipp://localhost:631/printers/NAME), which converts PDF for the printer.`;

export async function getPrinterStatus(cfg: PrinterConfig, configDir: string, timeoutMs = 5000): Promise<PrinterStatus> {
  try {
    const res = await exec(cfg, configDir, 'Get-Printer-Attributes', {
      'operation-attributes-tag': {
        'requested-attributes': ['printer-state', 'printer-state-reasons', 'printer-state-message', 'printer-is-accepting-jobs', 'document-format-supported', 'media-supported', 'operations-supported'],
      },
    }, timeoutMs);
    checkStatus(cfg, 'Get-Printer-Attributes', res);
    const a = res['printer-attributes-tag'] ?? {};
    const state = String(a['printer-state'] ?? 'unknown');
    return {
      reachable: true,
      state: state === 'idle' || state === 'processing' || state === 'stopped' ? state : 'unknown',
      reasons: asList(a['printer-state-reasons']).filter((r) => r !== 'none'),
      message: a['printer-state-message'] ? String(a['printer-state-message']) : null,
      accepting: a['printer-is-accepting-jobs'] !== false,
      formats: asList(a['document-format-supported']),
      media: asList(a['media-supported']),
      operations: asList(a['operations-supported']),
      error: null,
    };
  } catch (err) {
    return { reachable: false, state: 'unknown', reasons: [], message: null, accepting: false, formats: [], media: [], operations: [], error: (err as Error).message };
  }
}

/** Refuse early, with a reason, when the printer cannot take a job now or ever. */
export function assertCanPrint(cfg: PrinterConfig, st: PrinterStatus): void {
  if (!st.reachable) throw new PrintError(st.error ?? `printer ${cfg.id} is unreachable`, true, 'unreachable');
  // application/octet-stream only means "I guess the format": without application/pdf listed, PDF is a gamble.
  if (st.formats.length > 0 && !st.formats.includes('application/pdf')) throw new PrintError(pdfNotSupported(cfg), false, 'format');
  if (st.state === 'stopped') throw new PrintError(`printer ${cfg.id} is stopped${st.reasons.length ? ` (${st.reasons.join(', ')})` : ''}${st.message ? `: ${st.message}` : ''}`, true, 'stopped');
  if (!st.accepting) throw new PrintError(`printer ${cfg.id} is not accepting jobs`, true, 'not-accepting');
}

export interface SubmitOptions {
  jobName: string;
  user: string;
  copies: number;
  media: string;
  sides: string;
}

export async function submitPdf(cfg: PrinterConfig, configDir: string, pdf: Buffer, o: SubmitOptions, st: PrinterStatus, timeoutMs = 60_000): Promise<{ jobId: number; jobUri: string }> {
  const jobAttrs: Record<string, unknown> = { copies: o.copies, sides: o.sides };
  // Only send media the printer lists, or CUPS/IPP Everywhere may refuse or shrink the page.
  if (st.media.length === 0 || st.media.includes(o.media)) jobAttrs.media = o.media;
  const op = { 'requesting-user-name': o.user, 'job-name': o.jobName, 'document-format': 'application/pdf' };
  if (st.operations.includes('Validate-Job')) {
    const v = await exec(cfg, configDir, 'Validate-Job', { 'operation-attributes-tag': op, 'job-attributes-tag': jobAttrs }, timeoutMs);
    checkStatus(cfg, 'Validate-Job', v);
  }
  const res = await exec(cfg, configDir, 'Print-Job', { 'operation-attributes-tag': op, 'job-attributes-tag': jobAttrs, data: pdf }, timeoutMs);
  checkStatus(cfg, 'Print-Job', res);
  const j = res['job-attributes-tag'] ?? {};
  const jobId = Number(j['job-id']);
  if (!Number.isInteger(jobId)) throw new PrintError(`printer ${cfg.id} accepted the job but returned no job id`, true, 'no-job-id');
  return { jobId, jobUri: String(j['job-uri'] ?? `${cfg.uri}/${jobId}`) };
}

export async function getJobStatus(cfg: PrinterConfig, configDir: string, jobId: number, timeoutMs = 10_000): Promise<JobStatus> {
  const res = await exec(cfg, configDir, 'Get-Job-Attributes', { 'operation-attributes-tag': { 'job-id': jobId, 'requested-attributes': ['job-state', 'job-state-reasons', 'job-state-message'] } }, timeoutMs);
  if (res.statusCode === 'client-error-not-found') return { state: 'unknown', reasons: ['job-not-found'], message: 'the printer no longer knows this job' };
  checkStatus(cfg, 'Get-Job-Attributes', res);
  const j = res['job-attributes-tag'] ?? {};
  const state = String(j['job-state'] ?? 'unknown') as JobStatus['state'];
  return { state, reasons: asList(j['job-state-reasons']), message: j['job-state-message'] ? String(j['job-state-message']) : null };
}

/**
 * The printer's job with this exact name, if it has one (Get-Jobs, completed
 * ones included). Used after a crash mid-send: a job whose name the printer
 * knows was received and must not be sent again.
 */
export async function findJobByName(cfg: PrinterConfig, configDir: string, jobName: string, timeoutMs = 10_000): Promise<number | null> {
  const res = await exec(cfg, configDir, 'Get-Jobs', { 'operation-attributes-tag': { 'requesting-user-name': 'paperback', 'which-jobs': 'all', 'requested-attributes': ['job-id', 'job-name'] } }, timeoutMs);
  checkStatus(cfg, 'Get-Jobs', res);
  const tags = res['job-attributes-tag'];
  const jobs = (Array.isArray(tags) ? tags : tags ? [tags] : []) as Record<string, unknown>[];
  const hit = jobs.find((j) => String(j['job-name'] ?? '') === jobName);
  return hit ? Number(hit['job-id']) : null;
}
