import type { FhirClient } from './client.js';
import type { ResourceOf, ResourceType } from './schemas.js';

/** References per search: keeps URLs well under the 2–8 kB limits of proxies in front of EHRs. */
const CHUNK = 40;

export const chunks = <T>(xs: T[], n = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/** Search by a list of ids or references, a chunk per request, chunks in parallel (the HTTP layer bounds concurrency). */
export async function searchMany<T extends ResourceType>(
  client: FhirClient,
  type: T,
  param: string,
  values: string[],
  extra: Record<string, string>,
  signal: AbortSignal,
  warnings: string[],
): Promise<{ matches: ResourceOf<T>[]; included: Map<string, { resourceType: string; id?: string }>; serverTime: number | null }> {
  // The narrowing filters (_lastUpdated, status, dates) go first: servers that test a resource against the
  // filters in order (Medplum) then drop most resources before comparing against 40 references.
  const results = await Promise.all(chunks([...new Set(values)]).map((c) => client.search(type, { ...extra, [param]: c.join(',') }, signal)));
  const included = new Map<string, { resourceType: string; id?: string }>();
  const seen = new Set<string>();
  const matches: ResourceOf<T>[] = [];
  for (const r of results) {
    warnings.push(...r.warnings);
    for (const [k, v] of r.included) included.set(k, v);
    for (const m of r.matches) {
      const id = (m as { id?: string }).id ?? '';
      if (seen.has(id)) continue;
      seen.add(id);
      matches.push(m);
    }
  }
  // The earliest answer: every change after it is seen by a later search.
  const times = results.map((r) => r.serverTime).filter((t): t is number => t !== null);
  return { matches, included, serverTime: times.length === results.length && times.length > 0 ? Math.min(...times) : null };
}

