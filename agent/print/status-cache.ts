import fs from 'node:fs';
import path from 'node:path';
import type { PrinterConfig } from '../config/schema.js';
import { getPrinterStatus, type PrinterStatus } from './ipp.js';
import { probeRaw } from './raw-socket.js';

export interface PrinterStatusCache {
  refresh(): Promise<void>;
  get(id: string): (PrinterStatus & { checkedAt: string }) | null;
  all(): Map<string, PrinterStatus & { checkedAt: string }>;
}

/** A folder printer is "reachable" when its folder exists (or can be made) and is writable. */
function folderStatus(p: PrinterConfig, configDir: string): PrinterStatus {
  const dir = path.resolve(configDir, p.uri);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return { reachable: true, state: 'idle', reasons: [], message: null, accepting: true, formats: ['application/pdf'], media: [], operations: [], error: null };
  } catch (err) {
    return { reachable: false, state: 'unknown', reasons: [], message: null, accepting: false, formats: [], media: [], operations: [], error: `folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/** A raw (ZPL) printer says nothing about itself: reachable is all there is to know. */
async function rawStatus(p: PrinterConfig, timeoutMs: number): Promise<PrinterStatus> {
  const r = await probeRaw(p, timeoutMs);
  return { reachable: r.reachable, state: r.reachable ? 'idle' : 'unknown', reasons: [], message: r.reachable ? r.detail : null, accepting: r.reachable, formats: ['application/vnd.zebra-zpl'], media: [], operations: [], error: r.reachable ? null : r.detail };
}

/** One printer's live state, whatever its kind: a folder's writability, a raw printer's reachability, an IPP printer's own word. */
export function printerStatus(p: PrinterConfig, configDir: string, timeoutMs = 3000): Promise<PrinterStatus> {
  return p.kind === 'folder' ? Promise.resolve(folderStatus(p, configDir)) : p.kind === 'zpl' ? rawStatus(p, timeoutMs) : getPrinterStatus(p, configDir, timeoutMs);
}

/** Live printer states, refreshed by the outage monitor each round, read by readiness, metrics and pages. */
export function printerStatusCache(printers: () => Map<string, PrinterConfig>, configDir: string, timeoutMs = 3000): PrinterStatusCache {
  const cache = new Map<string, PrinterStatus & { checkedAt: string }>();
  return {
    async refresh() {
      const list = [...printers().values()];
      const results = await Promise.all(list.map(async (p) => [p.id, await printerStatus(p, configDir, timeoutMs)] as const));
      cache.clear();
      for (const [id, st] of results) cache.set(id, { ...st, checkedAt: new Date().toISOString() });
    },
    get: (id) => cache.get(id) ?? null,
    all: () => cache,
  };
}
