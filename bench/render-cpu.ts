/**
 * The drawing code alone, for comparing two builds of it: every document of
 * some kinds for WARDS × 40 patients, drawn once to warm up and once measured,
 * in this thread. Prints the CPU time per page and a sha256 over every PDF.
 *
 * The clock is frozen (PDF creation dates, the data's times), so the hash is
 * the same from run to run: a change meant to leave the pages alone (a speed-up)
 * must leave it the same.
 *
 * CPU time on a shared machine moves by ±20 % between identical runs, more than
 * most changes to the drawing. Instruction counts do not: run it under
 * callgrind with V8 on one thread (identical runs agree within 0.4 %) in each
 * build's tree and compare the "Collected" lines:
 *   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
 *     node --single-threaded dist/bench/render-cpu.js mar 2
 * Run: npm run build && node dist/bench/render-cpu.js [kinds=census,allergies,mar,summary] [wards=8]
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { generateHospital, syntheticSnapshot } from '../agent/demo/generator.js';
import { planDocuments, type DocumentKind, type RenderContext } from '../agent/render/documents.js';
import { loadTranslations } from '../agent/render/i18n.js';
import { renderPdf } from '../agent/render/pdf.js';

const FROZEN = Date.parse('2026-11-23T10:00:00Z');
const RealDate = Date;
// pdfkit stamps each PDF with new Date(); everything else here is given the time.
globalThis.Date = class extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(FROZEN);
    else super(...(args as [string]));
  }
  static override now() {
    return FROZEN;
  }
} as DateConstructor;

const here = path.dirname(new URL(import.meta.url).pathname);
const TEMPLATES = path.resolve(here, '../../templates');
const KINDS: DocumentKind[] = ['census', 'allergies', 'mar', 'summary'];
const kinds = (process.argv[2] ?? KINDS.join(',')).split(',') as DocumentKind[];
const wards = Number(process.argv[3] ?? 8);
const unknown = kinds.filter((k) => !KINDS.includes(k));
if (unknown.length || !(wards >= 1)) {
  console.error(`usage: render-cpu.js [kinds, of ${KINDS.join(',')}] [wards ≥ 1]${unknown.length ? ` (no kind ${unknown.join(', ')})` : ''}`);
  process.exit(2);
}
const now = new Date(FROZEN);
const ctx: RenderContext = { t: loadTranslations(TEMPLATES, 'vi'), templatesDir: TEMPLATES, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Demo', size: 'A4', renderedAt: now };
const hospital = generateHospital({ seed: 42, wards, patientsPerWard: 40, ordersMin: 10, ordersMax: 20, now });
const specs = hospital.wards.flatMap((w) =>
  planDocuments(syntheticSnapshot(w, now), kinds, ctx).map((d) => d.spec()),
);

for (const s of specs) await renderPdf(s); // warm: JIT, fonts, layout caches
const hash = crypto.createHash('sha256');
let pages = 0;
let bytes = 0;
const before = process.cpuUsage();
for (const s of specs) {
  const r = await renderPdf(s);
  pages += r.pages;
  bytes += r.pdf.length;
  hash.update(r.pdf);
}
const cpu = process.cpuUsage(before);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(JSON.stringify({ kinds, wards, documents: specs.length, pages, megabytes: Math.round(bytes / 1e5) / 10, cpuMsPerPage: Math.round((cpuMs / pages) * 1000) / 1000, sha256: hash.digest('hex') }));
