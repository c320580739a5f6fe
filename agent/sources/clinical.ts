import type { Patient, SourceInfo, SnapshotWarning } from '../model/ward.js';
import type { PullRequest, Source } from './types.js';
import { unionAllergies } from '../model/allergy-union.js';

/**
 * For sources that give only the census (an ADT feed, a drop-folder export):
 * medications, allergies … for those patients from the FHIR source the config
 * names in `clinical`, matched by MRN. Null when there is nothing to ask it.
 *
 * Allergies the census source sent (ADT AL1, an export's allergies column)
 * stay beside the clinical server's, each labelled with its system: neither
 * list replaces the other. The server is asked without the census source's
 * list, so what comes back is its own; a patient it does not know keeps the
 * census source's list as sent.
 */
export async function pullClinicalData(
  clinical: Source | undefined,
  req: PullRequest,
  patients: Patient[],
  censusSystem: string,
): Promise<{ patients: Patient[]; requests: number; warnings: SnapshotWarning[] } | null> {
  if (!clinical?.pullPatients || !req.datasets.some((d) => d !== 'census')) return null;
  if (patients.length === 0) return { patients, requests: 0, warnings: [] };
  const fromCensus = new Map(patients.map((p) => [p.id, p.allergies]));
  const r = await clinical.pullPatients(req, patients.map((p) => ({ ...p, allergies: { status: 'not-pulled' as const, items: [] } })));
  const merged = r.patients.map((p) => {
    const own = fromCensus.get(p.id) ?? { status: 'not-pulled' as const, items: [] };
    return { ...p, allergies: p.allergies.status === 'not-pulled' ? own : unionAllergies(p.allergies, clinical.info.system, own, censusSystem) };
  });
  return { patients: merged, requests: r.requests, warnings: r.warnings.map((message) => ({ code: 'source-warning', message })) };
}

/** What paper says the data came from: the census source, plus the clinical one when there is one. */
export const withClinicalSystem = (info: SourceInfo, clinical: Source | undefined): SourceInfo => (clinical ? { ...info, system: `${info.system} + ${clinical.info.system}` } : info);
