import { SourceError, type HttpResponse } from '../http.js';
import { bundleSchema, operationOutcomeSchema, SCHEMAS, type ResourceOf, type ResourceType } from './schemas.js';

export interface SearchResult<T extends ResourceType> {
  matches: ResourceOf<T>[];
  /** `_include`d resources by "Type/id", when the server honoured _include. */
  included: Map<string, { resourceType: string; id?: string }>;
  /** OperationOutcome warnings the server put inside the Bundle. */
  warnings: string[];
  pages: number;
  /** The server's clock when it answered the first page (its Date header), if it said. */
  serverTime: number | null;
}

export interface FhirClient {
  search<T extends ResourceType>(type: T, params: Record<string, string>, signal?: AbortSignal): Promise<SearchResult<T>>;
  metadata(signal?: AbortSignal): Promise<{ software: string | null; fhirVersion: string | null }>;
  requestCount(): number;
}

/** Longest searchset Paperback follows before deciding the server is looping. */
const MAX_PAGES = 10_000;

function parseJson(res: HttpResponse, url: string): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new SourceError(`the server sent something that is not JSON (${res.body.length} bytes) for ${new URL(url).pathname}`, { url: new URL(url).pathname, retryable: false, code: 'malformed' });
  }
}

/** Ids only, never values: zod messages can quote data, ours never reach the log. */
function describeIssues(type: string, issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.slice(0, 3).map((i) => `${type}.${i.path.map(String).join('.')}: ${i.message.replace(/"[^"]*"/g, '…')}`).join('; ');
}

export function fhirClient(baseUrl: string, http: { get(url: string, signal?: AbortSignal): Promise<HttpResponse>; requestCount(): number }, opts: { pageSize: number }): FhirClient {
  const root = baseUrl.replace(/\/+$/, '');
  const origin = new URL(root).origin;
  return {
    requestCount: () => http.requestCount(),
    async metadata(signal) {
      const res = await http.get(`${root}/metadata`, signal);
      const cs = parseJson(res, `${root}/metadata`) as { software?: { name?: string; version?: string }; fhirVersion?: string };
      return { software: cs.software?.name ? [cs.software.name, cs.software.version].filter(Boolean).join(' ') : null, fhirVersion: cs.fhirVersion ?? null };
    },
    async search(type, params, signal) {
      const schema = SCHEMAS[type];
      const q = new URLSearchParams({ ...params });
      if (!q.has('_count')) q.set('_count', String(opts.pageSize));
      let url: string | null = `${root}/${type}?${q.toString()}`;
      const matches: ResourceOf<typeof type>[] = [];
      const included = new Map<string, { resourceType: string; id?: string }>();
      const warnings: string[] = [];
      const seenUrls = new Set<string>();
      let pages = 0;
      let serverTime: number | null = null;
      while (url) {
        if (seenUrls.has(url) || pages >= MAX_PAGES) throw new SourceError(`the server's paging for ${type} loops back on itself`, { url: `${root}/${type}`, retryable: false, code: 'paging-loop' });
        seenUrls.add(url);
        const res = await http.get(url, signal);
        pages++;
        if (serverTime === null && typeof res.headers.date === 'string') serverTime = Date.parse(res.headers.date) || null;
        const parsed = bundleSchema.safeParse(parseJson(res, url));
        if (!parsed.success) throw new SourceError(`the server's answer to a ${type} search is not a FHIR Bundle: ${describeIssues('Bundle', parsed.error.issues)}`, { url: `${root}/${type}`, retryable: false, code: 'malformed' });
        const bundle = parsed.data;
        for (const e of bundle.entry ?? []) {
          const r = e.resource;
          if (!r) continue;
          if (r.resourceType === 'OperationOutcome') {
            const oo = operationOutcomeSchema.safeParse(r);
            if (oo.success) {
              for (const i of oo.data.issue) {
                const text = i.diagnostics ?? i.details?.text ?? i.code ?? 'issue';
                if (i.severity === 'error' || i.severity === 'fatal') throw new SourceError(`the server reported an error inside the ${type} results: ${text.slice(0, 200)}`, { url: `${root}/${type}`, retryable: false, code: 'outcome-error' });
                if (i.severity === 'warning') warnings.push(`${type} search: ${text.slice(0, 200)}`);
              }
            }
            continue;
          }
          const mode = e.search?.mode ?? (r.resourceType === type ? 'match' : 'include');
          if (mode === 'include' || r.resourceType !== type) {
            const id = (r as { id?: string }).id;
            if (id) included.set(`${r.resourceType}/${id}`, r as { resourceType: string; id?: string });
            continue;
          }
          const ok = schema.safeParse(r);
          if (!ok.success) throw new SourceError(`a ${type} from the server is malformed: ${describeIssues(type, ok.error.issues)}`, { url: `${root}/${type}`, retryable: false, code: 'malformed' });
          matches.push(ok.data as ResourceOf<typeof type>);
        }
        const next = bundle.link?.find((l) => l.relation === 'next')?.url ?? null;
        if (next) {
          const abs = new URL(next, `${root}/`);
          // Follow links only to the same server: a hostile or misconfigured next link must not take our token elsewhere.
          if (abs.origin !== origin) throw new SourceError(`the server's next link points to another host (${abs.host})`, { url: `${root}/${type}`, retryable: false, code: 'foreign-link' });
          url = abs.toString();
        } else url = null;
      }
      return { matches, included, warnings, pages, serverTime };
    },
  };
}
