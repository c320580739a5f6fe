import fs from 'node:fs';
import { formatDateTime } from '../render/i18n.js';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createLogger, silentLogger } from '../log/logger.js';
import { openAgent } from './boot.js';
import { jobStatuses, formatAge } from '../schedule/status.js';
import { runJob, UnknownJobError, type RunOutcome } from '../schedule/run.js';
import { verifyStore } from '../store/verify.js';
import { currentSnapshot, listArtifacts } from '../store/snapshots.js';
import { printerStatusCache } from '../print/status-cache.js';
import { computeReadiness } from '../outage/readiness.js';
import { activeDowntime } from '../outage/downtime.js';
import { verifyAuditChain } from '../audit/log.js';
import { EXIT, out, UsageError } from './usage.js';

/**
 * The commands about snapshots and the store: `config check`, `run`,
 * `status`, `verify`, `docs` and `export`. Each takes the folders and its own
 * arguments and returns an exit code; errors go up to main, which turns them
 * into words and a code.
 */

export function configCommand(configDir: string, dataDir: string | undefined, args: string[]): number {
  if (args[0] !== 'check') throw new UsageError('usage: paperback config check');
  const cfg = loadConfig(configDir, { dataDir });
  out(`configuration OK: ${cfg.jobs.size} job(s), ${cfg.printers.size} printer(s), ${cfg.box.sources.length} source(s); data in ${cfg.dataDir}`);
  return EXIT.ok;
}

export async function runCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const jobId = positionals[0];
  if (!jobId) throw new UsageError('usage: paperback run JOB');
  const log = createLogger({ name: 'paperback-run' });
  const agent = await openAgent({ configDir, dataDir, log, withSources: true, renderThreads: true });
  try {
    const o = await runJob({ ...agent, log }, jobId, { trigger: 'manual' });
    if (values.json) out(JSON.stringify(o));
    else sayOutcome(o);
    return o.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  } finally {
    await agent.close();
    await new Promise<void>((r) => log.flush(() => r()));
  }
}

/** A run's outcome in words: what was published, or why nothing was and what to do. */
function sayOutcome(o: RunOutcome): void {
  if (o.status === 'succeeded') {
    const warnings = o.warnings.length ? `\nwarnings:\n  ${o.warnings.join('\n  ')}` : '';
    out(`${o.jobId}: snapshot ${o.snapshotId} published — ${o.counts.patients} patients, ${o.counts.documents} documents, ${o.counts.pages} pages in ${(o.durationMs / 1000).toFixed(1)} s${warnings}`);
  } else if (o.status === 'held') {
    process.stderr.write(`${o.jobId}: census HELD, not published: ${o.error}\nthe previous snapshot stays current; check with the ward, then: paperback census accept ${o.jobId} --snapshot ${o.snapshotId}\n`);
  } else {
    process.stderr.write(`${o.jobId}: snapshot failed: ${o.error}\nthe previous snapshot stays current.\n`);
  }
}

export async function statusCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    const jobs = jobStatuses(agent.config, agent.db);
    const printers = printerStatusCache(() => agent.config.printers, agent.config.dir, 3000);
    await printers.refresh();
    const readiness = computeReadiness({ config: agent.config, db: agent.db, printers, clockSkewSeconds: null, now: new Date() });
    const downtime = activeDowntime(agent.db);
    if (values.json) {
      out(JSON.stringify({ box: agent.config.box.box.id, jobs, readiness, downtime }, null, 2));
      return EXIT.ok;
    }
    // Times as the ward page and paper show them: the box's zone, day first.
    const at = (iso: string | null | undefined) => (iso ? (formatDateTime(iso, agent.config.box.timeZone) ?? iso) : 'none');
    out(downtime ? `DOWNTIME since ${at(downtime.startedAt)} (${downtime.kind}): ${downtime.cause}` : 'no downtime active');
    out(`readiness: ${readiness.ready ? 'READY' : 'NOT READY'}`);
    for (const c of readiness.checks) out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    for (const j of jobs) {
      out(`${j.id}  ${j.title}${j.enabled ? '' : ' (disabled)'}${j.running ? '  [running]' : ''}`);
      out(`  schedule:  ${j.schedule}; next run ${at(j.nextRun)}`);
      out(`  last run:  ${j.lastRun ? `${j.lastRun.status} at ${at(j.lastRun.endedAt ?? j.lastRun.startedAt)}${j.lastRun.error ? ` — ${j.lastRun.error}` : ''}` : 'never'}`);
      out(`  current:   ${j.current ? `snapshot ${j.current.snapshotId}, data as of ${at(j.current.asOf)} (${formatAge(j.current.ageSeconds)} old${j.current.stale ? ', STALE' : ''}), ${j.current.counts.patients ?? '?'} patients` : 'none yet'}`);
      if (j.held) out(`  HELD:      snapshot ${j.held.snapshotId} (${j.held.patients ?? '?'} patients, data as of ${at(j.held.asOf)}) was not published: ${j.held.reason}; once the ward confirms it: paperback census accept ${j.id} --snapshot ${j.held.snapshotId}`);
    }
    return EXIT.ok;
  } finally {
    await agent.close();
  }
}

export async function verifyCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    const audit = (db: typeof agent.db) => verifyAuditChain(db, { anchorFile: agent.config.auditAnchorFile, archiveDir: agent.config.auditArchiveDir });
    const report = verifyStore(agent.db, agent.blobs, { audit }, { expectSealed: true });
    if (values.json) out(JSON.stringify(report, null, 2));
    else {
      out(`checked ${report.checked.snapshots} snapshots, ${report.checked.artifacts} artifacts, ${report.checked.blobs} files, ${report.checked.auditRows} audit rows`);
      for (const p of report.problems) out(`${p.severity.toUpperCase()}: ${p.what}`);
      out(report.ok ? 'store OK' : 'store has errors');
    }
    return report.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await agent.close();
  }
}

/** `docs JOB` lists the current snapshot's documents; `export JOB --out DIR` writes them as PDF files. */
export async function documentsCommand(command: 'docs' | 'export', configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' } }, allowPositionals: true, strict: true });
  const jobId = positionals[0];
  if (!jobId) throw new UsageError(`usage: paperback ${command} JOB${command === 'export' ? ' --out DIR' : ''}`);
  if (command === 'export' && !values.out) throw new UsageError('usage: paperback export JOB --out DIR');
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    if (!agent.config.jobs.has(jobId)) throw new UnknownJobError(jobId, [...agent.config.jobs.keys()]);
    const cur = currentSnapshot(agent.db, jobId);
    if (!cur) {
      process.stderr.write(`${jobId}: no snapshot yet; run \`paperback run ${jobId}\`\n`);
      return EXIT.notFound;
    }
    const docs = listArtifacts(agent.db, cur.id, 'document');
    if (command === 'docs') {
      for (const d of docs) out(`${jobId}/${d.address}`);
      return EXIT.ok;
    }
    const dir = path.resolve(values.out!);
    fs.mkdirSync(dir, { recursive: true });
    for (const d of docs) fs.writeFileSync(path.join(dir, `${jobId}-${d.address.replace(/\//g, '-')}.pdf`), agent.blobs.get(d.sha256), { mode: 0o600 });
    out(`wrote ${docs.length} PDF file(s) to ${dir}`);
    return EXIT.ok;
  } finally {
    await agent.close();
  }
}
