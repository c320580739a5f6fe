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
  let who = '';
  if (artifact.patientKey) {
    const data = getArtifact(db, cur.id, 'data/ward');
    if (data) {
      const ward = JSON.parse(blobs.get(data.sha256).toString('utf8')) as WardSnapshot;
      const p = ward.patients.find((x) => patientKey(x) === artifact.patientKey);
      const bed = p ? ward.beds.find((b) => b.id === p.bedId)?.label : undefined;
      who = p ? ` ${initials(p.name)}${bed ? ` bed ${bed}` : ''}` : '';
    }
  }
  const kind = address.split('/')[0]!;
  return { jobId: job.id, address, artifact, printJobName: `${job.scope.ward} ${kind}${who}`.slice(0, 100) };
}
