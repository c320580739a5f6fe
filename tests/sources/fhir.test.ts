import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema, type FhirSourceConfig } from '../../agent/config/schema.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import { DATASETS as ALL_DATASETS } from '../../agent/model/ward.js';

/**
 * Everything but recent results. These tests are about our client (paging,
 * timeouts, faults); the in-process Medplum stand-in answers a date-bounded
 * Observation search slowly (about 250 ms a page for this ward), which would
 * make their timings about the stand-in. Results have their own test
 * (tests/sources/results.test.ts).
 */
const DATASETS = ALL_DATASETS.filter((d) => d !== 'results');
import { NOW, startHis } from '../support/fixtures.js';

let his: { server: FhirTestServer; hospital: SyntheticHospital };
beforeAll(async () => {
  // Small pages force the client through several `next` links per search.
  his = await startHis({ patients: 30, maxCount: 25 });
});
afterAll(async () => {
  await his.server.close();
});

const cfg = (over: Partial<FhirSourceConfig> = {}): FhirSourceConfig => ({
  id: 'his', kind: 'fhir', name: 'Test HIS', baseUrl: his.server.url, auth: { kind: 'none' }, timeoutMs: 2000,
  maxResponseBytes: 20 * 1024 * 1024, maxConcurrency: 3, retries: 2, pageSize: 25, censusShrinkWarning: 0.3, ...over,
});
const pull = (over: Partial<FhirSourceConfig> = {}) =>
  createFhirSource(cfg(over), { configDir: '/tmp', backoffMs: 10 }).pull({ ward: { id: 'ward-1', name: 'Ward 1' }, location: 'Location/ward-1', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(30_000) });

describe('FHIR source against a real FHIR server', () => {
  it('pulls the ward and matches what the server holds', async () => {
    const before = his.server.requests.length;
    const { snapshot, requests } = await pull();
    const truth = his.hospital.wards[0]!;
    expect(snapshot.patients).toHaveLength(truth.patients.length);
    expect(snapshot.beds).toHaveLength(truth.beds.length);
    expect(snapshot.beds.filter((b) => b.patientId).length).toBe(truth.patients.length);
    for (const t of truth.patients) {
      const p = snapshot.patients.find((x) => x.id === t.id)!;
      expect(p).toMatchObject({ mrn: t.mrn, name: t.name, birthDate: t.birthDate, sex: t.sex, bedId: t.bedId, attending: t.attending, admittingDiagnosis: t.admittingDiagnosis, codeStatus: t.codeStatus, weightKg: t.weightKg });
      expect(p.allergies.status).toBe(t.allergies.status);
      expect(p.allergies.items.map((a) => a.substance).sort()).toEqual(t.allergies.items.map((a) => a.substance).sort());
      expect(p.orders.items.map((o) => o.drug).sort()).toEqual(t.orders.items.map((o) => o.drug).sort());
      expect(p.orders.items.filter((o) => o.prn).length).toBe(t.orders.items.filter((o) => o.prn).length);
      expect(p.orders.items.filter((o) => o.highAlert).length).toBe(t.orders.items.filter((o) => o.highAlert).length);
      expect(p.administrations.items.length).toBe(t.administrations.items.length);
      expect(p.isolation).toEqual(t.isolation);
    }
    // Paging was followed through the server's opaque cursors.
    const seen = his.server.requests.slice(before);
    expect(seen.some((r) => r.includes('_cursor='))).toBe(true);
    expect(requests).toBe(seen.length);
    // Batched: the searches started (pages aside) do not grow with the number of patients.
    const searches = seen.filter((r) => !r.includes('_cursor='));
    // One per query kind and chunk of 40 references (locations, encounters, patients, six datasets,
    // medications, practitioners): about 17 here, where one search per patient per dataset would be 180.
    expect(searches.length).toBeLessThanOrEqual(20);
  });

  it('asks for large pages by default and follows next links when the server sends fewer', async () => {
    const small = await pull();
    const before = his.server.requests.length;
    const large = await pull({ pageSize: fhirSourceSchema.parse({ id: 'x', kind: 'fhir', baseUrl: 'http://x' }).pageSize });
    const seen = his.server.requests.slice(before);
    expect(seen.some((r) => r.includes('_count=1000'))).toBe(true);
    // The server keeps to its 25 per page; every page was still fetched.
    expect(seen.some((r) => r.includes('_cursor='))).toBe(true);
    const ordersOf = (r: typeof small) => r.snapshot.patients.map((p) => [p.id, p.orders.items.length, p.administrations.items.length]).sort();
    expect(ordersOf(large)).toEqual(ordersOf(small));
  });

  it('honours Retry-After on 429 and retries 500 then succeeds', async () => {
    let n = 0;
    his.server.fault = ({ path, attempt }) => {
      if (path.startsWith('/Location?_id') && attempt === 1) return { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
      if (path.startsWith('/Encounter') && n++ === 0) return { kind: 'status', status: 500 };
      return undefined;
    };
    try {
      const t0 = Date.now();
      const { snapshot } = await pull();
      expect(snapshot.patients).toHaveLength(30);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    } finally {
      his.server.fault = null;
    }
  });

  it('does not retry a 4xx, and fails the whole pull', async () => {
    let calls = 0;
    his.server.fault = ({ path }) => (path.startsWith('/MedicationRequest') ? (calls++, { kind: 'status', status: 403 }) : undefined);
    try {
      await expect(pull()).rejects.toThrow(/refused the MedicationRequest search: HTTP 403/);
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(2); // one per chunk, none retried
    } finally {
      his.server.fault = null;
    }
  });

  it('names the search and quotes the server\'s own words when it keeps failing with 5xx', async () => {
    const outcome = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: 'database connection pool exhausted' }] });
    his.server.fault = ({ path }) => (path.startsWith('/AllergyIntolerance') ? { kind: 'status', status: 503, body: outcome } : undefined);
    try {
      await expect(pull({ retries: 1 })).rejects.toThrow(/answered HTTP 503 to the AllergyIntolerance search \(database connection pool exhausted\)/);
    } finally {
      his.server.fault = null;
    }
  });

  it('reports a server that is down, slow, malformed or enormous', async () => {
    await expect(createFhirSource(cfg({ baseUrl: 'http://127.0.0.1:9/fhir', retries: 1 }), { configDir: '/tmp', backoffMs: 5 }).pull({ ward: { id: 'w', name: 'W' }, location: 'Location/w', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(10_000) })).rejects.toThrow(/cannot reach 127.0.0.1:9: ECONNREFUSED/);
    his.server.fault = () => ({ kind: 'delay', ms: 1500 });
    try {
      await expect(pull({ timeoutMs: 300, retries: 0 })).rejects.toThrow(/no answer within 300 ms/);
    } finally {
      his.server.fault = null;
    }
    // A server that drips a few bytes before each pause runs out is cut off by the whole answer's deadline.
    his.server.fault = ({ path }) => (path.startsWith('/Encounter') ? { kind: 'drip', everyMs: 100 } : undefined);
    try {
      const t0 = Date.now();
      await expect(pull({ timeoutMs: 500, retries: 0 })).rejects.toThrow(/took longer than 2 s \(4 × timeoutMs\) to arrive/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      his.server.fault = null;
    }
    his.server.fault = ({ path }) => (path.startsWith('/Encounter') ? { kind: 'body', body: '{"resourceType": "Bundle", "entry": [' } : undefined);
    try {
      await expect(pull()).rejects.toThrow(/not JSON/);
    } finally {
      his.server.fault = null;
    }
    his.server.fault = ({ path }) => (path.startsWith('/Encounter') ? { kind: 'body', body: JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Encounter', id: 'x', padding: 'x'.repeat(300_000) } }] }) } : undefined);
    try {
      await expect(pull({ maxResponseBytes: 100_000 })).rejects.toThrow(/exceeds the cap of 100000 bytes/);
    } finally {
      his.server.fault = null;
    }
  });

  it('fetches patients the server did not include, and fails if one is missing', async () => {
    const victim = his.hospital.wards[0]!.patients[0]!;
    const saved = await his.server.repo.readResource('Patient', victim.id);
    await his.server.repo.deleteResource('Patient', victim.id);
    try {
      await expect(pull()).rejects.toThrow(/1 patient\(s\) on the census could not be read/);
    } finally {
      await his.server.repo.updateResource(saved);
    }
  });

  it('keeps OperationOutcome warnings from inside a Bundle', async () => {
    his.server.fault = ({ path }) =>
      path.startsWith('/Flag')
        ? { kind: 'body', body: JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'processing', diagnostics: 'Flag search limited to 90 days' }] }, search: { mode: 'outcome' } }] }) }
        : undefined;
    try {
      const { snapshot } = await pull();
      expect(snapshot.warnings.map((w) => w.message)).toContain('Flag search: Flag search limited to 90 days');
    } finally {
      his.server.fault = null;
    }
  });
});
