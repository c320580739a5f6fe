import type { Bed, Patient, SnapshotWarning, WardSnapshot } from '../../model/ward.js';
import { compareLabels } from '../../model/helpers.js';
import { SourceError } from '../http.js';
import type { FhirClient } from './client.js';
import { basePatient, refId } from './normalize.js';
import { patientSchema, type FhirEncounter, type FhirLocation, type FhirPatient } from './schemas.js';
import type { PullRequest } from '../types.js';
import { searchMany } from './search-many.js';
import { fetchClinical } from './clinical.js';
import type { ClinicalMemory } from './clinical-memory.js';

const physicalCode = (l: FhirLocation) => l.physicalType?.coding?.find((c) => c.code)?.code ?? null;

export interface FhirPullContext {
  client: FhirClient;
  /** The last pull of each ward, to ask next time only for what changed. */
  memory?: ClinicalMemory;
  source: { id: string; system: string; location: string | null };
  mrnSystem?: string;
}

/** Walk Location.partOf downwards from the ward: rooms and beds, however deep. */
async function locationTree(client: FhirClient, wardLocationId: string, signal: AbortSignal, warnings: string[]): Promise<{ ward: FhirLocation; all: FhirLocation[] }> {
  const childrenOf = (ids: string[]) => searchMany(client, 'Location', 'partof', ids.map((id) => `Location/${id}`), {}, signal, warnings);
  // The ward and its rooms are asked for together: one round trip less on every pull.
  const [root, rooms] = await Promise.all([client.search('Location', { _id: wardLocationId }, signal), childrenOf([wardLocationId])]);
  const ward = root.matches.find((l) => l.id === wardLocationId);
  if (!ward) throw new SourceError(`the ward location Location/${wardLocationId} does not exist on the server; check scope.location in the snapshot job`, { retryable: false, code: 'no-ward' });
  const all: FhirLocation[] = [ward];
  const seen = new Set([ward.id]);
  let frontier = [ward.id];
  for (let depth = 0; frontier.length > 0 && depth < 6; depth++) {
    const children = depth === 0 ? rooms : await childrenOf(frontier);
    frontier = [];
    for (const c of children.matches) {
      const parent = refId(c.partOf?.reference, 'Location');
      // A server that ignores `partof` returns every location: keep only real children.
      if (seen.has(c.id) || !parent || !seen.has(parent)) continue;
      seen.add(c.id);
      all.push(c);
      frontier.push(c.id);
    }
  }
  return { ward, all };
}

type Census = { beds: Bed[]; byPatient: Map<string, FhirEncounter>; included: Map<string, { resourceType: string; id?: string }> };

/** The newest in-progress encounter per patient; a server that ignores `status` must not bring back discharged patients. */
function latestInProgress(matches: FhirEncounter[]): Map<string, FhirEncounter> {
  const byPatient = new Map<string, FhirEncounter>();
  for (const e of matches) {
    const pid = refId(e.subject?.reference, 'Patient');
    if (e.status !== 'in-progress' || !pid) continue;
    const prev = byPatient.get(pid);
    if (!prev || (e.period?.start ?? '') > (prev.period?.start ?? '')) byPatient.set(pid, e);
  }
  return byPatient;
}

/** Census strategy 1: in-progress Encounters at the ward Location and every location below it. */
async function censusFromLocation(client: FhirClient, wardLocationId: string, req: PullRequest, warnings: string[]): Promise<Census> {
  const { signal } = req;
  const tree = await locationTree(client, wardLocationId, signal, warnings);
  const parentOf = new Map(tree.all.map((l) => [l.id, refId(l.partOf?.reference, 'Location')]));
  const hasChildren = new Set([...parentOf.values()].filter(Boolean) as string[]);
  // Beds are locations typed "bd"; a server without physical types gets its leaves treated as beds.
  const typed = tree.all.some((l) => physicalCode(l) === 'bd');
  const bedLocations = tree.all.filter((l) => l.id !== tree.ward.id && (typed ? physicalCode(l) === 'bd' : !hasChildren.has(l.id)));
  const beds: Bed[] = bedLocations
    .map((l) => {
      const parent = parentOf.get(l.id);
      const room = parent && parent !== tree.ward.id ? tree.all.find((x) => x.id === parent)?.name ?? null : null;
      return { id: l.id, label: l.name ?? l.id, room, patientId: null };
    })
    .sort((a, b) => compareLabels(a.label, b.label));
  const enc = await searchMany(client, 'Encounter', 'location', tree.all.map((l) => `Location/${l.id}`), { status: 'in-progress', _include: 'Encounter:subject' }, signal, warnings);
  return { beds, byPatient: latestInProgress(enc.matches), included: enc.included };
}

/**
 * Census strategy 2: a patient list (scope.location "List/ID"), for servers
 * that do not search Encounters by location. Beds come from each patient's
 * in-progress encounter; a listed patient without one stays on the census
 * without a bed.
 */
async function censusFromList(client: FhirClient, listId: string, req: PullRequest, warnings: string[]): Promise<Census> {
  const { signal } = req;
  const res = await client.search('List', { _id: listId }, signal);
  const list = res.matches.find((l) => l.id === listId);
  if (!list) throw new SourceError(`the patient list List/${listId} does not exist on the server; check scope.location in the snapshot job`, { retryable: false, code: 'no-list' });
  if (list.status !== 'current') warnings.push(`the patient list is "${list.status}", not "current"`);
  const ids = [...new Set((list.entry ?? []).filter((e) => !e.deleted).map((e) => refId(e.item.reference, 'Patient')).filter((x): x is string => !!x))];
  const enc = ids.length ? await searchMany(client, 'Encounter', 'subject', ids.map((id) => `Patient/${id}`), { status: 'in-progress' }, signal, warnings) : { matches: [], included: new Map() };
  const byPatient = latestInProgress(enc.matches);
  for (const id of ids) if (!byPatient.has(id)) byPatient.set(id, { resourceType: 'Encounter', status: 'unknown', subject: { reference: `Patient/${id}` } } as FhirEncounter);
  const locIds = [...new Set([...byPatient.values()].flatMap((e) => (e.location ?? []).filter((l) => l.status !== 'completed').map((l) => refId(l.location.reference, 'Location'))).filter((x): x is string => !!x))];
  const locs = locIds.length ? await searchMany(client, 'Location', '_id', locIds, {}, signal, warnings) : { matches: [] as FhirLocation[] };
  // The most specific location of each encounter is its bed: one that is nobody's parent.
  const parents = new Set(locs.matches.map((l) => refId(l.partOf?.reference, 'Location')).filter(Boolean));
  const beds: Bed[] = locs.matches
    .filter((l) => !parents.has(l.id))
    .map((l) => ({ id: l.id, label: l.name ?? l.id, room: locs.matches.find((x) => x.id === refId(l.partOf?.reference, 'Location'))?.name ?? null, patientId: null }))
    .sort((a, b) => compareLabels(a.label, b.label));
  return { beds, byPatient, included: enc.included };
}

/** One ward's pulls share a memory only while they ask for the same things. */
export const memoryScope = (req: PullRequest) => JSON.stringify([req.ward.id, req.location, [...req.datasets].sort()]);

export async function pullWardFromFhir(ctx: FhirPullContext, req: PullRequest): Promise<{ snapshot: WardSnapshot; changesOnly: boolean }> {
  const { client } = ctx;
  const { signal } = req;
  const warnings: string[] = [];
  const asOf = req.now.toISOString();
  const listId = refId(req.location, 'List');
  const { beds, byPatient, included } = listId ? await censusFromList(client, listId, req, warnings) : await censusFromLocation(client, refId(req.location, 'Location') ?? req.location, req, warnings);
  const bedIds = new Set(beds.map((b) => b.id));
  const patientIds = [...byPatient.keys()];

  // Patients: use what the server included, fetch the rest ourselves (many servers ignore _include).
  const patients = new Map<string, FhirPatient>();
  for (const [key, r] of included) {
    if (!key.startsWith('Patient/')) continue;
    const ok = patientSchema.safeParse(r);
    if (ok.success) patients.set(ok.data.id, ok.data);
  }
  const missing = patientIds.filter((id) => !patients.has(id));
  // The clinical searches need only the patients' ids: they go out with the Patient reads, not after them.
  const [fetched, clinicalAnswer] = await Promise.allSettled([
    missing.length > 0 ? searchMany(client, 'Patient', '_id', missing, {}, signal, warnings) : Promise.resolve(null),
    fetchClinical(client, req, patientIds, {
      included,
      practitionerRefs: [...byPatient.values()].flatMap((e) => (e.participant ?? []).map((p) => p.individual)),
      warnings,
      memory: ctx.memory && { store: ctx.memory, scope: memoryScope(req) },
    }),
  ]);
  if (fetched.status === 'rejected') throw fetched.reason;
  for (const p of fetched.value?.matches ?? []) patients.set(p.id, p);
  const lost = patientIds.filter((id) => !patients.has(id));
  // An encounter pointing nowhere is a broken census: the run fails and the last good one stays. A patient
  // list is the ward's own: its other patients print, and the census names the entry it could not read.
  if (lost.length > 0 && !listId) throw new SourceError(`${lost.length} patient(s) on the census could not be read from the server (an encounter points to a missing Patient)`, { retryable: false, code: 'missing-patient' });
  const unreadable: SnapshotWarning[] = lost.map((id) => ({ code: 'partial-data', message: `the patient list names Patient/${id}, which the server could not return: that entry is not on this census`, say: { key: 'warning.listEntryMissing', vars: { ref: `Patient/${id}` } } }));
  for (const id of lost) byPatient.delete(id);
  if (clinicalAnswer.status === 'rejected') throw clinicalAnswer.reason;
  const clinical = clinicalAnswer.value;
  const practitioners = clinical.practitioners;
  const out: Patient[] = [];
  const bedById = new Map(beds.map((b) => [b.id, b]));
  for (const [pid, e] of byPatient) {
    const locs = (e.location ?? []).filter((l) => l.status !== 'completed');
    const bedRef = locs.map((l) => refId(l.location.reference, 'Location')).find((id): id is string => !!id && bedIds.has(id)) ?? null;
    const p = basePatient(patients.get(pid)!, e, bedRef, practitioners, ctx.mrnSystem, req.nameOrder);
    if (bedRef) {
      const bed = bedById.get(bedRef)!;
      if (bed.patientId) warnings.push(`two patients are placed in bed ${bed.label}`);
      else bed.patientId = pid;
    }
    clinical.fill(p, pid);
    out.push(p);
  }
  const snapshot: WardSnapshot = {
    ward: req.ward,
    asOf,
    source: ctx.source,
    beds,
    patients: out,
    warnings: [...unreadable, ...[...new Set(warnings)].map((message) => ({ code: 'source-warning' as const, message }))],
  };
  return { snapshot, changesOnly: clinical.mode === 'changes' };
}
