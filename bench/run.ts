/**
 * npm run bench: runs each benchmark in its own process (so peak memory is
 * its own), prints a table and writes bench/results/latest.json.
 * BENCH_WARDS sets the hospital size (default 10 wards × 40 patients; the
 * issue's 100 × 40 is BENCH_WARDS=100).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const wards = process.env.BENCH_WARDS ?? '10';
// The end-to-end snapshot bench runs the agent as the daemon runs (systemd unit, npm start): same flags and malloc setting.
const DAEMON_FLAGS = ['--max-semi-space-size=2'];
const DAEMON_ENV = { MALLOC_ARENA_MAX: '1' };
// Each bench removes its folders as it exits; what its helpers leave (printer spools, Chromium's profile) goes with this one.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-bench-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
const run = (script: string, args: string[], flags: string[] = [], env: Record<string, string> = {}) => {
  const t = Date.now();
  const out = execFileSync(process.execPath, [...flags, path.join(here, script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000, env: { ...process.env, TMPDIR: scratch, ...env } });
  return { ...JSON.parse(out.slice(out.indexOf('{'))), wallMs: Date.now() - t };
};

const results: Record<string, unknown> = { date: new Date().toISOString(), cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version };
results.render = run('render.js', [wards]);
// One Medplum server per ward: a shared one scans the whole hospital per search and measures only itself.
results.pull = run('pull.js', [wards, 'per-ward', '4']);
const haveIpp = spawnSync('sh', ['-c', 'command -v ippeveprinter || test -x /usr/sbin/ippeveprinter']).status === 0;
results.print = haveIpp ? run('print-latency.js', []) : { skipped: 'ippeveprinter not installed (apt-get install cups-ipp-utils)' };
results.web = run('web-latency.js', ['10']);
results.hl7 = run('hl7-throughput.js', ['2000']);
results.labels = run('labels.js', ['200']);
results.snapshot = run('snapshot.js', [wards], DAEMON_FLAGS, DAEMON_ENV);

const cpuSplit = (x: { agentCpuMs: number; mainThreadCpuMs: number | null }) => (x.mainThreadCpuMs === null ? 'no /proc' : `${x.mainThreadCpuMs} / ${x.agentCpuMs - x.mainThreadCpuMs}`);
const r = results as { render: any; pull: any; print: any; web: any; snapshot: any; hl7: any; labels: any };
const rows: [string, string][] = [
  ['cores', String(results.cores)],
  ['ward (40) render: pages, ms, pages/s', `${r.render.ward40.pages}, ${r.render.ward40.ms}, ${r.render.ward40.pagesPerSecond}`],
  [`hospital (${r.render.hospital.patients}) render: pages, ms, pages/s`, `${r.render.hospital.pages}, ${r.render.hospital.ms}, ${r.render.hospital.pagesPerSecond}`],
  ['census: pdfkit ms / chromium ms / ratio', `${r.render.censusVsChromium.pdfkitMsPerCensus} / ${r.render.censusVsChromium.chromiumMsPerCensus} / ${r.render.censusVsChromium.paperbackTimesFaster}×`],
  ['render peak RSS MB', String(r.render.peakRssMb)],
  ['ward (40) pull: ms, requests', `${r.pull.ward40.ms}, ${r.pull.ward40.requests}`],
  [`hospital (${r.pull.hospital.patients}) pull: ms, requests`, `${r.pull.hospital.ms}, ${r.pull.hospital.requests}`],
  ['print to ippeveprinter: one job ms (median) / 50 jobs ms', r.print.skipped ? r.print.skipped : `${r.print.singleJobMs.median} / ${r.print.fiftyJobs.totalMs}`],
  ['census page, 50 clients: req/s, p50 ms, p99 ms', `${r.web.censusPage.perSecond}, ${r.web.censusPage.p50Ms}, ${r.web.censusPage.p99Ms}`],
  ['MAR PDF, 50 clients: req/s, p50 ms, p99 ms', `${r.web.marPdf.perSecond}, ${r.web.marPdf.p50Ms}, ${r.web.marPdf.p99Ms}`],
  ['HL7 ADT, one MLLP connection: msg/s, p50 ms, p99 ms / bare-ACK floor msg/s', `${r.hl7.oneConnection.perSecond}, ${r.hl7.oneConnection.p50Ms}, ${r.hl7.oneConnection.p99Ms} / ${r.hl7.floor.perSecond}`],
  ['ZPL label with Vietnamese as pictures: ms each / × the printer-font label', `${r.labels.results[0].perItemMs} / ${r.labels.picturesVsFont}×`],
  ['ward (40) full snapshot ms: warm (median of 5) / render threads restarted / first run after start', `${r.snapshot.ward40.full.ms} / ${r.snapshot.ward40.fullRenderThreadsRestarted.ms} / ${r.snapshot.ward40.firstRunAfterStart.ms}`],
  ['ward (40) 5 % changed: ms (docs rendered)', `${r.snapshot.ward40.incremental.ms} (${r.snapshot.ward40.incremental.documentsRendered} of ${r.snapshot.ward40.full.documentsRendered})`],
  ['ward (40) full snapshot peak RSS MB (agent, render threads included)', String(r.snapshot.ward40.full.rssMb)],
  [`hospital (${r.snapshot.hospital.patients}) snapshot: full ms, pages, pages/s, peak RSS MB`, `${r.snapshot.hospital.full.ms}, ${r.snapshot.hospital.full.pages}, ${r.snapshot.hospital.full.pagesPerSecond}, ${r.snapshot.hospital.full.rssMb}`],
  ['hospital 5 % changed: ms, share of full, docs rendered', `${r.snapshot.hospital.incremental.ms}, ${r.snapshot.hospital.incrementalShareOfFull}, ${r.snapshot.hospital.incremental.documentsRendered}`],
  ['hospital agent CPU ms: full / 5 % changed (share)', `${r.snapshot.hospital.full.agentCpuMs} / ${r.snapshot.hospital.incremental.agentCpuMs} (${r.snapshot.hospital.incrementalShareOfFullAgentCpu})`],
  ['hospital agent CPU ms in its main thread (pull, store) / other threads (render, GC, I/O): full; 5 % changed', `${cpuSplit(r.snapshot.hospital.full)}; ${cpuSplit(r.snapshot.hospital.incremental)}`],
  ['FHIR peer CPU ms during hospital full / 5 % changed (same cores)', `${r.snapshot.hospital.full.peerCpuMs} / ${r.snapshot.hospital.incremental.peerCpuMs}`],
  ['idle serve RSS MB after first snapshot / between runs of a 5-minute job (render threads kept)', `${r.snapshot.idleServeRssMb} / ${r.snapshot.serveRssBetweenRunsEvery5MinMb}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
fs.mkdirSync(path.resolve(here, '../../bench/results'), { recursive: true });
fs.writeFileSync(path.resolve(here, '../../bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log('\nwritten to bench/results/latest.json');
