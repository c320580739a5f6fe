import type { DemoSourceConfig, FhirSourceConfig } from '../config/schema.js';
import { wardToFhir } from './fhir-emit.js';
import { startFhirServer, type FhirTestServer } from './fhir-server.js';
import { generateWard, rng } from './generator.js';

export interface DemoHis {
  server: FhirTestServer;
  /** The FHIR source configuration that reads from it. */
  fhir: FhirSourceConfig;
}

/**
 * The embedded demo central system: a real FHIR server on loopback loaded
 * with a synthetic ward per configured ward, generated from the seed.
 */
export async function startDemoHis(cfg: DemoSourceConfig, wards: { id: string; name: string }[], now = new Date()): Promise<DemoHis> {
  const server = await startFhirServer({ port: cfg.port });
  const r = rng(cfg.seed);
  for (const [i, w] of wards.entries()) {
    const ward = generateWard(r, i, { seed: cfg.seed, wards: wards.length, patientsPerWard: cfg.patients, now });
    // Keep the configured ward ids and names so the demo's locations match its jobs.
    const resources = wardToFhir({ ...ward, name: w.name }).map((res) => renameWard(res, ward.id, w.id));
    await server.load(resources);
  }
  return {
    server,
    fhir: {
      id: cfg.id,
      kind: 'fhir',
      name: cfg.name,
      baseUrl: server.url,
      auth: { kind: 'none' },
      timeoutMs: 15_000,
      maxResponseBytes: 16 * 1024 * 1024,
      maxConcurrency: 4,
      retries: 2,
      pageSize: 1000,
      censusShrinkWarning: 0.3,
      fullPullEveryMinutes: 60,
    },
  };
}

function renameWard<T>(res: T, from: string, to: string): T {
  if (from === to) return res;
  return JSON.parse(JSON.stringify(res).replaceAll(`"Location/${from}"`, `"Location/${to}"`).replaceAll(`"id":"${from}"`, `"id":"${to}"`)) as T;
}
