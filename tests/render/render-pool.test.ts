import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import { silentLogger } from '../../agent/log/logger.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import type { DocumentSpec } from '../../agent/render/blocks.js';
import type { DocumentRequest } from '../../agent/render/documents.js';
import { renderSnapshotDocuments, type RenderSettings } from '../../agent/render/snapshot-documents.js';
import { createRenderPool } from '../../agent/render/render-pool.js';
import { inThreadRenderer } from '../../agent/render/renderer.js';
import { REPO, tmpDir, waitFor } from '../support/fixtures.js';

const HAVE_POPPLER = spawnSync('sh', ['-c', 'command -v pdftotext']).status === 0;
if (process.env.CI === 'true' && !HAVE_POPPLER) throw new Error('poppler-utils is required in CI');

const NOW = new Date('2026-11-22T03:00:00Z');
const TEMPLATES = path.join(REPO, 'templates');
const w = generateHospital({ seed: 5, wards: 1, patientsPerWard: 6, now: NOW }).wards[0]!;
const snap: WardSnapshot = { ward: { id: w.id, name: 'Khoa Nội 3A' }, asOf: NOW.toISOString(), source: { id: 'his', system: 'HIS', location: null }, beds: w.beds, patients: w.patients, warnings: [] };
const settings: RenderSettings = { documents: ['census', 'allergies', 'mar', 'summary'], forms: ['vital-signs'], language: 'vi', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Demo', templatesDir: TEMPLATES };

const textOf = (pdf: Buffer) => {
  const f = path.join(tmpDir('pb-pool-'), 'd.pdf');
  fs.writeFileSync(f, pdf);
  return execFileSync('pdftotext', ['-layout', f, '-']).toString();
};

const pools: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

const specWithLogo = (logo: Buffer): DocumentSpec => ({
  size: 'A4',
  orientation: 'portrait',
  patient: null,
  metaTitle: 't',
  stamp: { marking: 'DOWNTIME COPY', documentTitle: 'Logo', hospital: 'H', ward: 'W', footer: ['as of now'], pageLabel: '{page}/{pages}', banner: null, logo },
  blocks: [{ type: 'text', text: 'Nguyễn Thị Hồng' }],
});

describe.skipIf(!HAVE_POPPLER)('render threads', () => {
  it('render a ward in the same order, with the same pages and text, as this thread does', async () => {
    const pool = createRenderPool({ threads: 2, log: silentLogger() });
    pools.push(pool);
    const inThread = await renderSnapshotDocuments(snap, settings, { renderedAt: NOW });
    const threaded = await renderSnapshotDocuments(snap, settings, { renderedAt: NOW, renderer: pool });
    expect(threaded.map((a) => a.meta.address)).toEqual(inThread.map((a) => a.meta.address));
    expect(threaded.map((a) => a.meta.pages)).toEqual(inThread.map((a) => a.meta.pages));
    // Census, a MAR and a stamped form: same words on paper whichever thread drew them.
    for (const address of ['census', `mar/${threaded[3]!.meta.patientKey}`, `form/vital-signs/${threaded[3]!.meta.patientKey}`]) {
      const a = inThread.find((x) => x.meta.address === address)!;
      const b = threaded.find((x) => x.meta.address === address)!;
      expect(b.content!.subarray(0, 5).toString()).toBe('%PDF-');
      expect(textOf(b.content!)).toBe(textOf(a.content!));
    }
  });

  it('report a document that cannot be drawn as an error, and keep rendering after it', async () => {
    const pool = createRenderPool({ threads: 1, log: silentLogger() });
    pools.push(pool);
    await expect(pool.pdf(specWithLogo(Buffer.from('not an image')))).rejects.toThrow(/image/i);
    // A logo crosses to the thread as bytes and is drawn from them.
    const png = fs.readFileSync(path.join(REPO, 'templates/assets/logo.png'));
    const ok = await pool.pdf(specWithLogo(png));
    expect(ok.pages).toBe(1);
    expect(textOf(ok.pdf)).toContain('Nguyễn Thị Hồng');
  });

  it('fail the run when a document fails, without leaving renders unhandled', async () => {
    const pool = createRenderPool({ threads: 2, log: silentLogger() });
    pools.push(pool);
    const broken = { ...pool, document: (req: DocumentRequest) => (req.patient ? Promise.reject(new Error('drawing failed')) : pool.document(req)) };
    await expect(renderSnapshotDocuments(snap, settings, { renderedAt: NOW, renderer: broken })).rejects.toThrow('drawing failed');
  });

  it('build documents from their templates in the thread: a broken template fails the run naming file and line', async () => {
    const pool = createRenderPool({ threads: 2, log: silentLogger() });
    pools.push(pool);
    const dir = tmpDir('pb-pool-tpl-');
    fs.cpSync(TEMPLATES, dir, { recursive: true });
    const mar = path.join(dir, 'documents/mar.hbs');
    fs.writeFileSync(mar, `${fs.readFileSync(mar, 'utf8')}\n{{#if}}\n`);
    const run = renderSnapshotDocuments(snap, { ...settings, templatesDir: dir }, { renderedAt: NOW, renderer: pool });
    await expect(run).rejects.toThrow(/templates\/documents\/mar\.hbs:\d+/);
    await expect(run).rejects.toMatchObject({ name: 'TemplateError' });
  });

  it('end when idle, say so, and start again for the next document', async () => {
    let idled = 0;
    const pool = createRenderPool({ threads: 2, idleMs: 200, log: silentLogger(), onIdle: () => idled++ });
    pools.push(pool);
    const png = fs.readFileSync(path.join(REPO, 'templates/assets/logo.png'));
    await Promise.all([pool.pdf(specWithLogo(png)), pool.pdf(specWithLogo(png))]);
    await waitFor(() => idled === 1, 10_000);
    const again = await pool.pdf(specWithLogo(png));
    expect(again.pages).toBe(1);
    // Warmed ahead of a run (during its pull) and then not used: the threads still end.
    await waitFor(() => idled === 2, 10_000);
    pool.warm();
    await waitFor(() => idled === 3, 10_000);
    await pool.close();
    await expect(pool.pdf(specWithLogo(png))).rejects.toThrow(/closed/);
    expect(inThreadRenderer.parallelism).toBe(1);
  });

  it('stay past their idle time while the next run is near, and end once it is not', async () => {
    let idled = 0;
    let runSoon = true;
    let quiet = 0;
    const pool = createRenderPool({ threads: 1, idleMs: 100, log: silentLogger(), onIdle: (ended) => (ended ? idled++ : quiet++) });
    pools.push(pool);
    pool.keepWarmWhile(() => runSoon);
    const png = fs.readFileSync(path.join(REPO, 'templates/assets/logo.png'));
    await pool.pdf(specWithLogo(png));
    // Ten idle times later the thread is still there.
    await new Promise((r) => setTimeout(r, 1000));
    expect(idled).toBe(0);
    // Told once that the pool went quiet (the daemon collects then), not every idle period.
    expect(quiet).toBe(1);
    runSoon = false;
    await waitFor(() => idled === 1, 10_000);
  });
});
