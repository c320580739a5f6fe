/**
 * Labels and wristbands: how long each takes to draw (ZPL with every word a
 * picture, PDF at label size, an A4 sheet of 24) and to send to a raw TCP
 * printer on loopback, beside the same label with the printer's resident font
 * (what a box without Vietnamese support would send) for the ratio.
 * Run: npm run build && node dist/bench/labels.js [labels]
 */
import net from 'node:net';
import path from 'node:path';
import { printerSchema } from '../agent/config/schema.js';
import { sendRaw } from '../agent/print/raw-socket.js';
import { loadTranslations } from '../agent/render/i18n.js';
import { labelsPdf, wristbandPdf } from '../agent/render/label-pdf.js';
import { labelLines, type LabelRequest, type PatientLabel } from '../agent/render/labels.js';
import { labelsZpl, wristbandZpl } from '../agent/render/zpl.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const n = Number(process.argv[2] ?? 200);

const names = ['Nguyễn Thị Hồng Ngọc', 'Trần Văn Bình', 'Lê Thị Mai', 'Phạm Quốc Việt', 'Hoàng Thị Thu Hương', 'Đặng Minh Khôi'];
const t = loadTranslations(path.join(repo, 'templates'), 'vi');
const request = (i: number, what: LabelRequest['what'], count: number): LabelRequest => {
  const label: PatientLabel = { name: names[i % names.length]!, birthDate: '1958-03-07', sex: i % 2 ? 'male' : 'female', id: `BV${String(10_000 + i).padStart(7, '0')}`, idKind: 'mrn', ward: 'Khoa Nội 3A', bed: `${100 + (i % 30)}-1`, allergies: { status: 'recorded', items: [{ substance: 'Penicillin' } as never] }, asOf: new Date().toISOString() };
  return { what, count, id: label.id, lines: labelLines(label, t, 'Asia/Ho_Chi_Minh') };
};

/** The same label with words in the printer's font (^A0): no Vietnamese, the baseline the pictures cost against. */
function residentFontZpl(req: LabelRequest): Buffer {
  const l = req.lines;
  const rows = [l.name, l.person, l.id, l.place, l.allergy, l.asOf].map((s, i) => `^FO12,${12 + i * 36}^A0N,30,30^FD${s.replace(/[\^~]/g, '')}^FS`);
  return Buffer.from(`^XA^PW400^LL200${rows.join('')}^FO12,230^BY2^BCN,50,N,N,N,A^FD${req.id}^FS^PQ${req.count}^XZ`, 'utf8');
}

async function timed<T>(label: string, fn: (i: number) => T | Promise<T>, size: (r: T) => number): Promise<{ what: string; perItemMs: number; bytes: number }> {
  await fn(0); // warm: fonts parsed, code compiled
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) bytes += size(await fn(i));
  const ms = performance.now() - t0;
  return { what: label, perItemMs: Math.round((ms / n) * 1000) / 1000, bytes: Math.round(bytes / n) };
}

async function main() {
  const media = { widthMm: 50, heightMm: 25, dpmm: 8 };
  const results = [
    await timed('ZPL label, words as pictures (50 × 25 mm, 203 dpi)', (i) => labelsZpl(request(i, 'labels', 1), media), (b) => b.length),
    await timed('ZPL label, printer font (no Vietnamese)', (i) => residentFontZpl(request(i, 'labels', 1)), (b) => b.length),
    await timed('ZPL wristband (25 × 279 mm, 203 dpi)', (i) => wristbandZpl(request(i, 'wristband', 1), { widthMm: 25, lengthMm: 279, dpmm: 8 }), (b) => b.length),
    await timed('PDF label (50 × 25 mm)', (i) => labelsPdf(request(i, 'labels', 1), { kind: 'label', widthMm: 50, heightMm: 25 }), (r) => r.pdf.length),
    await timed('PDF wristband (25 × 279 mm)', (i) => wristbandPdf(request(i, 'wristband', 1), { widthMm: 25, lengthMm: 279 }), (r) => r.pdf.length),
    await timed('PDF A4 sheet of 24 labels', (i) => labelsPdf(request(i, 'labels', 24), { kind: 'a4' }), (r) => r.pdf.length),
  ];
  // Sending: a listener that reads to the end, as a printer does.
  const server = net.createServer((s) => s.on('data', () => undefined).on('end', () => s.end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const printer = printerSchema.parse({ id: 'bench', name: 'bench', kind: 'zpl', uri: `socket://127.0.0.1:${(server.address() as net.AddressInfo).port}`, label: media });
  const zpl = labelsZpl(request(1, 'labels', 1), media);
  results.push(await timed('send one ZPL label over raw TCP (loopback)', () => sendRaw(printer, zpl), () => zpl.length));
  server.close();
  const [pictures, font] = results;
  const out = { labels: n, results, picturesVsFont: Math.round((pictures!.perItemMs / font!.perItemMs) * 10) / 10, rssMb: Math.round(process.memoryUsage().rss / 1e6) };
  for (const r of results) process.stderr.write(`${r.what.padEnd(58)} ${r.perItemMs.toFixed(3).padStart(8)} ms  ${String(r.bytes).padStart(7)} bytes\n`);
  process.stderr.write(`pictures cost ${out.picturesVsFont}× the printer-font label to draw; RSS ${out.rssMb} MB\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main();
