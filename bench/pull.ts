/**
 * Pull time from a real FHIR server on loopback (Medplum FhirRouter over its
 * memory repository): one ward of 40 patients, and a hospital of WARDS × 40.
 * Full pulls (fullPullEveryMinutes: 0); incremental pulls are measured end to end in snapshot.ts.
 * Run: npm run build && node dist/bench/pull.js [wards=10] [shared|per-ward] [concurrency=4]
 *
 * "shared" loads the whole hospital into one server. Medplum's memory
 * repository scans every resource of a type for each search, so past a few
 * thousand patients the server, not Paperback, is what is measured.
 * "per-ward" gives each ward its own server (as a hospital's HIS answers a
 * ward query from an index, in about constant time) and pulls `concurrency`
 * wards at once, as several boxes or jobs would.
 */
import os from 'node:os';
import { wardToFhir } from '../agent/demo/fhir-emit.js';
import { startFhirServer } from '../agent/demo/fhir-server.js';
import { generateHospital } from '../agent/demo/generator.js';
import { createFhirSource } from '../agent/sources/fhir/index.js';
import { DATASETS } from '../agent/model/ward.js';
import { fhirSourceSchema } from '../agent/config/schema.js';

async function main() {
  const wards = Number(process.argv[2] ?? 10);
  if (process.argv[3] === 'per-ward') return perWard(wards, Number(process.argv[4] ?? 4));
  const now = new Date();
  const t0 = performance.now();
  const h = generateHospital({ seed: 42, wards, patientsPerWard: 40, ordersMin: 10, ordersMax: 20, now });
  const server = await startFhirServer({ maxCount: 1000 });
  let resources = 0;
  for (const w of h.wards) {
    const r = wardToFhir(w);
    resources += r.length;
    await server.load(r);
  }
  const loadMs = performance.now() - t0;
  const src = createFhirSource(fhirSourceSchema.parse({ id: 'his', kind: 'fhir', baseUrl: server.url, maxConcurrency: 4, fullPullEveryMinutes: 0 }), { configDir: '.' });
  const pullWard = async (i: number) => {
    const w = h.wards[i]!;
    const t = performance.now();
    const r = await src.pull({ ward: { id: w.id, name: w.name }, location: `Location/${w.id}`, datasets: DATASETS, now, signal: AbortSignal.timeout(600_000) });
    return { ms: performance.now() - t, requests: r.requests, patients: r.snapshot.patients.length, orders: r.snapshot.patients.reduce((n, p) => n + p.orders.items.length, 0) };
  };
  const first = await pullWard(0);
  const t1 = performance.now();
  let requests = 0;
  let patients = 0;
  let orders = 0;
  let peakRss = process.memoryUsage().rss;
  for (let i = 0; i < wards; i++) {
    const r = await pullWard(i);
    requests += r.requests;
    patients += r.patients;
    orders += r.orders;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const allMs = performance.now() - t1;
  await server.close();
  console.log(
    JSON.stringify(
      {
        cores: os.cpus().length,
        server: `Medplum FhirRouter/MemoryRepository on loopback, ${resources} resources, loaded in ${Math.round(loadMs)} ms`,
        ward40: { ms: Math.round(first.ms), requests: first.requests, patients: first.patients, orders: first.orders },
        hospital: { wards, patients, orders, ms: Math.round(allMs), requests, msPerWard: Math.round(allMs / wards), note: 'wards pulled one after another; Medplum\'s memory repository scans every resource of a type per search, so the server slows as the hospital grows' },
        peakRssMb: Math.round(peakRss / 1024 / 1024),
      },
      null,
      2,
    ),
  );
}

async function perWard(wards: number, concurrency: number) {
  const now = new Date();
  const h = generateHospital({ seed: 42, wards, patientsPerWard: 40, ordersMin: 10, ordersMax: 20, now });
  const t0 = performance.now();
  const servers = [];
  for (const w of h.wards) {
    const server = await startFhirServer({ maxCount: 1000 });
    await server.load(wardToFhir(w));
    servers.push(server);
  }
  const loadMs = performance.now() - t0;
  const sources = servers.map((s, i) => createFhirSource(fhirSourceSchema.parse({ id: `his-${i}`, kind: 'fhir', baseUrl: s.url, maxConcurrency: 4, fullPullEveryMinutes: 0 }), { configDir: '.' }));
  const pullWard = async (i: number) => {
    const w = h.wards[i]!;
    const t = performance.now();
    const r = await sources[i]!.pull({ ward: { id: w.id, name: w.name }, location: `Location/${w.id}`, datasets: DATASETS, now, signal: AbortSignal.timeout(600_000) });
    return { ms: performance.now() - t, requests: r.requests, patients: r.snapshot.patients.length, orders: r.snapshot.patients.reduce((n, p) => n + p.orders.items.length, 0) };
  };
  const first = await pullWard(0);
  let peakRss = process.memoryUsage().rss;
  const perWardMs: number[] = [];
  let requests = 0;
  let patients = 0;
  let orders = 0;
  let next = 0;
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < wards) {
        const r = await pullWard(next++);
        perWardMs.push(r.ms);
        requests += r.requests;
        patients += r.patients;
        orders += r.orders;
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    }),
  );
  const allMs = performance.now() - t1;
  for (const s of servers) await s.close();
  perWardMs.sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        cores: os.cpus().length,
        server: `${wards} Medplum FhirRouter/MemoryRepository servers on loopback (one per ward), loaded in ${Math.round(loadMs)} ms; servers and client share this process and its 2 cores`,
        ward40: { ms: Math.round(first.ms), requests: first.requests, patients: first.patients, orders: first.orders },
        hospital: { wards, patients, orders, concurrency, ms: Math.round(allMs), requests, wardMsMedian: Math.round(perWardMs[Math.floor(perWardMs.length / 2)]!), wardMsMax: Math.round(perWardMs.at(-1)!) },
        peakRssMb: Math.round(peakRss / 1024 / 1024),
      },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
