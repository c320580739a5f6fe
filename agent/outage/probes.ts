import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { SourceConfig } from '../config/schema.js';
import type { Source } from '../sources/types.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
  /** The server's clock from its Date header, when it sent one (for the clock check). */
  serverDate: Date | null;
}

function httpProbe(url: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? https : http).get(u, { timeout: timeoutMs }, (res) => {
      res.resume();
      const date = res.headers.date ? new Date(res.headers.date) : null;
      const ok = (res.statusCode ?? 0) < 500;
      resolve({ ok, detail: ok ? `HTTP ${res.statusCode}` : `HTTP ${res.statusCode} from ${u.host}`, serverDate: date && !Number.isNaN(date.getTime()) ? date : null });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `${u.host}: ${err.code ?? err.message}`, serverDate: null }));
  });
}

function tcpProbe(target: string, timeoutMs: number): Promise<ProbeResult> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve({ ok: true, detail: 'TCP connect', serverDate: null });
    });
    s.once('timeout', () => {
      s.destroy();
      resolve({ ok: false, detail: `${target}: no connection within ${timeoutMs} ms`, serverDate: null });
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `${target}: ${err.code ?? err.message}`, serverDate: null }));
  });
}

/** One heartbeat for a source: its configured URL or TCP port, else the FHIR /metadata of the running source. */
export async function probeSource(cfg: SourceConfig, source: Source | undefined, timeoutMs: number): Promise<ProbeResult> {
  const hb = 'heartbeat' in cfg ? cfg.heartbeat : undefined;
  if (hb?.tcp) return tcpProbe(hb.tcp, timeoutMs);
  if (hb?.url) return httpProbe(hb.url, timeoutMs);
  const base = source?.info.location;
  if ((cfg.kind === 'fhir' || cfg.kind === 'demo') && base) return httpProbe(`${base.replace(/\/+$/, '')}/metadata`, timeoutMs);
  if (!source) return { ok: false, detail: 'source not running', serverDate: null };
  try {
    await source.probe(AbortSignal.timeout(timeoutMs));
    return { ok: true, detail: 'probe ok', serverDate: null };
  } catch (err) {
    return { ok: false, detail: (err as Error).message, serverDate: null };
  }
}
