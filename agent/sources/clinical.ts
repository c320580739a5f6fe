import type { Patient, SourceInfo, SnapshotWarning } from '../model/ward.js';
import type { PullRequest, Source } from './types.js';

/**
 * For sources that give only the census (an ADT feed, a drop-folder export):
 * medications, allergies … for those patients from the FHIR source the config
 * names in `clinical`, matched by MRN. Null when there is nothing to ask it.
 */
export async function pullClinicalData(
  clinical: Source | undefined,
  req: PullRequest,
  patients: Patient[],
): Promise<{ patients: Patient[]; requests: number; warnings: SnapshotWarning[] } | null> {
  if (!clinical?.pullPatients || !req.datasets.some((d) => d !== 'census')) return null;
  if (patients.length === 0) return { patients, requests: 0, warnings: [] };
  const r = await clinical.pullPatients(req, patients);
  return { patients: r.patients, requests: r.requests, warnings: r.warnings.map((message) => ({ code: 'source-warning', message })) };
}

/** What paper says the data came from: the census source, plus the clinical one when there is one. */
export const withClinicalSystem = (info: SourceInfo, clinical: Source | undefined): SourceInfo => (clinical ? { ...info, system: `${info.system} + ${clinical.info.system}` } : info);
