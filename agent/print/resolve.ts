import type { LoadedConfig } from '../config/load.js';
import { initials, patientKey } from '../model/helpers.js';
import type { WardSnapshot } from '../model/ward.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { currentSnapshot, getArtifact, type ArtifactRow } from '../store/snapshots.js';
import { PaperbackError } from '../log/errors.js';

export class AddressError extends PaperbackError {
  constructor(message: string) {
    super('address', message);
  }
}

export interface ResolvedDocument {
  jobId: string;
  address: string;
  artifact: ArtifactRow;
  /** What the printer's queue shows: ward, document, patient initials — never a full name. */
  printJobName: string;
}

/** Turn "ward-3a/mar/MRN123" into the current snapshot's artifact and a job name a person recognises. */
export function resolveDocument(config: LoadedConfig, db: Db, blobs: BlobStore, fullAddress: string): ResolvedDocument {
  const [jobId, ...rest] = fullAddress.split('/');
  const address = rest.join('/');
  const job = jobId ? config.jobs.get(jobId) : undefined;
  if (!job || !address) throw new AddressError(`"${fullAddress}" is not a document address (JOB/DOCUMENT, e.g. ward-3a/census; see \`paperback docs JOB\`)`);
  const cur = currentSnapshot(db, job.id);
  if (!cur) throw new AddressError(`job ${job.id} has no snapshot yet`);
  const artifact = getArtifact(db, cur.id, address);
  if (!artifact || artifact.kind !== 'document') throw new AddressError(`no document "${address}" in the current snapshot of ${job.id}`);
  let ward: WardSnapshot | null = null;
  if (artifact.patientKey) {
    const data = getArtifact(db, cur.id, 'data/ward');
    if (data) ward = JSON.parse(blobs.get(data.sha256).toString('utf8')) as WardSnapshot;
  }
  return { jobId: job.id, address, artifact, printJobName: printJobName(job.scope.ward, artifact, ward) };
}

/** What the printer's queue shows for a document: ward, document, patient initials and bed, never a full name. */
export function printJobName(wardId: string, artifact: Pick<ArtifactRow, 'address' | 'patientKey'>, ward: WardSnapshot | null): string {
  const p = artifact.patientKey && ward ? ward.patients.find((x) => patientKey(x) === artifact.patientKey) : undefined;
  const bed = p ? ward!.beds.find((b) => b.id === p.bedId)?.label : undefined;
  const who = p ? ` ${initials(p.name)}${bed ? ` bed ${bed}` : ''}` : '';
  return `${wardId} ${artifact.address.split('/')[0]!}${who}`.slice(0, 100);
}
