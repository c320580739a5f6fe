/**
 * End-to-end snapshots, as the agent takes them: pull from a FHIR server on
 * loopback, normalize, render every document, seal and publish. For one ward
 * of 40 and a hospital of WARDS × 40 (one Medplum server per ward, see
 * pull.ts): a full snapshot, then a re-snapshot after 5 % of the patients
 * changed (incremental: only their sheets are rendered again). Then the
 * resident memory of an idle `paperback serve` after its first snapshot.
 * Run: npm run build && node dist/bench/snapshot.js [wards=10]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { wardToFhir } from '../agent/demo/fhir-emit.js';
import { startFhirServer, type FhirTestServer } from '../agent/demo/fhir-server.js';
import { generateHospital, type SyntheticWard } from '../agent/demo/generator.js';
import { openAgent, type Agent } from '../agent/cli/boot.js';
import { silentLogger } from '../agent/log/logger.js';
import { runJob } from '../agent/schedule/run.js';
import { REPO, benchConfigDir } from './config-dir.js';

const CLI = path.join(REPO, 'dist/agent/cli/main.js');

function configDir(wards: { ward: SyntheticWard; url: string }[], opts: { port?: number } = {}): string {
  return benchConfigDir(
    'pb-bench-snap-',
    `site: { id: bench, name: Bench Hospital }
box: { id: bench-box }
wards:
${wards.map((w) => `  - { id: ${w.ward.id}, name: "${w.ward.name}" }`).join('\n')}
language: vi
sources:
${wards.map((w, i) => `  - { id: his-${i}, kind: fhir, baseUrl: "${w.url}", pageSize: 200 }`).join('\n')}
web: { insecureHttp: true, port: ${opts.port ?? 0} }
encryption: { keyFile: bench.key, createKey: true }
schedule: { spreadSeconds: 0 }
outage: { probeIntervalSeconds: 3600 }
`,
    Object.fromEntries(
      wards.map((w, i) => [
        w.ward.id,
        `id: ${w.ward.id}\ntitle: ${w.ward.id}\nschedule: { cron: "0 0 1 1 *" }\nsource: his-${i}\nscope: { ward: ${w.ward.id}, location: Location/${w.ward.id} }\ndocuments: [census, allergies, mar, summary]\nrunTimeoutSeconds: 600\n`,
      ]),
    ),
  );
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);

async function snapshotAll(agent: Agent, jobs: string[]) {
  const t = performance.now();
  let pages = 0;
  let rendered = 0;
  let reused = 0;
  let peak = rssMb();
  for (const id of jobs) {
    const r = await runJob({ ...agent, log: silentLogger() }, id, { trigger: 'manual' });
    if (r.status !== 'succeeded') throw new Error(`${id}: ${r.error}`);
    pages += r.counts.pages ?? 0;
    rendered += r.counts.rendered ?? 0;
    reused += r.counts.reused ?? 0;
    peak = Math.max(peak, rssMb());
  }
  const ms = performance.now() - t;
  return { ms: Math.round(ms), pages, documentsRendered: rendered, documentsReused: reused, pagesPerSecond: Math.round((pages / ms) * 1000), rssMb: peak };
}

/** Change 5 % of the patients on the server (a new dose on one order each), as a busy ward would in a few minutes. */
async function changeFivePercent(servers: FhirTestServer[], wards: SyntheticWard[]): Promise<number> {
  let changed = 0;
  for (const [i, w] of wards.entries()) {
    const n = Math.max(1, Math.round(w.patients.length * 0.05));
    for (const p of w.patients.slice(0, n)) {
      const order = p.orders.items[0];
      if (!order) continue;
      const mr = (await servers[i]!.repo.readResource('MedicationRequest', order.id)) as unknown as { dosageInstruction?: Record<string, unknown>[] };
      await servers[i]!.repo.updateResource({ ...mr, dosageInstruction: [{ ...(mr.dosageInstruction?.[0] ?? {}), text: 'changed by the bench', doseAndRate: [{ doseQuantity: { value: 2, unit: 'viên' } }] }] } as never);
      changed++;
    }
  }
  return changed;
}

async function idleServeRss(ward: { ward: SyntheticWard; url: string }): Promise<number> {
  const dir = configDir([ward]);
  const child = spawn(process.execPath, [CLI, '--config', dir, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!/snapshot published/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not publish a snapshot:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // Idle: let the collector settle after the first snapshot.
  await new Promise((r) => setTimeout(r, 10_000));
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('close', r));
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function main() {
  const wards = Number(process.argv[2] ?? 10);
  const now = new Date();
  const h = generateHospital({ seed: 42, wards, patientsPerWard: 40, ordersMin: 10, ordersMax: 20, now });
  const servers: FhirTestServer[] = [];
  for (const w of h.wards) {
    const s = await startFhirServer({ maxCount: 1000 });
    await s.load(wardToFhir(w));
    servers.push(s);
  }
  const all = h.wards.map((w, i) => ({ ward: w, url: servers[i]!.url }));

  const wardAgent = await openAgent({ configDir: configDir(all.slice(0, 1)), log: silentLogger(), withSources: true });
  const wardFull = await snapshotAll(wardAgent, [h.wards[0]!.id]);
  const wardChanged = await changeFivePercent(servers.slice(0, 1), h.wards.slice(0, 1));
  const wardIncremental = await snapshotAll(wardAgent, [h.wards[0]!.id]);
  await wardAgent.close();

  const hospitalAgent = await openAgent({ configDir: configDir(all), log: silentLogger(), withSources: true });
  const jobs = h.wards.map((w) => w.id);
  const hospitalFull = await snapshotAll(hospitalAgent, jobs);
  const hospitalChanged = await changeFivePercent(servers, h.wards);
  const hospitalIncremental = await snapshotAll(hospitalAgent, jobs);
  await hospitalAgent.close();

  const idleRssMb = await idleServeRss(all[0]!);
  for (const s of servers) await s.close();
  console.log(
    JSON.stringify(
      {
        cores: os.cpus().length,
        peer: `one Medplum FHIR server per ward on loopback, in this process (it shares the 2 cores)`,
        ward40: { full: wardFull, patientsChanged: wardChanged, incremental: wardIncremental },
        hospital: { wards, patients: wards * 40, full: hospitalFull, patientsChanged: hospitalChanged, incremental: hospitalIncremental, incrementalShareOfFull: Math.round((hospitalIncremental.ms / hospitalFull.ms) * 100) / 100 },
        idleServeRssMb: idleRssMb,
        peakRssMb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6),
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
