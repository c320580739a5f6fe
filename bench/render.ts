/**
 * Rendering throughput: every document of a 40-patient ward and of a hospital
 * (WARDS × 40 patients), pages per second and peak memory; and, in the same
 * run, the same ward census printed by headless Chromium from its HTML view
 * with a warm browser (what many teams use instead), with the ratio.
 * Run: npm run build && node dist/bench/render.js [wards=10]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { generateHospital, syntheticSnapshot } from '../agent/demo/generator.js';
import type { WardSnapshot } from '../agent/model/ward.js';
import { documentSpec, planDocuments, type RenderContext } from '../agent/render/documents.js';
import { renderHtmlPage } from '../agent/render/html.js';
import { loadTranslations } from '../agent/render/i18n.js';
import { renderPdf } from '../agent/render/pdf.js';
import { startedDirectly } from './config-dir.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const TEMPLATES = path.resolve(here, '../../templates');
const NOW = new Date();
const ctx: RenderContext = { t: loadTranslations(TEMPLATES, 'vi'), templatesDir: TEMPLATES, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Demo', size: 'A4', renderedAt: NOW };

async function renderWard(snap: WardSnapshot): Promise<{ docs: number; pages: number; bytes: number }> {
  let pages = 0;
  let bytes = 0;
  const docs = planDocuments(snap, ['census', 'allergies', 'mar', 'summary'], ctx);
  for (const d of docs) {
    const r = await renderPdf(d.spec());
    pages += r.pages;
    bytes += r.pdf.length;
  }
  return { docs: docs.length, pages, bytes };
}

const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function benchRender(wards: number) {
  const hospital = generateHospital({ seed: 42, wards, patientsPerWard: 40, ordersMin: 10, ordersMax: 20, now: NOW });
  const ward = syntheticSnapshot(hospital.wards[0]!, NOW);
  await renderWard(ward); // warm up: JIT, fonts, templates

  let t = performance.now();
  const w = await renderWard(ward);
  const wardMs = performance.now() - t;

  // The same census through Chromium: warm browser, one page, page.pdf() per document.
  const census = documentSpec('census', ward, null, ctx);
  // Measured before the hospital below, whose garbage would otherwise be collected during pdfkit's runs
  // (a ward box draws its census at the start of a run); the median of 30 each, so that one slow run on a
  // shared machine does not decide the ratio.
  const runs = 30;
  for (let i = 0; i < 10; i++) await renderPdf(census); // warm: this table's drawing code, as a box that draws censuses all day
  const pdfkitRuns: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await renderPdf(census);
    pdfkitRuns.push(performance.now() - t);
  }
  const pdfkitCensusMs = medianOf(pdfkitRuns);
  let chromiumCensusMs: number | null = null;
  let chromiumNote = 'chromium not installed (apt-get install chromium)';
  if (fs.existsSync('/usr/bin/chromium')) {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const page = await browser.newPage();
    const html = renderHtmlPage(census, 'vi');
    await page.setContent(html);
    for (let i = 0; i < 3; i++) await page.pdf({ format: 'A4', landscape: true, printBackground: true }); // warm-up
    const chromiumRuns: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      await page.setContent(html);
      await page.pdf({ format: 'A4', landscape: true, printBackground: true });
      chromiumRuns.push(performance.now() - t);
    }
    chromiumCensusMs = medianOf(chromiumRuns);
    chromiumNote = 'median of 30 each; warm headless Chromium (playwright-core), setContent + page.pdf per document';
    await browser.close();
  }
  t = performance.now();
  let pages = 0;
  let docs = 0;
  for (const sw of hospital.wards) {
    const r = await renderWard(syntheticSnapshot(sw, NOW));
    pages += r.pages;
    docs += r.docs;
  }
  const hospitalMs = performance.now() - t;

  return {
    ward40: { documents: w.docs, pages: w.pages, ms: Math.round(wardMs), pagesPerSecond: Math.round((w.pages / wardMs) * 1000), megabytes: +(w.bytes / 1e6).toFixed(1) },
    hospital: { wards, patients: wards * 40, documents: docs, pages, ms: Math.round(hospitalMs), pagesPerSecond: Math.round((pages / hospitalMs) * 1000) },
    censusVsChromium: {
      pdfkitMsPerCensus: +pdfkitCensusMs.toFixed(1),
      chromiumMsPerCensus: chromiumCensusMs === null ? null : +chromiumCensusMs.toFixed(1),
      paperbackTimesFaster: chromiumCensusMs === null ? null : +(chromiumCensusMs / pdfkitCensusMs).toFixed(1),
      note: chromiumNote,
    },
  };
}

if (startedDirectly(import.meta.url)) {
  const wards = Number(process.argv[2] ?? 10);
  benchRender(wards)
    .then((r) => {
      const peakRssMb = Math.round((process.resourceUsage().maxRSS * 1024) / 1024 / 1024);
      console.log(JSON.stringify({ cores: os.cpus().length, node: process.version, ...r, peakRssMb }, null, 2));
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
