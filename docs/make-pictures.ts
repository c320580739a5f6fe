/**
 * Renders one of each document for the demo ward and turns page 1 into a PNG
 * under docs/pictures/, for the README. Run: npm run build && node dist/docs/make-pictures.js
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateWard, rng } from '../agent/demo/generator.js';
import type { WardSnapshot } from '../agent/model/ward.js';
import { renderSnapshotDocuments } from '../agent/render/snapshot-documents.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const out = path.join(repo, 'docs/pictures');
const now = new Date('2026-11-22T03:00:00Z');
// The demo's own ward: same seed and size as demo/paperback.yaml.
const w = generateWard(rng(3), 0, { seed: 3, wards: 1, patientsPerWard: 24, now });
const snap: WardSnapshot = { ward: { id: 'ward-3a', name: 'Khoa Nội 3A · Internal Medicine 3A' }, asOf: now.toISOString(), source: { id: 'demo-his', system: 'Demo HIS (synthetic data)', location: 'http://127.0.0.1/fhir/R4' }, beds: w.beds, patients: w.patients, warnings: [] };

async function main() {
  fs.mkdirSync(out, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-pictures-'));
  for (const lang of ['vi', 'en'] as const) {
    const docs = await renderSnapshotDocuments(snap, { documents: ['census', 'mar', 'summary', 'allergies', 'handoff'], forms: ['vital-signs'], language: lang, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Demo · Demo General Hospital', templatesDir: path.join(repo, 'templates') }, { renderedAt: now });
    const first = snap.patients.find((p) => p.allergies.status === 'recorded' && p.orders.items.some((o) => o.highAlert)) ?? snap.patients[0]!;
    const wanted = ['census', 'allergies', 'handoff', `mar/${first.mrn}`, `summary/${first.mrn}`, `form/vital-signs/${first.mrn}`];
    for (const a of docs.filter((d) => wanted.includes(d.meta.address))) {
      const name = `${a.meta.address.split('/')[0]}-${lang}`;
      const pdf = path.join(tmp, `${name}.pdf`);
      fs.writeFileSync(pdf, a.content!);
      execFileSync('pdftoppm', ['-r', '70', '-png', '-f', '1', '-l', '1', '-singlefile', pdf, path.join(out, name)]);
      console.log(`docs/pictures/${name}.png`);
    }
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
