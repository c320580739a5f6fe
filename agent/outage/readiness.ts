import fs from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import { ATTENTION_REASONS } from '../print/ipp.js';
import type { PrinterStatusCache } from '../print/status-cache.js';
import type { Db } from '../store/db.js';
import { currentSnapshot } from '../store/snapshots.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

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
    checks.push({
      name: `snapshot:${job.id}`,
      ok: age !== null && age <= job.maxAgeMinutes * 60,
      detail: age === null ? 'no snapshot yet' : `data ${Math.round(age / 60)} min old (limit ${job.maxAgeMinutes} min)`,
    });
  }
  const needed = new Set([...config.jobs.values()].filter((j) => j.enabled && j.downtime.printer).map((j) => j.downtime.printer!));
  for (const id of needed) {
    const st = input.printers.get(id);
    const attention = st?.reasons.filter((r) => ATTENTION_REASONS.test(r)) ?? [];
    const ok = !!st && st.reachable && st.state !== 'stopped' && st.accepting && attention.length === 0;
    checks.push({
      name: `printer:${id}`,
      ok,
      detail: !st ? 'not checked yet' : !st.reachable ? st.error ?? 'unreachable' : !ok ? `${st.state}${attention.length ? `: ${attention.join(', ')}` : ''}${st.accepting ? '' : ', not accepting jobs'}` : `${st.state}, ready`,
    });
  }
  try {
    const s = fs.statfsSync(config.dataDir);
    const freeMb = (s.bavail * s.bsize) / 1024 / 1024;
    checks.push({ name: 'disk', ok: freeMb >= config.box.readiness.minFreeDiskMb, detail: `${Math.round(freeMb)} MB free (floor ${config.box.readiness.minFreeDiskMb} MB)` });
  } catch (err) {
    checks.push({ name: 'disk', ok: false, detail: `cannot check ${config.dataDir}: ${(err as Error).message}` });
  }
  const skew = input.clockSkewSeconds;
  const sane = now.getUTCFullYear() >= 2024 && (skew === null || Math.abs(skew) <= config.box.readiness.maxClockSkewSeconds);
  checks.push({ name: 'clock', ok: sane, detail: skew === null ? `no reference clock yet (local ${now.toISOString()})` : `${skew >= 0 ? '+' : ''}${skew} s against the HIS (limit ±${config.box.readiness.maxClockSkewSeconds} s)` });
  return { ready: checks.every((c) => c.ok), checkedAt: now.toISOString(), checks };
}
