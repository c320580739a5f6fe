import { archiveAudit } from '../audit/archive.js';
import { pruneHistory } from '../store/history.js';
import { lifecycle } from './lifecycle.js';
import { writeAnchor } from '../audit/anchor.js';
import { createLogger } from '../log/logger.js';
import { watchConfig } from '../config/watch.js';
import { startScheduler } from '../schedule/scheduler.js';
import { jobStatuses } from '../schedule/status.js';
import { buildWebServer } from '../web/server.js';
import { openAgent } from './boot.js';
import { startPrintWorker } from '../print/worker.js';
import { runEvidence, startOutageMonitor, type OutageMonitor } from '../outage/monitor.js';
import { printerStatusCache } from '../print/status-cache.js';
import { appendAudit } from '../audit/log.js';
import { purgeExpiredSessions } from '../auth/sessions.js';
import { startDemoPrinters } from '../demo/demo-printer.js';
import { demoOutageRequested, followDemoOutage, requestDemoOutage } from '../demo/demo-outage.js';
import { DEMO_ACCOUNTS, ensureDemoAccounts } from '../auth/demo-accounts.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import { errorFields } from '../log/errors.js';
import { loadTranslations } from '../render/i18n.js';
import { printMarkingText } from '../print/marking.js';
import { fileBack } from '../fileback/file-back.js';

/** Which job and printer files a reload added, removed or changed (ids only) for the audit log. */
function configDiff(prev: LoadedConfig, next: LoadedConfig): Record<string, string[]> {
  const diff = <T>(a: Map<string, T>, b: Map<string, T>) => ({
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    changed: [...b.keys()].filter((k) => a.has(k) && JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))),
  });
  const j = diff(prev.jobs, next.jobs);
  const p = diff(prev.printers, next.printers);
  return { jobsAdded: j.added, jobsRemoved: j.removed, jobsChanged: j.changed, printersAdded: p.added, printersRemoved: p.removed, printersChanged: p.changed };
}

export interface ServeOptions {
  configDir: string;
  dataDir?: string;
  host?: string;
  port?: number;
}

/** Run the agent until SIGINT/SIGTERM. Resolves with the exit code. */
export async function serve(opts: ServeOptions): Promise<number> {
  const log = createLogger();
  const first = loadConfig(opts.configDir, { dataDir: opts.dataDir });
  if (!first.box.web.tls && !first.box.web.insecureHttp) {
    throw new ConfigError([{ file: 'paperback.yaml', field: 'web.tls', line: null, message: 'the ward page serves patient data: give tls: { certFile, keyFile } for HTTPS, or set web.insecureHttp: true to serve plain HTTP on purpose (the demo; a box behind a TLS proxy)' }]);
  }
  const life = lifecycle(log);
  const agent = life.started('store, sources and render threads', await openAgent({ configDir: opts.configDir, dataDir: opts.dataDir, log, withSources: true, watchDropFolders: true, listenHl7: true, renderThreads: true }), (a) => a.close());
  // Stopped just before the store closes: the last audit rows of this run are anchored (anchorAudit, below).
  life.started('final audit anchor', null, () => anchorAudit());
  // The daemon keeps the disk reserve (a CLI command only releases it).
  agent.reserve.check({ make: true });
  let config = agent.config;
  // The demo printer (a real ippeveprinter when installed) and the demo HIS's outage switch.
  const demoPrinters = life.started('demo printers', await startDemoPrinters(config.dir, config.printers.values(), log), async (ps) => {
    for (const p of ps) await p.stop();
  });
  if (demoPrinters.length > 0) config = loadConfig(config.dir, { dataDir: opts.dataDir });
  life.started('demo outage switch', followDemoOutage(agent.db, agent.demo.values(), log), (stop) => stop());
  // The monitor and the scheduler feed each other: runs are evidence, downtime pauses retention.
  let monitor: OutageMonitor | null = null;
  const scheduler = life.started('scheduler', startScheduler({
    ...agent,
    log,
    config,
    retentionPaused: () => monitor?.downtimeActive() ?? false,
    onOutcome: (o) => {
      const job = config.jobs.get(o.jobId);
      const e = runEvidence(o);
      if (job && e) monitor?.evidence(job.source, e.ok, e.detail);
    },
  }), (sch) => sch.stop());
  // Render threads outlive their idle time while a run is due within render.keepWarmMinutes.
  agent.renderer.keepWarmWhile(() => config.box.render.keepWarmMinutes > 0 && scheduler.runDueWithin(config.box.render.keepWarmMinutes * 60_000));
  life.started('config watcher', watchConfig(config, {
    log,
    dataDir: opts.dataDir,
    onChange: (next, prev) => {
      config = next;
      scheduler.reload(next);
      appendAudit(agent.db, { actor: 'system:config-watch', action: 'config-change', subject: null, detail: configDiff(prev, next) });
    },
    onRefused: (err) => appendAudit(agent.db, { actor: 'system:config-watch', action: 'config-refused', subject: null, detail: { files: [...new Set(err.problems.map((p) => p.file))] } }),
  }), (w) => w.close());
  const printer = life.started('print queue', startPrintWorker({ db: agent.db, blobs: agent.blobs, printers: () => config.printers, configDir: config.dir, log, marking: (job, at) => printMarkingText(agent.db, loadTranslations(config.templatesDir, config.box.paperLanguage ?? config.box.language), config.box.timeZone)(job, at) }), (w) => w.stop());
  const printerStates = printerStatusCache(() => config.printers, config.dir);
  monitor = startOutageMonitor({
    printers: printerStates,
    db: agent.db,
    blobs: agent.blobs,
    config: () => config,
    sources: agent.sources,
    log,
    renderer: agent.renderer,
    runJobs: (ids, trigger) => ids.forEach((id) => scheduler.runNow(id, trigger).catch(() => {})),
    kickPrinter: () => printer.kick(),
  });
  monitor.start();
  life.started('outage monitor', monitor, (m) => m.stop());
  if (config.box.auth.demoAccounts) await ensureDemoAccounts(agent.db, log);
  const every = (name: string, ms: number, fn: () => void) => life.started(name, setInterval(fn, ms).unref(), (t) => clearInterval(t));
  every('session sweep', 10 * 60_000, () => purgeExpiredSessions(agent.db, { idleMinutes: config.box.web.sessionIdleMinutes, maxHours: config.box.web.sessionMaxHours }));
  // The audit chain's head, sealed, outside the database and in the journal: removed rows and a swapped database show.
  const anchorAudit = () => {
    try {
      const a = writeAnchor(agent.db, config.auditAnchorFile);
      if (a) log.info({ room: 'audit', auditAnchor: { lastId: a.lastId, lastHash: a.lastHash, file: config.auditAnchorFile } }, 'audit chain anchored');
    } catch (err) {
      log.error({ room: 'audit', err: errorFields(err) }, 'could not write the audit anchor');
    }
  };
  anchorAudit();
  every('audit anchor timer', config.box.audit.anchorEveryMinutes * 60_000, anchorAudit);
  // Weeks offline must not fill the disk with the box's own history.
  const pruneOld = () => {
    try {
      const pruned = pruneHistory(agent.db, config.box.history.keepDays);
      if (Object.values(pruned).some((n) => n > 0)) log.info({ room: 'store', pruned, keepDays: config.box.history.keepDays }, 'old history pruned');
      // The audit log is not pruned: its old rows move to a file the chain carries on from.
      const archived = archiveAudit(agent.db, config.auditArchiveDir, new Date(Date.now() - config.box.history.keepDays * 86_400_000));
      if (archived) log.info({ room: 'audit', archive: { file: archived.file, rows: archived.lastId - archived.firstId + 1, sha256: archived.sha256 } }, 'old audit rows archived');
    } catch (err) {
      log.error({ room: 'store', err: errorFields(err) }, 'pruning old history failed; it is tried again in an hour');
    }
  };
  pruneOld();
  every('history pruning', 60 * 60_000, pruneOld);
  /** Everything started, stopped last first: on a signal, or when the web server cannot start. */
  const shutdown = async () => {
    await life.stopAll();
    log.flush();
  };
  let address: string;
  try {
    const app = await buildWebServer({
      config: () => config,
      db: agent.db,
      blobs: agent.blobs,
      log,
      renderer: agent.renderer,
      reserve: agent.reserve,
      runNow: (id) => scheduler.runNow(id),
      applyEntries: (id) => scheduler.applyEntries(id),
      fileBack: (o) => fileBack({ db: agent.db, blobs: agent.blobs, config, sources: agent.sources, log }, o),
      outage: monitor,
      printers: printerStates,
      kickPrinter: () => printer.kick(),
      demoOutage: agent.demo.size > 0 ? { down: () => demoOutageRequested(agent.db), set: (down) => requestDemoOutage(agent.db, down) } : undefined,
    });
    const host = opts.host ?? config.box.web.host;
    const port = opts.port ?? config.box.web.port;
    life.started('web server', app, (a) => a.close());
    address = await app.listen({ host, port });
  } catch (err) {
    // Start fully or not at all: a box without its ward page must exit, so systemd restarts it and says why.
    log.error({ err: errorFields(err) }, 'the web server could not start; stopping');
    await shutdown();
    throw err;
  }
  log.info({ url: address, data: config.dataDir, jobs: [...config.jobs.keys()] }, 'Paperback is serving');
  process.stdout.write(`Paperback is serving on ${address.replace('0.0.0.0', 'localhost')}\n`);
  if (config.box.auth.demoAccounts) {
    process.stdout.write(`Demo accounts: ${DEMO_ACCOUNTS.map((d) => `${d.username} / ${d.password}`).join(', ')}\n`);
  }

  // A first snapshot at start-up for any job with none, or a stale one, so the page is never empty.
  for (const j of jobStatuses(config, agent.db)) {
    if (j.enabled && (!j.current || j.current.stale)) {
      scheduler.runNow(j.id, 'startup').catch((err: unknown) => log.warn({ job: j.id, err: errorFields(err) }, 'start-up snapshot did not run'));
    }
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      await shutdown();
      resolve(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
