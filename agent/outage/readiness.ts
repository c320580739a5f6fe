import fs from 'node:fs';
import { formatDateTime } from '../render/i18n.js';
import type { LoadedConfig } from '../config/load.js';
import { ATTENTION_REASONS } from '../print/ipp.js';
import type { PrinterStatusCache } from '../print/status-cache.js';
import type { Db } from '../store/db.js';
import { currentSnapshot } from '../store/snapshots.js';
import { heldCensus } from '../schedule/held-census.js';
import { numberUsage } from '../store/downtime-numbers.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /** In English, for /api/readiness, metrics and logs. */
  detail: string;
  /** The same for the IT page, in its language: a wording key (templates/i18n), its values, and values that are wording keys themselves. */
  say: { key: string; vars?: Record<string, string | number>; words?: Record<string, string> };
}

const PRINTER_STATES = new Set(['idle', 'processing', 'stopped']);

export interface Readiness {
  ready: boolean;
  checkedAt: string;
  checks: ReadinessCheck[];
}

/**
 * Is this box ready for the HIS to go down now? Every job has a fresh
 * snapshot, every downtime printer answers and needs nobody's attention, the
 * disk has room, and the clock can be trusted (times on paper depend on it).
 */
export function computeReadiness(input: { config: LoadedConfig; db: Db; printers: PrinterStatusCache; clockSkewSeconds: number | null; now: Date }): Readiness {
  const { config, db, now } = input;
  const checks: ReadinessCheck[] = [];
  for (const job of config.jobs.values()) {
    if (!job.enabled) continue;
    const cur = currentSnapshot(db, job.id);
    const age = cur?.asOf ? (now.getTime() - Date.parse(cur.asOf)) / 1000 : null;
    const minutes = age === null ? null : Math.round(age / 60);
    checks.push({
      name: `snapshot:${job.id}`,
      ok: age !== null && age <= job.maxAgeMinutes * 60,
      detail: minutes === null ? 'no snapshot yet' : `data ${minutes} min old (limit ${job.maxAgeMinutes} min)`,
      say: minutes === null ? { key: 'ui.readiness.noSnapshot' } : { key: 'ui.readiness.dataAge', vars: { minutes, limit: job.maxAgeMinutes } },
    });
    // A held census means the box's newest idea of the ward is in doubt: not ready until someone decides.
    const h = heldCensus(db, job.id);
    if (h) {
      checks.push({ name: `census:${job.id}`, ok: false, detail: `newest census held (snapshot ${h.held.id}): ${h.reason}`, say: { key: 'ui.readiness.censusHeld', vars: { snapshot: h.held.id, patients: h.held.counts.patients ?? '?', current: cur?.counts.patients ?? '?' } } });
    }
  }
  const needed = new Set([...config.jobs.values()].filter((j) => j.enabled && j.downtime.printer).map((j) => j.downtime.printer!));
  for (const id of needed) {
    const st = input.printers.get(id);
    const attention = st?.reasons.filter((r) => ATTENTION_REASONS.test(r)) ?? [];
    const ok = !!st && st.reachable && st.state !== 'stopped' && st.accepting && attention.length === 0;
    // IPP's own words (reasons, errors) stay as the printer said them; the state is put in the page's language.
    const state = st && PRINTER_STATES.has(st.state) ? { state: `ui.readiness.printer.${st.state}` } : undefined;
    checks.push({
      name: `printer:${id}`,
      ok,
      detail: !st ? 'not checked yet' : !st.reachable ? st.error ?? 'unreachable' : !ok ? `${st.state}${attention.length ? `: ${attention.join(', ')}` : ''}${st.accepting ? '' : ', not accepting jobs'}` : `${st.state}, ready`,
      say: !st
        ? { key: 'ui.readiness.printerNotChecked' }
        : !st.reachable
          ? { key: 'ui.readiness.printerUnreachable', vars: { error: st.error ?? '' } }
          : { key: ok ? 'ui.readiness.printerReady' : st.accepting ? 'ui.readiness.printerNotReady' : 'ui.readiness.printerRefusing', vars: { state: st.state, reasons: attention.join(', ') }, words: state },
    });
  }
  try {
    const s = fs.statfsSync(config.dataDir);
    const freeMb = (s.bavail * s.bsize) / 1024 / 1024;
    const vars = { free: Math.round(freeMb), floor: config.box.readiness.minFreeDiskMb };
    checks.push({ name: 'disk', ok: freeMb >= vars.floor, detail: `${vars.free} MB free (floor ${vars.floor} MB)`, say: { key: 'ui.readiness.disk', vars } });
  } catch (err) {
    const detail = `cannot check ${config.dataDir}: ${(err as Error).message}`;
    checks.push({ name: 'disk', ok: false, detail, say: { key: 'ui.readiness.diskUnchecked', vars: { dir: config.dataDir, error: (err as Error).message } } });
  }
  const skew = input.clockSkewSeconds;
  const sane = now.getUTCFullYear() >= 2024 && (skew === null || Math.abs(skew) <= config.box.readiness.maxClockSkewSeconds);
  const limit = config.box.readiness.maxClockSkewSeconds;
  const signed = skew === null ? '' : `${skew >= 0 ? '+' : ''}${skew}`;
  checks.push({
    name: 'clock',
    ok: sane,
    detail: skew === null ? `no reference clock yet (local ${formatDateTime(now.toISOString(), input.config.box.timeZone) ?? now.toISOString()})` : `${signed} s against the HIS (limit ±${limit} s)`,
    say: skew === null ? { key: 'ui.readiness.clockUnchecked', vars: { local: now.toISOString() } } : { key: 'ui.readiness.clock', vars: { skew: signed, limit } },
  });
  // Downtime numbers, where the box holds any: running out is found before the admission that needs one.
  const numbers = numberUsage(db);
  if (numbers.total > 0) {
    const warnAt = config.box.downtimeNumbers.warnAtPercent;
    const vars = { free: numbers.free, total: numbers.total, used: numbers.percentUsed, warnAt };
    checks.push({ name: 'downtime-numbers', ok: numbers.free > 0 && numbers.percentUsed < warnAt, detail: `${numbers.free} of ${numbers.total} downtime numbers left (${numbers.percentUsed}% used; warns at ${warnAt}%)`, say: { key: 'ui.readiness.downtimeNumbers', vars } });
  }
  return { ready: checks.every((c) => c.ok), checkedAt: now.toISOString(), checks };
}
