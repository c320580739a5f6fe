import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { FhirSourceConfig } from '../../config/schema.js';
import { httpGetter } from '../http.js';
import type { Source } from '../types.js';
import { authProvider } from './auth.js';
import { fhirClient } from './client.js';
import { memoryScope, pullWardFromFhir } from './pull.js';
import { clinicalMemory } from './clinical-memory.js';
import { clinicalForMrns } from './clinical.js';
import { searchMany } from './search-many.js';
import { mrnOf } from './normalize.js';

function postForm(ca: Buffer | undefined, timeoutMs: number) {
  return (url: string, form: URLSearchParams) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : http;
      const body = form.toString();
      const req = lib.request(u, { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`token endpoint ${u.host} did not answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}

export interface FhirSourceOptions {
  configDir: string;
  /** Backoff base in ms (tests shorten it). */
  backoffMs?: number;
  /** How far before the server's last answer changes are asked for again (default 120 s; tests set it to 0). */
  changesOverlapSeconds?: number;
}

export function createFhirSource(cfg: FhirSourceConfig, opts: FhirSourceOptions): Source {
  const ca = cfg.caFile ? fs.readFileSync(path.resolve(opts.configDir, cfg.caFile)) : undefined;
  const auth = authProvider(cfg, opts.configDir, postForm(ca, cfg.timeoutMs));
  const http = httpGetter({
    timeoutMs: cfg.timeoutMs,
    maxResponseBytes: cfg.maxResponseBytes,
    retries: cfg.retries,
    maxConcurrency: cfg.maxConcurrency,
    backoffMs: opts.backoffMs,
    ca,
    headers: () => auth.headers(),
    onUnauthorized: () => auth.invalidate(),
  });
  const client = fhirClient(cfg.baseUrl, http, { pageSize: cfg.pageSize });
  const info = { id: cfg.id, system: cfg.name, location: cfg.baseUrl };
  const memory = clinicalMemory({ fullEveryMinutes: cfg.fullPullEveryMinutes, overlapSeconds: opts.changesOverlapSeconds });
  return {
    info,
    async pull(req) {
      const before = client.requestCount();
      const { snapshot, changesOnly } = await pullWardFromFhir({ client, source: info, memory, mrnSystem: cfg.mrnSystem }, req);
      return { snapshot, changesOnly, requests: client.requestCount() - before };
    },
    async pullPatients(req, patients) {
      const before = client.requestCount();
      const r = await clinicalForMrns(client, req, patients, { store: memory, scope: `mrns:${memoryScope(req)}` });
      return { ...r, requests: client.requestCount() - before };
    },
    async recordsFor(identifiers, signal) {
      const found = await searchMany(client, 'Patient', 'identifier', identifiers, {}, signal, []);
      const wanted = new Set(identifiers);
      const out = new Map<string, string>();
      for (const p of found.matches) {
        const mrn = mrnOf(p, cfg.mrnSystem);
        // A record whose only identifier is the downtime number is not a mapping to anything.
        for (const id of p.identifier ?? []) if (id.value && wanted.has(id.value) && mrn && mrn !== id.value && !out.has(id.value)) out.set(id.value, mrn);
      }
      return out;
    },
    async transaction(bundle, signal) {
      const res = await http.post(cfg.baseUrl.replace(/\/+$/, ''), Buffer.from(JSON.stringify(bundle)), 'application/fhir+json', signal);
      let body: unknown = null;
      try {
        body = JSON.parse(res.body.toString('utf8'));
      } catch {
        body = null;
      }
      return { status: res.status, body };
    },
    async administrationsFor(orderId, signal) {
      const found = await client.search('MedicationAdministration', { request: `MedicationRequest/${orderId}`, _count: String(cfg.pageSize) }, signal);
      return found.matches.map((m) => {
        const ids = ((m as { identifier?: { value?: string }[] }).identifier ?? []).flatMap((i) => (i.value ? [i.value] : []));
        return { id: m.id, at: m.effectiveDateTime ?? m.effectivePeriod?.start ?? null, identifiers: ids };
      });
    },
    async probe(signal) {
      await client.metadata(signal);
    },
  };
}
