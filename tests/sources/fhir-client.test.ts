import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema } from '../../agent/config/schema.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import { DATASETS } from '../../agent/model/ward.js';
import { NOW, startHis, tmpDir } from '../support/fixtures.js';

let his: FhirTestServer;
beforeAll(async () => {
  ({ server: his } = await startHis({ patients: 45 }));
});
afterAll(async () => {
  his.fault = null;
  await his.close();
});

const dir = tmpDir('pb-auth-');
fs.writeFileSync(path.join(dir, 'pw'), 's3cret pass\n');
fs.writeFileSync(path.join(dir, 'token'), 'static-token-123\n');
const pull = (over: Record<string, unknown> = {}) =>
  createFhirSource(fhirSourceSchema.parse({ id: 'his', kind: 'fhir', baseUrl: his.url, retries: 0, ...over }), { configDir: dir }).pull({ ward: { id: 'ward-1', name: 'W' }, location: 'Location/ward-1', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(30_000) });

describe('FHIR client behaviour', () => {
  it('sends Basic and static bearer credentials read from their files', async () => {
    const seen: string[] = [];
    his.fault = ({ headers }) => void seen.push(String(headers.authorization)) as undefined;
    try {
      await pull({ auth: { kind: 'basic', username: 'paperback', passwordFile: 'pw' } });
      expect(new Set(seen)).toEqual(new Set([`Basic ${Buffer.from('paperback:s3cret pass').toString('base64')}`]));
      seen.length = 0;
      await pull({ auth: { kind: 'bearer', tokenFile: 'token' } });
      expect(new Set(seen)).toEqual(new Set(['Bearer static-token-123']));
    } finally {
      his.fault = null;
    }
  });

  it('never has more requests in flight than maxConcurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    his.fault = () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => inFlight--, 30);
      return { kind: 'delay', ms: 30 };
    };
    try {
      await pull({ maxConcurrency: 2 });
    } finally {
      his.fault = null;
    }
    expect(peak).toBeGreaterThanOrEqual(2); // chunks of 40 patients run side by side…
    expect(peak).toBeLessThanOrEqual(2); // …but never more than the limit
  });

  it('filters again what a server that ignores search parameters sends back', async () => {
    // This server ignores `status` on Encounter: it also returns a finished stay.
    const enc = await his.repo.readResource('Encounter', 'enc-p-1-1');
    await his.repo.updateResource({ ...enc, id: 'enc-old', status: 'finished' });
    his.ignoreParams = ['status'];
    try {
      const { snapshot } = await pull();
      expect(snapshot.patients).toHaveLength(45);
      expect(snapshot.patients.filter((p) => p.id === 'p-1-1')).toHaveLength(1);
      expect(his.requests.some((r) => r.startsWith('/Encounter') && r.includes('status=in-progress'))).toBe(true);
    } finally {
      his.ignoreParams = [];
      await his.repo.deleteResource('Encounter', 'enc-old');
    }
  });
});
