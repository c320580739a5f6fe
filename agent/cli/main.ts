#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatProblem, loadConfig } from '../config/load.js';
import { createLogger, silentLogger } from '../log/logger.js';
import { openAgent } from './boot.js';
import { jobStatuses, formatAge } from '../schedule/status.js';
import { JobBusyError, runJob, UnknownJobError } from '../schedule/run.js';
import { verifyStore } from '../store/verify.js';
import { currentSnapshot, listArtifacts } from '../store/snapshots.js';
import { serve } from './serve.js';
import { printerStatusCache } from '../print/status-cache.js';
import { computeReadiness } from '../outage/readiness.js';
import { activeDowntime } from '../outage/downtime.js';
import { printCommand, printersCommand } from './print-commands.js';
import { downtimeCommand } from './downtime-command.js';
import { censusCommand } from './census-command.js';
import { userCommand } from './user-command.js';
import { auditCommand } from './audit-command.js';
import { demoCommand } from './demo-command.js';
import { keyCommand } from './key-command.js';
import { verifyAuditChain } from '../audit/log.js';

const USAGE = `Usage: paperback [--config DIR] [--data DIR] <command> [options]

Commands:
  serve [--host H] [--port N]   run the agent: scheduler, web page, printing
  run JOB [--json]              take a snapshot of JOB now; exit 0 on success
  status [--json]               every job's last run, current snapshot, data age, next run
  verify [--json]               check the store (rows against files, hashes)
  config check                  validate paperback.yaml, snapshots/ and printers/
  docs JOB                      list the current snapshot's documents (JOB/DOCUMENT)
  export JOB --out DIR          write the current snapshot's documents as PDF files
  printers [--json]             list printers with their live state
  downtime start --reason R | end | status
                                declare or end a downtime by hand; show the current one
  census status JOB | census accept JOB [--snapshot N]
                                see a census the drop guard held, and publish it once checked
  print JOB/DOC --printer ID [--copies N] [--no-wait]
                                print a document and wait until the printer reports it done
  user add|passwd|disable|enable|list|break-glass-code
                                local accounts for the ward page (see \`paperback user\`)
  audit export [--since D] [--until D] [--out FILE] | audit verify
                                the audit log as CSV; check its hash chain
  demo outage start|stop|status take the embedded demo HIS down and up (demo only)
  key rotate                    re-seal every stored file under the current data key

Global options:
  --config DIR   folder holding paperback.yaml, snapshots/, printers/, templates/
                 (default: $PAPERBACK_CONFIG or the current folder)
  --data DIR     data folder (default: $PAPERBACK_DATA or dataDir in paperback.yaml)
`;

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, busy: 4, notFound: 5 } as const;

class UsageError extends Error {}

function splitGlobal(argv: string[]): { global: { config?: string; data?: string; help?: boolean }; rest: string[] } {
  const global: { config?: string; data?: string; help?: boolean } = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '--data') {
      const v = argv[++i];
      if (!v) throw new UsageError(`${a} needs a folder`);
      global[a === '--config' ? 'config' : 'data'] = v;
    } else if (a.startsWith('--config=')) global.config = a.slice(9);
    else if (a.startsWith('--data=')) global.data = a.slice(7);
    else if (a === '--help' || a === '-h') global.help = true;
    else break;
  }
  return { global, rest: argv.slice(i) };
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = splitGlobal(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { global, rest } = parsed;
  const [command, ...args] = rest;
  if (global.help || !command || command === 'help') {
    process.stdout.write(USAGE);
    return command || global.help ? EXIT.ok : EXIT.usage;
  }
  const configDir = path.resolve(global.config ?? process.env.PAPERBACK_CONFIG ?? '.');
  const dataDir = global.data ? path.resolve(global.data) : undefined;
  try {
    switch (command) {
      case 'config': {
        if (args[0] !== 'check') throw new UsageError('usage: paperback config check');
        const cfg = loadConfig(configDir, { dataDir });
        out(`configuration OK: ${cfg.jobs.size} job(s), ${cfg.printers.size} printer(s), ${cfg.box.sources.length} source(s); data in ${cfg.dataDir}`);
        return EXIT.ok;
      }
      case 'serve': {
        const { values } = parseArgs({ args, options: { host: { type: 'string' }, port: { type: 'string' } }, strict: true });
        const port = values.port !== undefined ? Number(values.port) : undefined;
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--port must be a number from 0 to 65535');
        return await serve({ configDir, dataDir, host: values.host, port });
      }
      case 'run': {
        const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
        const jobId = positionals[0];
        if (!jobId) throw new UsageError('usage: paperback run JOB');
        const log = createLogger({ name: 'paperback-run' });
        const agent = await openAgent({ configDir, dataDir, log, withSources: true, renderThreads: true });
        try {
          const o = await runJob({ ...agent, log }, jobId, { trigger: 'manual' });
          if (values.json) out(JSON.stringify(o));
          else if (o.status === 'succeeded') out(`${jobId}: snapshot ${o.snapshotId} published — ${o.counts.patients} patients, ${o.counts.documents} documents, ${o.counts.pages} pages in ${(o.durationMs / 1000).toFixed(1)} s${o.warnings.length ? `\nwarnings:\n  ${o.warnings.join('\n  ')}` : ''}`);
          else if (o.status === 'held') process.stderr.write(`${jobId}: census HELD, not published: ${o.error}\nthe previous snapshot stays current; check with the ward, then: paperback census accept ${jobId} --snapshot ${o.snapshotId}\n`);
          else process.stderr.write(`${jobId}: snapshot failed: ${o.error}\nthe previous snapshot stays current.\n`);
          return o.status === 'succeeded' ? EXIT.ok : EXIT.failed;
        } finally {
          await agent.close();
          await new Promise<void>((r) => log.flush(() => r()));
        }
      }
      case 'status': {
        const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
        const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
        try {
          const jobs = jobStatuses(agent.config, agent.db);
          const printers = printerStatusCache(() => agent.config.printers, agent.config.dir, 3000);
          await printers.refresh();
          const readiness = computeReadiness({ config: agent.config, db: agent.db, printers, clockSkewSeconds: null, now: new Date() });
          const downtime = activeDowntime(agent.db);
          if (values.json) out(JSON.stringify({ box: agent.config.box.box.id, jobs, readiness, downtime }, null, 2));
          else {
            out(downtime ? `DOWNTIME since ${downtime.startedAt} (${downtime.kind}): ${downtime.cause}` : 'no downtime active');
            out(`readiness: ${readiness.ready ? 'READY' : 'NOT READY'}`);
            for (const c of readiness.checks) out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
            for (const j of jobs) {
              out(`${j.id}  ${j.title}${j.enabled ? '' : ' (disabled)'}${j.running ? '  [running]' : ''}`);
              out(`  schedule:  ${j.schedule}; next run ${j.nextRun ?? 'none'}`);
              out(`  last run:  ${j.lastRun ? `${j.lastRun.status} at ${j.lastRun.endedAt ?? j.lastRun.startedAt}${j.lastRun.error ? ` — ${j.lastRun.error}` : ''}` : 'never'}`);
              out(`  current:   ${j.current ? `snapshot ${j.current.snapshotId}, data as of ${j.current.asOf} (${formatAge(j.current.ageSeconds)} old${j.current.stale ? ', STALE' : ''}), ${j.current.counts.patients ?? '?'} patients` : 'none yet'}`);
              if (j.held) out(`  HELD:      snapshot ${j.held.snapshotId} (${j.held.patients ?? '?'} patients) was not published: ${j.held.reason}; once the ward confirms it: paperback census accept ${j.id} --snapshot ${j.held.snapshotId}`);
            }
          }
          return EXIT.ok;
        } finally {
          await agent.close();
        }
      }
      case 'verify': {
        const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
        const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
        try {
          const report = verifyStore(agent.db, agent.blobs, { audit: (db) => verifyAuditChain(db, { anchorFile: agent.config.auditAnchorFile, archiveDir: agent.config.auditArchiveDir }) }, { expectSealed: true });
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
      case 'docs':
      case 'export': {
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
          for (const d of docs) {
            const file = path.join(dir, `${jobId}-${d.address.replace(/\//g, '-')}.pdf`);
            fs.writeFileSync(file, agent.blobs.get(d.sha256), { mode: 0o600 });
          }
          out(`wrote ${docs.length} PDF file(s) to ${dir}`);
          return EXIT.ok;
        } finally {
          await agent.close();
        }
      }
      case 'downtime':
        return await downtimeCommand(configDir, dataDir, args);
      case 'census':
        return await censusCommand(configDir, dataDir, args);
      case 'printers':
        return await printersCommand(configDir, dataDir, args);
      case 'print':
        return await printCommand(configDir, dataDir, args);
      case 'user':
        return await userCommand(configDir, dataDir, args);
      case 'audit':
        return await auditCommand(configDir, dataDir, args);
      case 'demo':
        return await demoCommand(configDir, dataDir, args);
      case 'key':
        return await keyCommand(configDir, dataDir, args);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration has ${err.problems.length} problem(s):\n${err.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
      return EXIT.config;
    }
    if (err instanceof JobBusyError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.busy;
    }
    if (err instanceof UnknownJobError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.notFound;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    process.stderr.write(`paperback ${command}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

const invokedDirectly = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  // `paperback docs JOB | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      // serve keeps running; everything else ends here.
      if (code !== -1) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`paperback: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
