import { parseArgs } from 'node:util';
import { silentLogger, createLogger } from '../log/logger.js';
import type { PrinterStatus } from '../print/ipp.js';
import { enqueuePrint, listPrintJobs, printJobEvents } from '../print/queue.js';
import { printerStatus } from '../print/status-cache.js';
import { resolveDocument } from '../print/resolve.js';
import { startPrintWorker } from '../print/worker.js';
import { openAgent } from './boot.js';
import os from 'node:os';
import { out } from './usage.js';
import { printMarkingText } from '../print/marking.js';
import { loadTranslations } from '../render/i18n.js';


/** A printer's state in words, by what its kind can say about itself. */
function stateWords(kind: string, st: PrinterStatus): string {
  if (!st.reachable) return `UNREACHABLE (${st.error})`;
  if (kind === 'folder') return 'writable folder, ready';
  if (kind === 'zpl') return 'reachable (a raw printer reports nothing more: paper, ribbon and head are not known)';
  return `${st.state}${st.reasons.length ? ` — ${st.reasons.join(', ')}` : ''}${st.message ? ` (${st.message})` : ''}${st.accepting ? '' : ', not accepting jobs'}${st.formats.length === 0 || st.formats.includes('application/pdf') ? '' : ', NO PDF SUPPORT'}`;
}

/** `paperback printers [--json]`: every printer with its live state. */
export async function printersCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    // Jobs not yet done, per printer: a printer that is up but has a queue behind it is worth knowing about.
    const waiting = new Map<string, number>();
    for (const j of listPrintJobs(agent.db, { states: ['queued', 'sending', 'processing'], limit: 10_000 })) waiting.set(j.currentPrinterId, (waiting.get(j.currentPrinterId) ?? 0) + 1);
    const rows = await Promise.all(
      [...agent.config.printers.values()].map(async (p) => ({
        id: p.id,
        name: p.name,
        kind: p.kind,
        demo: 'demo' in p && p.demo === true,
        uri: p.uri,
        location: p.location ?? null,
        fallback: p.fallback ?? null,
        waiting: waiting.get(p.id) ?? 0,
        status: await printerStatus(p, agent.config.dir),
      })),
    );
    if (values.json) out(JSON.stringify(rows, null, 2));
    else if (rows.length === 0) out('no printers configured (add one file per printer in printers/)');
    else
      for (const r of rows) {
        const kind = r.demo ? 'demo printer: an ippeveprinter while `paperback serve` runs, this folder otherwise' : { ipp: 'IPP', folder: 'folder', zpl: 'raw ZPL (socket)', demo: 'demo' }[r.kind];
        out(`${r.id}  ${r.name}${r.location && !r.name.includes(r.location) ? ` (${r.location})` : ''}\n  ${r.uri}  [${kind}]\n  ${stateWords(r.kind, r.status)}${r.waiting ? `; ${r.waiting} job(s) not yet done` : ''}${r.fallback ? `\n  fallback: ${r.fallback}` : ''}`);
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
