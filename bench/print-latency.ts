/**
 * Time from a print request to "completed" reported by a real IPP printer
 * (ippeveprinter, completing each job at once), for one job and for 50 queued jobs.
 * Run: npm run build && node dist/bench/print-latency.js
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startIppPrinter } from '../agent/demo/ipp-printer.js';
import { openBlobStore } from '../agent/store/blobs.js';
import { openDb } from '../agent/store/db.js';
import { enqueuePrint } from '../agent/print/queue.js';
import { startPrintWorker } from '../agent/print/worker.js';
import { printerSchema } from '../agent/config/schema.js';
import { renderPdf } from '../agent/render/pdf.js';
import { censusDocument } from '../agent/render/documents.js';
import { loadTranslations } from '../agent/render/i18n.js';
import { generateHospital, syntheticSnapshot } from '../agent/demo/generator.js';
import { benchTmpDir } from './config-dir.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');

async function main() {
  const printer = await startIppPrinter({ command: '/bin/true', spool: benchTmpDir('pb-bench-spool-') });
  const dir = benchTmpDir('pb-bench-print-');
  const db = openDb(dir);
  const blobs = openBlobStore(dir, null);
  const now = new Date();
  const h = generateHospital({ seed: 1, wards: 1, patientsPerWard: 40, now });
  const w = h.wards[0]!;
  const snap = syntheticSnapshot(w, now);
  const { pdf, pages } = await renderPdf(censusDocument(snap, { t: loadTranslations(path.join(repo, 'templates'), 'en'), templatesDir: path.join(repo, 'templates'), timeZone: 'UTC', hospital: 'Bench', size: 'A4', renderedAt: now }));
  const { sha256 } = blobs.put(pdf);
  db.prepare('INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?)').run(sha256, pdf.length, now.toISOString());
  const cfg = printerSchema.parse({ id: 'bench', name: 'Bench printer', uri: printer.uri });
  const worker = startPrintWorker({ db, blobs, printers: () => new Map([['bench', cfg]]), configDir: dir, log: pino({ level: 'silent' }), pollMs: 50 });
  const job = () => enqueuePrint(db, { artifactId: null, sha256, address: 'bench/census', jobName: 'bench census', printerId: 'bench', copies: 1, requestedBy: 'bench' });

  const singles: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const id = job();
    worker.kick();
    const r = await worker.waitFor(id, 60_000);
    if (r.state !== 'completed') throw new Error(`job ${id} ${r.state}: ${r.error}`);
    singles.push(performance.now() - t0);
  }
  const t0 = performance.now();
  const ids = Array.from({ length: 50 }, job);
  worker.kick();
  const done = await Promise.all(ids.map((id) => worker.waitFor(id, 300_000)));
  const all = performance.now() - t0;
  const failed = done.filter((d) => d.state !== 'completed').length;
  await worker.stop();
  await printer.stop();
  const received = fs.readdirSync(printer.spool).filter((f) => f.endsWith('.pdf')).length;
  singles.sort((a, b) => a - b);
  const result = {
    cores: os.cpus().length,
    document: `census, ${pages} pages, ${pdf.length} bytes`,
    singleJobMs: { median: Math.round(singles[2]!), min: Math.round(singles[0]!), max: Math.round(singles[4]!) },
    fiftyJobs: { totalMs: Math.round(all), perJobMs: Math.round(all / 50), failed, receivedByPrinter: received - 5 },
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
