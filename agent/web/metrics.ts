import { Gauge, Registry } from 'prom-client';
import type { LoadedConfig } from '../config/load.js';
import type { OutageStatus } from '../outage/monitor.js';
import type { Readiness } from '../outage/readiness.js';
import { queueDepth } from '../print/queue.js';
import type { PrinterStatusCache } from '../print/status-cache.js';
import type { Db } from '../store/db.js';
import type { DiskReserve } from '../store/disk-space.js';
import { jobStatuses } from '../schedule/status.js';
import { numberUsage } from '../store/downtime-numbers.js';

export interface MetricsSources {
  config: () => LoadedConfig;
  db: Db;
  outage?: () => OutageStatus;
  readiness?: () => Readiness;
  printers?: PrinterStatusCache;
  auditHeld?: () => number;
  reserve?: DiskReserve;
}

const LINK_STATES = ['online', 'degraded', 'offline', 'recovering'] as const;
const PRINTER_STATES = ['idle', 'processing', 'stopped', 'unknown'] as const;

/** Prometheus metrics for the fleet: computed from the store and the monitors at scrape time. */
export function metricsRegistry(src: MetricsSources): Registry {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[], collect: (gauge: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });

  g('paperback_snapshot_age_seconds', 'Age of the data in each job\'s current snapshot', ['job'], (m) => {
    for (const j of jobStatuses(src.config(), src.db)) if (j.current?.ageSeconds != null) m.set({ job: j.id }, j.current.ageSeconds);
  });
  g('paperback_snapshot_stale', '1 when a job\'s snapshot is older than its maxAgeMinutes (or missing)', ['job'], (m) => {
    for (const j of jobStatuses(src.config(), src.db)) m.set({ job: j.id }, !j.current || j.current.stale ? 1 : 0);
  });
  g('paperback_last_run_success', '1 when the job\'s last run succeeded', ['job'], (m) => {
    for (const j of jobStatuses(src.config(), src.db)) if (j.lastRun) m.set({ job: j.id }, j.lastRun.status === 'succeeded' ? 1 : 0);
  });
  g('paperback_census_held', '1 while a job\'s newest census is held (not published) by its drop guard, waiting for an admin', ['job'], (m) => {
    for (const j of jobStatuses(src.config(), src.db)) m.set({ job: j.id }, j.held ? 1 : 0);
  });
  g('paperback_source_state', 'Current state of each central system (1 for the current state)', ['source', 'state'], (m) => {
    const st = src.outage?.();
    if (!st) return;
    for (const [id, link] of Object.entries(st.sources)) for (const s of LINK_STATES) m.set({ source: id, state: s }, link.state === s ? 1 : 0);
  });
  g('paperback_downtime_active', '1 while a downtime (detected, declared or planned) is active', [], (m) => {
    const st = src.outage?.();
    m.set(st?.downtime ? 1 : 0);
  });
  g('paperback_print_queue_depth', 'Print jobs by state', ['state'], (m) => {
    const d = queueDepth(src.db);
    m.set({ state: 'queued' }, d.queued);
    m.set({ state: 'processing' }, d.processing);
    m.set({ state: 'failed' }, d.failed);
  });
  g('paperback_downtime_numbers', 'Downtime numbers this box holds, by state (free = still to give out)', ['state'], (m) => {
    const u = numberUsage(src.db);
    m.set({ state: 'free' }, u.free);
    m.set({ state: 'issued' }, u.issued);
  });
  g('paperback_printer_up', '1 when the printer answers and is not stopped', ['printer'], (m) => {
    for (const [id, st] of src.printers?.all() ?? []) m.set({ printer: id }, st.reachable && st.state !== 'stopped' ? 1 : 0);
  });
  g('paperback_printer_state', 'Printer state (1 for the current state)', ['printer', 'state'], (m) => {
    for (const [id, st] of src.printers?.all() ?? []) for (const s of PRINTER_STATES) m.set({ printer: id, state: s }, st.state === s ? 1 : 0);
  });
  g('paperback_ready', '1 when the box is ready for a downtime (all readiness checks pass)', [], (m) => {
    const r = src.readiness?.();
    if (r) m.set(r.ready ? 1 : 0);
  });
  g('paperback_hl7_messages', 'HL7 ADT messages stored per source, by what became of them (stored = waiting to be applied)', ['source', 'status'], (m) => {
    for (const r of src.db.prepare('SELECT source_id AS source, status, COUNT(*) AS n FROM hl7_messages GROUP BY source_id, status').all() as { source: string; status: string; n: number }[]) m.set({ source: r.source, status: r.status }, r.n);
  });
  g('paperback_hl7_last_message_timestamp_seconds', 'When the last HL7 message from each source arrived (Unix time): a feed that falls silent shows here', ['source'], (m) => {
    for (const r of src.db.prepare('SELECT source_id AS source, MAX(received_at) AS at FROM hl7_messages GROUP BY source_id').all() as { source: string; at: string }[]) m.set({ source: r.source }, Math.floor(Date.parse(r.at) / 1000));
  });
  g('paperback_hl7_quarantined', 'HL7 messages and frames kept in quarantine per source, by the answer given (AE, AR, none for a discarded partial frame)', ['source', 'ack'], (m) => {
    for (const r of src.db.prepare('SELECT source_id AS source, ack_code AS ack, COUNT(*) AS n FROM hl7_quarantine GROUP BY source_id, ack_code').all() as { source: string; ack: string; n: number }[]) m.set({ source: r.source, ack: r.ack }, r.n);
  });
  g('paperback_disk_free_bytes', 'Free space on the data disk', [], (m) => {
    const free = src.reserve?.freeBytes();
    if (free !== null && free !== undefined) m.set(free);
  });
  g('paperback_disk_reserve_released', '1 while the disk reserve is released because the data disk is nearly full', [], (m) => m.set(src.reserve?.released() ? 1 : 0));
  g('paperback_audit_held', 'Audit rows held in memory because the data disk is full (written when there is room)', [], (m) => m.set(src.auditHeld?.() ?? 0));
  g('paperback_readiness_check', 'Each readiness check (1 ok, 0 failing)', ['check'], (m) => {
    for (const c of src.readiness?.().checks ?? []) m.set({ check: c.name }, c.ok ? 1 : 0);
  });
  return registry;
}
