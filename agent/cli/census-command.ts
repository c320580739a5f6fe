import os from 'node:os';
import { parseArgs } from 'node:util';
import { silentLogger } from '../log/logger.js';
import { appendAudit } from '../audit/log.js';
import { acceptanceDetail, acceptHeldCensus, heldCensus, NothingHeldError } from '../schedule/held-census.js';
import { openAgent } from './boot.js';
import { out } from './usage.js';


/**
 * `paperback census status JOB [--json]`, `census accept JOB [--snapshot N] [--by NAME]`:
 * see and accept a census the drop guard held. Accepting is audited.
 */
export async function censusCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { snapshot: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  const jobId = positionals[0];
  if (!jobId || (sub !== 'status' && sub !== 'accept')) {
    process.stderr.write('usage: paperback census status JOB [--json] | census accept JOB [--snapshot N] [--by NAME]\n');
    return 2;
  }
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    if (!agent.config.jobs.has(jobId)) {
      process.stderr.write(`no snapshot job "${jobId}"\n`);
      return 5;
    }
    const h = heldCensus(agent.db, jobId);
    if (sub === 'status') {
      if (values.json) out(JSON.stringify(h ? { held: true, snapshotId: h.held.id, asOf: h.held.asOf, patients: h.held.counts.patients ?? null, currentSnapshotId: h.current?.id ?? null, currentPatients: h.current?.counts.patients ?? null, reason: h.reason } : { held: false }));
      else out(h ? `${jobId}: census HELD (snapshot ${h.held.id}, ${h.held.counts.patients ?? '?'} patients, as of ${h.held.asOf}): ${h.reason}\nthe current snapshot (${h.current?.id ?? 'none'}, ${h.current?.counts.patients ?? '?'} patients) stays current; accept with: paperback census accept ${jobId} --snapshot ${h.held.id}` : `${jobId}: no census held`);
      return 0;
    }
    const snapshotId = values.snapshot === undefined ? undefined : Number(values.snapshot);
    if (snapshotId !== undefined && !Number.isInteger(snapshotId)) {
      process.stderr.write('--snapshot must be a snapshot number\n');
      return 2;
    }
    const by = values.by ?? `cli:${os.userInfo().username}`;
    try {
      const accepted = acceptHeldCensus(agent.db, jobId, { snapshotId });
      appendAudit(agent.db, { actor: by, action: 'census-accepted', subject: jobId, detail: acceptanceDetail(accepted) });
      const s = accepted.published;
      out(`${jobId}: snapshot ${s.id} accepted and published (${s.counts.patients ?? '?'} patients), by ${by}`);
      return 0;
    } catch (err) {
      if (err instanceof NothingHeldError) {
        process.stderr.write(`${err.message}\n`);
        return 1;
      }
      process.stderr.write(`${jobId}: not accepted: ${(err as Error).message}${h ? ` (the held snapshot is ${h.held.id})` : ''}\n`);
      return 1;
    }
  } finally {
    await agent.close();
  }
}
