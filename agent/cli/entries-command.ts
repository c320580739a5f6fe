import os from 'node:os';
import { parseArgs } from 'node:util';
import { appendAudit } from '../audit/log.js';
import { fileBack, FileBackError } from '../fileback/file-back.js';
import { createLogger } from '../log/logger.js';
import { entryCounts } from '../store/downtime-entries.js';
import { openAgent } from './boot.js';
import { EXIT, out, UsageError } from './usage.js';

const USAGE = `usage: paperback entries status [--json]        what was recorded during downtimes, by filing state
       paperback entries fileback [--job ID] [--patient KEY] [--by NAME]
                                                  send pending entries to the HIS (paperback.yaml fileBack), each once`;

/** `paperback entries …`: downtime entries after recovery. */
export async function entriesCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, job: { type: 'string' }, patient: { type: 'string' }, by: { type: 'string' } }, allowPositionals: false, strict: true });
  if (sub !== 'status' && sub !== 'fileback') throw new UsageError(USAGE);
  const actor = values.by ?? `cli:${os.userInfo().username}`;
  const log = createLogger({ level: 'warn' });
  const agent = await openAgent({ configDir, dataDir, log, withSources: sub === 'fileback' });
  try {
    if (sub === 'status') {
      const c = entryCounts(agent.db);
      if (values.json) out(JSON.stringify(c));
      else out(`pending ${c.pending} · filed ${c.filed} · failed ${c.failed} · rejected ${c.rejected} · needs a person ${c['needs-person']}`);
      return EXIT.ok;
    }
    try {
      const r = await fileBack({ db: agent.db, blobs: agent.blobs, config: agent.config, sources: agent.sources, log }, { jobId: values.job, patient: values.patient });
      appendAudit(agent.db, { actor, action: 'entries-filed', subject: values.job ?? null, detail: { filed: r.filed, failed: r.failed, rejected: r.rejected, needsPerson: r.needsPerson } });
      out(`filed ${r.filed} · failed ${r.failed} (sent again next time) · rejected ${r.rejected} · needs a person ${r.needsPerson}`);
      for (const p of [...new Set(r.problems)].slice(0, 10)) out(`  ${p}`);
      return r.failed > 0 ? EXIT.failed : EXIT.ok;
    } catch (err) {
      if (err instanceof FileBackError) {
        process.stderr.write(`${err.message}\n`);
        return err.code === 'busy' ? EXIT.busy : EXIT.failed;
      }
      throw err;
    }
  } finally {
    await agent.close();
  }
}
