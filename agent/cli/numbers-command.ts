import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { appendAudit } from '../audit/log.js';
import { silentLogger } from '../log/logger.js';
import { listAdmissions } from '../outage/admissions.js';
import { DowntimeNumberError, importNumbers, issuedNumbers, mapDowntimeNumber, numberUsage, registrationRows } from '../store/downtime-numbers.js';
import { openAgent } from './boot.js';
import { EXIT, out, UsageError } from './usage.js';
import { csvCell } from '../model/csv.js';

const USAGE = `usage: paperback numbers status [--json]
       paperback numbers import FILE          numbers from the registration office (one per line, or CSV, number first)
       paperback numbers report [--out FILE]  every number issued, with the patient and the HIS record it became (CSV)
       paperback numbers map FILE [--by NAME] CSV of number,mrn[,encounter] from Registration: which HIS record each became
       paperback numbers map --from SOURCE    ask the HIS (FHIR) which patient record carries each downtime number`;

/** `paperback numbers …`: the box's downtime numbers, what they were given to, and what they became. */
export async function numbersCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, out: { type: 'string' }, by: { type: 'string' }, from: { type: 'string' } }, allowPositionals: true, strict: true });
  if (!['status', 'import', 'report', 'map'].includes(sub ?? '') || (sub === 'import' && !positionals[0]) || (sub === 'map' && !positionals[0] === !values.from)) throw new UsageError(USAGE);
  const actor = values.by ?? `cli:${os.userInfo().username}`;
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: !!values.from });
  try {
    const { db, blobs } = agent;
    if (sub === 'status') {
      const usage = numberUsage(db);
      const issued = issuedNumbers(db);
      if (values.json) out(JSON.stringify({ ...usage, warnAtPercent: agent.config.box.downtimeNumbers.warnAtPercent, issued: issued.map((n) => ({ number: n.number, issuedAt: n.issuedAt, issuedBy: n.issuedBy, hisMrn: n.hisMrn })) }, null, 2));
      else {
        out(`${usage.free} of ${usage.total} downtime numbers free (${usage.percentUsed}% used)${usage.percentUsed >= agent.config.box.downtimeNumbers.warnAtPercent ? ' — ASK THE REGISTRATION OFFICE FOR A NEW RANGE' : ''}`);
        for (const n of issued) out(`  ${n.number}  issued ${n.issuedAt} by ${n.issuedBy}${n.hisMrn ? `  → HIS ${n.hisMrn}` : '  (not mapped yet)'}`);
      }
      return EXIT.ok;
    }
    if (sub === 'import') {
      const file = path.resolve(positionals[0]!);
      const r = importNumbers(db, fs.readFileSync(file, 'utf8'), path.basename(file));
      appendAudit(db, { actor, action: 'numbers-import', subject: path.basename(file), detail: r });
      out(`imported ${r.added} number(s) from ${path.basename(file)}${r.known ? `; ${r.known} already known were left as they were` : ''}`);
      return EXIT.ok;
    }
    if (sub === 'report') {
      const header = 'number,issued_at,issued_by,family_name,given_names,birth_date,sex,ward,bed,his_mrn';
      const rows = listAdmissions(db, blobs).map((a) => [a.number, a.enteredAt, a.enteredBy, a.family, a.given, a.birthDate, a.sex, a.ward, a.bed, a.hisMrn].map(csvCell).join(','));
      const text = `${[header, ...rows].join('\r\n')}\r\n`;
      appendAudit(db, { actor, action: 'numbers-report', subject: null, detail: { rows: rows.length, toFile: !!values.out } });
      if (values.out) {
        fs.writeFileSync(values.out, text, { mode: 0o600 });
        out(`wrote ${rows.length} downtime admission(s) to ${values.out}`);
      } else process.stdout.write(text);
      return EXIT.ok;
    }
    if (values.from) return await mapFromSource(agent, values.from, actor);
    // map: the registration office's answer, one number per line.
    const file = path.resolve(positionals[0]!);
    let mapped = 0;
    let refused = 0;
    for (const { line, cells } of registrationRows(fs.readFileSync(file, 'utf8'))) {
      // registrationRows keeps only rows whose first cell (the number) is there.
      const [number = '', mrn, encounter] = cells;
      if (!mrn) {
        process.stderr.write(`line ${line}: ${number} has no HIS record number\n`);
        refused++;
        continue;
      }
      try {
        if (mapDowntimeNumber(db, number, { mrn, encounter: encounter || null, by: actor, now: new Date() }) === 'mapped') mapped++;
      } catch (err) {
        if (!(err instanceof DowntimeNumberError)) throw err;
        process.stderr.write(`line ${line}: ${err.message}\n`);
        refused++;
      }
    }
    appendAudit(db, { actor, action: 'numbers-mapped', subject: path.basename(file), detail: { mapped, refused } });
    out(`mapped ${mapped} downtime number(s) to HIS records${refused ? `; ${refused} line(s) refused (above)` : ''}`);
    return refused ? EXIT.failed : EXIT.ok;
  } finally {
    await agent.close();
  }
}

/** Ask a source which HIS record now carries each downtime number not mapped yet, and record what it says. */
async function mapFromSource(agent: Awaited<ReturnType<typeof openAgent>>, sourceId: string, actor: string): Promise<number> {
  const source = agent.sources.get(sourceId);
  if (!source?.recordsFor) throw new UsageError(`source "${sourceId}" cannot be asked for patient records (a FHIR source can)`);
  const open = issuedNumbers(agent.db).filter((n) => !n.hisMrn).map((n) => n.number);
  const found = open.length ? await source.recordsFor(open, AbortSignal.timeout(120_000)) : new Map<string, string>();
  let mapped = 0;
  let refused = 0;
  for (const [number, mrn] of found) {
    try {
      if (mapDowntimeNumber(agent.db, number, { mrn, by: actor, now: new Date() }) === 'mapped') mapped++;
    } catch (err) {
      if (!(err instanceof DowntimeNumberError)) throw err;
      process.stderr.write(`${err.message}\n`);
      refused++;
    }
  }
  appendAudit(agent.db, { actor, action: 'numbers-mapped', subject: sourceId, detail: { mapped, refused, notFound: open.length - found.size } });
  out(`mapped ${mapped} of ${open.length} unmapped downtime number(s) from ${sourceId}${open.length - found.size ? `; ${open.length - found.size} not on any HIS record yet` : ''}`);
  return refused ? EXIT.failed : EXIT.ok;
}
