/**
 * A month offline, simulated: the HIS down for `daysOffline` days with the
 * scheduler's five-minute runs failing, a downtime declared, a nurse printing
 * the census every hour from the last good snapshot; then `daysOnline` days
 * with the HIS back. The clock is simulated (runs and prints are given the
 * simulated time), the store, the files and the printer folder are real.
 * Every simulated day the history is pruned and old audit rows archived, as
 * serve does hourly. Reports what must stay bounded: store size, files,
 * row counts, memory; and that nothing was printed twice.
 * Run: npm run build && node dist/bench/soak.js [daysOffline=30] [daysOnline=30]
 */
import fs from 'node:fs';
import path from 'node:path';
import { archiveAudit } from '../agent/audit/archive.js';
import { appendAudit, verifyAuditChain } from '../agent/audit/log.js';
import { registerAuditKeys } from '../agent/audit/seal.js';
import { loadConfig } from '../agent/config/load.js';
import { startFhirServer } from '../agent/demo/fhir-server.js';
import { generateHospital } from '../agent/demo/generator.js';
import { wardToFhir } from '../agent/demo/fhir-emit.js';
import { silentLogger } from '../agent/log/logger.js';
import { declareDowntime, endDeclaration } from '../agent/outage/downtime.js';
import { enqueuePrint } from '../agent/print/queue.js';
import { startPrintWorker } from '../agent/print/worker.js';
import { runJob } from '../agent/schedule/run.js';
import { createFhirSource } from '../agent/sources/fhir/index.js';
import { openBlobStore } from '../agent/store/blobs.js';
import { loadDataKey } from '../agent/store/data-key.js';
import { openDb } from '../agent/store/db.js';
import { pruneHistory } from '../agent/store/history.js';
import { currentSnapshot, getArtifact } from '../agent/store/snapshots.js';
import { verifyStore } from '../agent/store/verify.js';
import { benchConfigDir, startedDirectly } from './config-dir.js';

export interface SoakOptions {
  daysOffline: number;
  daysOnline: number;
  keepDays: number;
  runEveryMinutes?: number;
  printEveryMinutes?: number;
  patients?: number;
}

export interface SoakDay {
  day: number;
  phase: 'offline' | 'online';
  dbMb: number;
  blobFiles: number;
  blobMb: number;
  rows: Record<string, number>;
  rssMb: number;
}

export interface SoakReport {
  options: SoakOptions;
  runs: { succeeded: number; failed: number };
  prints: { requested: number; completed: number; filesWritten: number };
  days: SoakDay[];
  peak: { dbMb: number; blobMb: number; blobFiles: number; rssMb: number; rows: Record<string, number> };
  verify: { storeProblems: string[]; auditProblems: string[]; auditRows: number };
  wallSeconds: number;
}

const TABLES = ['job_runs', 'snapshots', 'artifacts', 'blobs', 'print_jobs', 'print_job_events', 'outage_events', 'audit_log', 'sessions'];
const sizeOf = (dir: string): { files: number; bytes: number } => {
  let files = 0;
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
};
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const t0 = Date.now();
  const every = o.runEveryMinutes ?? 5;
  const printEvery = o.printEveryMinutes ?? 60;
  const start = new Date('2027-01-01T00:00:00Z');
  let sim = start;
  const hospital = generateHospital({ seed: 3, wards: 1, patientsPerWard: o.patients ?? 2, now: start });
  const his = await startFhirServer();
  await his.load(wardToFhir(hospital.wards[0]!));
  const dir = benchConfigDir(
    'pb-soak-',
    `site: { id: soak, name: Soak Hospital }
box: { id: soak-box }
wards: [{ id: ward-1, name: Ward 1 }]
language: en
sources: [{ id: his, kind: fhir, baseUrl: ${his.url}, retries: 0, timeoutMs: 2000 }]
web: { insecureHttp: true }
encryption: { keyFile: soak.key, createKey: true }
history: { keepDays: ${o.keepDays} }
`,
    { 'ward-1': `id: ward-1\ntitle: Ward 1\nschedule: { cron: "*/5 * * * *" }\nsource: his\nscope: { ward: ward-1, location: Location/ward-1 }\ndocuments: [census]\nretention: { keepLast: 3, maxAgeDays: 2 }\nreuseWithinMinutes: 0\n` },
  );
  fs.writeFileSync(path.join(dir, 'printers', 'usb.yaml'), 'id: usb\nname: USB stick\nkind: folder\nuri: printed\n');
  const config = loadConfig(dir);
  const db = openDb(config.dataDir);
  const key = loadDataKey({ keyFile: config.keyFile, configDir: config.dir, createKey: true, dataDir: config.dataDir });
  const blobs = openBlobStore(config.dataDir, key);
  registerAuditKeys(db, [key]);
  const log = silentLogger();
  const sources = new Map([['his', createFhirSource(config.box.sources[0] as never, { configDir: dir, backoffMs: 1 })]]);
  const agent = { config, db, blobs, sources, log, now: () => sim };
  const worker = startPrintWorker({ db, blobs, printers: () => config.printers, configDir: dir, log, now: () => sim, pollMs: 20 });
  const report: SoakReport = { options: o, runs: { succeeded: 0, failed: 0 }, prints: { requested: 0, completed: 0, filesWritten: 0 }, days: [], peak: { dbMb: 0, blobMb: 0, blobFiles: 0, rssMb: 0, rows: {} }, verify: { storeProblems: [], auditProblems: [], auditRows: 0 }, wallSeconds: 0 };

  const step = async (phase: 'offline' | 'online', minutes: number) => {
    const end = sim.getTime() + minutes * 60_000;
    let day = Math.floor((sim.getTime() - start.getTime()) / 86_400_000);
    while (sim.getTime() < end) {
      sim = new Date(sim.getTime() + every * 60_000);
      const out = await runJob(agent, 'ward-1', { trigger: 'schedule' });
      report.runs[out.status === 'succeeded' ? 'succeeded' : 'failed']++;
      const minuteOfRun = Math.round((sim.getTime() - start.getTime()) / 60_000);
      if (minuteOfRun % printEvery === 0) {
        // A nurse prints the census from the current (during the outage: last good) snapshot, as the page does.
        const cur = currentSnapshot(db, 'ward-1');
        const a = cur ? getArtifact(db, cur.id, 'census') : null;
        if (a) {
          const id = enqueuePrint(db, { artifactId: a.id, sha256: a.sha256, address: 'ward-1/census', jobName: 'ward-1 census', printerId: 'usb', copies: 1, requestedBy: 'soak-nurse' }, sim);
          appendAudit(db, { actor: 'soak-nurse', action: 'print', subject: 'ward-1/census', detail: { printJob: id } }, sim);
          report.prints.requested++;
          worker.kick();
          if ((await worker.waitFor(id, 10_000)).state === 'completed') report.prints.completed++;
        }
      }
      const today = Math.floor((sim.getTime() - start.getTime()) / 86_400_000);
      if (today !== day) {
        day = today;
        // What serve does hourly, done daily here: prune the history, archive old audit rows.
        pruneHistory(db, o.keepDays, sim);
        archiveAudit(db, config.auditArchiveDir, new Date(sim.getTime() - o.keepDays * 86_400_000), sim);
        const rows = Object.fromEntries(TABLES.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number]));
        const dbBytes = ['paperback.sqlite', 'paperback.sqlite-wal'].reduce((n, f) => n + (fs.existsSync(path.join(config.dataDir, f)) ? fs.statSync(path.join(config.dataDir, f)).size : 0), 0);
        const b = sizeOf(path.join(config.dataDir, 'blobs'));
        const d: SoakDay = { day, phase, dbMb: mb(dbBytes), blobFiles: b.files, blobMb: mb(b.bytes), rows, rssMb: mb(process.memoryUsage().rss) };
        report.days.push(d);
        report.peak.dbMb = Math.max(report.peak.dbMb, d.dbMb);
        report.peak.blobMb = Math.max(report.peak.blobMb, d.blobMb);
        report.peak.blobFiles = Math.max(report.peak.blobFiles, d.blobFiles);
        report.peak.rssMb = Math.max(report.peak.rssMb, d.rssMb);
        for (const [t, n] of Object.entries(rows)) report.peak.rows[t] = Math.max(report.peak.rows[t] ?? 0, n);
      }
    }
  };

  try {
    await step('online', 60); // a first good snapshot
    his.fault = () => ({ kind: 'drop' });
    const declared = declareDowntime(db, 'soak-it', 'HIS down (simulated)', sim);
    await step('offline', o.daysOffline * 24 * 60);
    his.fault = null;
    endDeclaration(db, 'soak-it', sim);
    void declared;
    await step('online', o.daysOnline * 24 * 60);
    report.prints.filesWritten = fs.readdirSync(path.join(dir, 'printed')).filter((f) => f.endsWith('.pdf')).length;
    const v = verifyStore(db, blobs, { audit: (d) => verifyAuditChain(d, { archiveDir: config.auditArchiveDir }) }, { expectSealed: true });
    report.verify.storeProblems = v.problems.filter((p) => p.severity === 'error').map((p) => p.what);
    const audit = verifyAuditChain(db, { archiveDir: config.auditArchiveDir });
    report.verify.auditProblems = audit.problems.filter((p) => p.severity === 'error').map((p) => p.what);
    report.verify.auditRows = audit.checked;
  } finally {
    await worker.stop();
    db.close();
    await his.close();
  }
  report.wallSeconds = Math.round((Date.now() - t0) / 1000);
  return report;
}

if (startedDirectly(import.meta.url)) {
  const r = await runSoak({ daysOffline: Number(process.argv[2] ?? 30), daysOnline: Number(process.argv[3] ?? 30), keepDays: 31 });
  const { days, ...summary } = r;
  console.log(JSON.stringify({ ...summary, lastDay: days.at(-1) }, null, 2));
}
