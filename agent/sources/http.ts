import http from 'node:http';
import https from 'node:https';
import { PaperbackError } from '../log/errors.js';
import { abortableSleep } from '../model/abort.js';

/** Why a request to a central system failed, in words IT can act on. No patient data. */
export class SourceError extends PaperbackError {
  constructor(
    message: string,
    readonly info: { url?: string; status?: number; retryable: boolean; code?: string },
  ) {
    super(info.code ?? (info.status ? `http-${info.status}` : 'source'), message, { retryable: info.retryable });
  }
}

export interface HttpOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  retries: number;
  /** Base delay for exponential backoff; tests pass small values. */
  backoffMs?: number;
  /** Longest Retry-After honoured before giving up on the request. */
  maxRetryAfterMs?: number;
  ca?: Buffer;
  maxConcurrency: number;
  /** Async headers (e.g. Authorization); called per attempt so refreshed tokens are used. */
  headers?: () => Promise<Record<string, string>>;
  /** Called when the server says 401, so an auth layer can drop a cached token once. */
  onUnauthorized?: () => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A counting semaphore: at most `n` requests to one central system in flight. */
export function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** A whole answer may take this many times the per-pause timeout, however it trickles in. */
const WHOLE_ANSWER_FACTOR = 4;

function once(url: URL, opts: HttpOptions, headers: Record<string, string>, signal?: AbortSignal, send?: { body: Buffer; contentType: string }): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: send ? 'POST' : 'GET', headers: { accept: 'application/fhir+json, application/json', ...(send ? { 'content-type': send.contentType, 'content-length': String(send.body.length) } : {}), ...headers }, ca: opts.ca, signal });
    // Covers connecting and every pause in the response: a server that stops talking is abandoned.
    req.setTimeout(opts.timeoutMs, () => req.destroy(new SourceError(`no answer within ${opts.timeoutMs} ms from ${url.host}`, { url: url.origin + url.pathname, retryable: true, code: 'timeout' })));
    // And the whole answer has a deadline: a server that drips a byte before each pause runs out would hold the run forever.
    const wholeMs = opts.timeoutMs * WHOLE_ANSWER_FACTOR;
    const deadline = setTimeout(() => req.destroy(new SourceError(`the answer from ${url.host} took longer than ${Math.round(wholeMs / 1000)} s (${WHOLE_ANSWER_FACTOR} × timeoutMs) to arrive`, { url: url.origin + url.pathname, retryable: true, code: 'timeout' })), wholeMs);
    req.once('close', () => clearTimeout(deadline));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof SourceError) return reject(err);
      if (signal?.aborted) return reject(signal.reason);
      reject(new SourceError(`cannot reach ${url.host}: ${err.code ?? err.message}`, { url: url.origin + url.pathname, retryable: true, code: err.code }));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > opts.maxResponseBytes) {
        res.destroy();
        req.destroy();
        return reject(new SourceError(`response of ${declared} bytes from ${url.host} exceeds the cap of ${opts.maxResponseBytes}`, { url: url.origin + url.pathname, retryable: false, code: 'too-large' }));
      }
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxResponseBytes) {
          // Reject first: once a response has begun, destroying the request emits no error of its own.
          reject(new SourceError(`response from ${url.host} exceeds the cap of ${opts.maxResponseBytes} bytes`, { url: url.origin + url.pathname, retryable: false, code: 'too-large' }));
          res.destroy();
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('close', () => {
        if (!res.complete) reject(new SourceError(`the connection to ${url.host} closed before the answer was complete`, { url: url.origin + url.pathname, retryable: true, code: 'truncated' }));
      });
      res.on('error', (err) => reject(err instanceof SourceError ? err : new SourceError(`connection to ${url.host} broke: ${err.message}`, { url: url.origin + url.pathname, retryable: true })));
    });
    req.end(send?.body);
  });
}

function retryAfterMs(h: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/**
 * GET with retries: network errors, timeouts, 429 and 5xx are retried with
 * exponential backoff (or the server's Retry-After); other 4xx are not,
 * because asking again will not change the answer.
 */
export function httpGetter(opts: HttpOptions) {
  const limit = limiter(opts.maxConcurrency);
  const sleep = opts.sleep ?? abortableSleep;
  const backoff = opts.backoffMs ?? 500;
  let count = 0;
  const get = async (rawUrl: string, signal?: AbortSignal): Promise<HttpResponse> => {
    const url = new URL(rawUrl);
    let lastErr: SourceError | null = null;
    let reauthed = false;
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      if (signal?.aborted) throw signal.reason;
      let wait = backoff * 2 ** attempt * (0.75 + Math.random() * 0.5);
      try {
        const headers = (await opts.headers?.()) ?? {};
        count++;
        const res = await limit(() => once(url, opts, headers, signal));
        if (res.status >= 200 && res.status < 300) return res;
        const where = url.origin + url.pathname;
        if (res.status === 401 && opts.onUnauthorized && !reauthed) {
          reauthed = true;
          opts.onUnauthorized();
          attempt--;
          continue;
        }
        if (res.status === 429 || res.status >= 500) {
          lastErr = new SourceError(`${url.host} answered HTTP ${res.status} to ${requestName(url)}${outcomeText(res.body)}`, { url: where, status: res.status, retryable: true });
          const ra = retryAfterMs(res.headers['retry-after']);
          if (ra !== null) {
            if (ra > (opts.maxRetryAfterMs ?? 120_000)) throw new SourceError(`${url.host} asked to retry after ${Math.round(ra / 1000)} s, longer than this run can wait`, { url: where, status: res.status, retryable: false });
            wait = ra;
          }
        } else {
          throw new SourceError(`${url.host} refused ${requestName(url)}: HTTP ${res.status}${outcomeText(res.body)}`, { url: where, status: res.status, retryable: false });
        }
      } catch (err) {
        if (!(err instanceof SourceError) || !err.retryable) throw err;
        lastErr = err;
      }
      if (attempt < opts.retries) await sleep(wait, signal);
    }
    throw lastErr ?? new SourceError('request failed', { retryable: false });
  };
  /**
   * One POST, not retried here: what is sent back (file-back) is made safe to
   * send again by its own identifiers, and its caller decides when to try again.
   * Any answer comes back, with its status; only a request that got none throws.
   */
  const post = async (rawUrl: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<HttpResponse> => {
    const url = new URL(rawUrl);
    const headers = (await opts.headers?.()) ?? {};
    count++;
    const res = await limit(() => once(url, opts, headers, signal, { body, contentType }));
    if (res.status === 401 && opts.onUnauthorized) {
      opts.onUnauthorized();
      return limit(async () => once(url, opts, (await opts.headers?.()) ?? {}, signal, { body, contentType }));
    }
    return res;
  };
  return { get, post, requestCount: () => count };
}

/**
 * What was asked, for an error IT can act on: "the MedicationRequest search"
 * (the FHIR resource type in the path), never the query, which can hold a
 * patient id or MRN.
 */
function requestName(url: URL): string {
  const type = url.pathname.split('/').reverse().find((seg) => /^[A-Z][A-Za-z]+$/.test(seg));
  return type ? `the ${type} ${url.pathname.endsWith(type) ? 'search' : 'read'}` : `the request for ${url.pathname.slice(0, 80)}`;
}

/** The diagnostics of an OperationOutcome body, if the server sent one (never patient data in ours). */
function outcomeText(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { resourceType?: string; issue?: { diagnostics?: string; details?: { text?: string } }[] };
    if (j.resourceType !== 'OperationOutcome') return '';
    const t = j.issue?.map((i) => i.diagnostics ?? i.details?.text).filter(Boolean).join('; ');
    return t ? ` (${t.slice(0, 200)})` : '';
  } catch {
    return '';
  }
}
