import { parseArgs } from 'node:util';
import { silentLogger, createLogger } from '../log/logger.js';
import { getPrinterStatus } from '../print/ipp.js';
import { enqueuePrint, printJobEvents } from '../print/queue.js';
import { resolveDocument } from '../print/resolve.js';
import { startPrintWorker } from '../print/worker.js';
import { openAgent } from './boot.js';
import os from 'node:os';
import { out } from './usage.js';
import { printMarkingText } from '../print/marking.js';
import { loadTranslations } from '../render/i18n.js';


/** `paperback printers [--json]`: every printer with its live state. */
export async function printersCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    const rows = await Promise.all(
      [...agent.config.printers.values()].map(async (p) => ({
        id: p.id,
        name: p.name,
        kind: p.kind,
        uri: p.uri,
        location: p.location ?? null,
        fallback: p.fallback ?? null,
        status: p.kind === 'folder' ? null : await getPrinterStatus(p, agent.config.dir),
      })),
    );
    if (values.json) out(JSON.stringify(rows, null, 2));
    else if (rows.length === 0) out('no printers configured (add one file per printer in printers/)');
    else
      for (const r of rows) {
        const st = r.status;
        const state = r.kind === 'folder' ? 'folder' : !st?.reachable ? `UNREACHABLE (${st?.error})` : `${st.state}${st.reasons.length ? ` — ${st.reasons.join(', ')}` : ''}${st.accepting ? '' : ', not accepting jobs'}${st.formats.includes('application/pdf') ? '' : ', NO PDF SUPPORT'}`;
        out(`${r.id}  ${r.name}${r.location ? ` (${r.location})` : ''}\n  ${r.uri}\n  ${state}${r.fallback ? `\n  fallback: ${r.fallback}` : ''}`);
      }
    return 0;
  } finally {
    await agent.close();
  }
}

/** `paperback print ADDRESS --printer ID [--copies N] [--no-wait]`: queue it and wait for the printer's word. */
export async function printCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { printer: { type: 'string' }, copies: { type: 'string' }, 'no-wait': { type: 'boolean' }, json: { type: 'boolean' }, timeout: { type: 'string' } }, allowPositionals: true, strict: true });
  const address = positionals[0];
  if (!address || !values.printer) {
    process.stderr.write('usage: paperback print JOB/DOCUMENT --printer ID [--copies N] [--no-wait]\n');
    return 2;
  }
  const copies = values.copies ? Number(values.copies) : undefined;
  if (copies !== undefined && (!Number.isInteger(copies) || copies < 1 || copies > 10)) {
    process.stderr.write('--copies must be a whole number from 1 to 10\n');
    return 2;
  }
  const log = createLogger({ name: 'paperback-print', level: process.env.PAPERBACK_LOG_LEVEL ?? 'warn' });
  const agent = await openAgent({ configDir, dataDir, log, withSources: false });
  try {
    const printer = agent.config.printers.get(values.printer);
    if (!printer) {
      process.stderr.write(`no printer "${values.printer}" (have: ${[...agent.config.printers.keys()].join(', ') || 'none'})\n`);
      return 5;
    }
    let doc;
    try {
      doc = resolveDocument(agent.config, agent.db, agent.blobs, address);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 5;
    }
    const id = enqueuePrint(agent.db, { artifactId: doc.artifact.id, sha256: doc.artifact.sha256, address: `${doc.jobId}/${doc.address}`, jobName: doc.printJobName, printerId: printer.id, copies: copies ?? printer.defaults.copies, requestedBy: `cli:${os.userInfo().username}` });
    if (values['no-wait']) {
      out(`queued as print job ${id}`);
      return 0;
    }
    const box = agent.config.box;
    const worker = startPrintWorker({ db: agent.db, blobs: agent.blobs, printers: () => agent.config.printers, configDir: agent.config.dir, log, pollMs: 250, marking: printMarkingText(agent.db, loadTranslations(agent.config.templatesDir, box.paperLanguage ?? box.language), box.timeZone) });
    const job = await worker.waitFor(id, (Number(values.timeout) || 300) * 1000);
    await worker.stop();
    if (values.json) out(JSON.stringify({ ...job, events: printJobEvents(agent.db, id) }));
    if (job.state === 'completed') {
      if (!values.json) out(`print job ${id}: completed on ${job.currentPrinterId}${job.currentPrinterId !== printer.id ? ` (fallback for ${printer.id})` : ''}`);
      return 0;
    }
    process.stderr.write(`print job ${id}: ${job.state}${job.error ? ` — ${job.error}` : ''}\n`);
    return 1;
  } finally {
    await agent.close();
    log.flush();
  }
}
