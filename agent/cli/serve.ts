import { createLogger } from '../log/logger.js';
import { watchConfig } from '../config/watch.js';
import { startScheduler } from '../schedule/scheduler.js';
import { jobStatuses } from '../schedule/status.js';
import { buildWebServer } from '../web/server.js';
import { openAgent } from './boot.js';
import { startPrintWorker } from '../print/worker.js';
import { startOutageMonitor, type OutageMonitor } from '../outage/monitor.js';
import { printerStatusCache } from '../print/status-cache.js';

export interface ServeOptions {
  configDir: string;
  dataDir?: string;
  host?: string;
  port?: number;
}

/** Run the agent until SIGINT/SIGTERM. Resolves with the exit code. */
export async function serve(opts: ServeOptions): Promise<number> {
  const log = createLogger();
  const agent = await openAgent({ configDir: opts.configDir, dataDir: opts.dataDir, log, withSources: true, watchDropFolders: true });
  let config = agent.config;
  // The monitor and the scheduler feed each other: runs are evidence, downtime pauses retention.
  let monitor: OutageMonitor | null = null;
  const scheduler = startScheduler({
    ...agent,
    log,
    config,
    retentionPaused: () => monitor?.downtimeActive() ?? false,
    onOutcome: (o) => {
      const job = config.jobs.get(o.jobId);
      if (job) monitor?.evidence(job.source, o.status === 'succeeded', o.error ?? '');
    },
  });
  const watcher = watchConfig(config, {
    log,
    dataDir: opts.dataDir,
    onChange: (next) => {
      config = next;
      scheduler.reload(next);
    },
  });
  const printer = startPrintWorker({ db: agent.db, blobs: agent.blobs, printers: () => config.printers, configDir: config.dir, log });
  const printerStates = printerStatusCache(() => config.printers, config.dir);
  monitor = startOutageMonitor({
    printers: printerStates,
    db: agent.db,
    blobs: agent.blobs,
    config: () => config,
    sources: agent.sources,
    log,
    runJobs: (ids, trigger) => ids.forEach((id) => scheduler.runNow(id, trigger).catch(() => {})),
    kickPrinter: () => printer.kick(),
  });
  monitor.start();
  const app = await buildWebServer({ config: () => config, db: agent.db, blobs: agent.blobs, log, runNow: (id) => scheduler.runNow(id), outage: monitor, printers: printerStates, kickPrinter: () => printer.kick() });
  const host = opts.host ?? config.box.web.host;
  const port = opts.port ?? config.box.web.port;
  const address = await app.listen({ host, port });
  log.info({ address, data: config.dataDir, jobs: [...config.jobs.keys()] }, 'Paperback is serving');
  process.stdout.write(`Paperback is serving on ${address.replace('0.0.0.0', 'localhost')}\n`);

  // A first snapshot at start-up for any job with none, or a stale one, so the page is never empty.
  for (const j of jobStatuses(config, agent.db)) {
    if (j.enabled && (!j.current || j.current.stale)) {
      scheduler.runNow(j.id, 'startup').catch((err: unknown) => log.warn({ job: j.id, err: { message: (err as Error).message } }, 'start-up snapshot did not run'));
    }
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      await app.close();
      await watcher.close();
      await monitor?.stop();
      await scheduler.stop();
      await printer.stop();
      await agent.close();
      log.flush();
      resolve(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
