import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { appendAudit, auditCsv, verifyAuditChain } from '../audit/log.js';
import { auditRowsWithArchives } from '../audit/archive.js';
import { silentLogger } from '../log/logger.js';
import { openAgent } from './boot.js';

/** `paperback audit export [--since DATE] [--until DATE] [--out FILE]` and `paperback audit verify`. */
export async function auditCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } }, strict: true });
  for (const k of ['since', 'until'] as const) {
    if (values[k] && !/^\d{4}-\d{2}-\d{2}$/.test(values[k]!)) {
      process.stderr.write(`--${k} is a date like 2026-11-01\n`);
      return 2;
    }
  }
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    if (sub === 'verify') {
      const r = verifyAuditChain(agent.db, { anchorFile: agent.config.auditAnchorFile, archiveDir: agent.config.auditArchiveDir });
      const errors = r.problems.filter((p) => p.severity === 'error');
      for (const p of r.problems) process.stdout.write(`${p.severity.toUpperCase()}: ${p.what}\n`);
      process.stdout.write(errors.length ? 'audit log has been tampered with\n' : `audit log OK: ${r.checked} rows, chain unbroken, every seal matches\n`);
      return errors.length ? 1 : 0;
    }
    if (sub !== 'export') {
      process.stderr.write('usage: paperback audit export [--since DATE] [--until DATE] [--out FILE] | paperback audit verify\n');
      return 2;
    }
    const until = values.until ? new Date(Date.parse(values.until) + 86_400_000).toISOString() : undefined;
    const rows = auditRowsWithArchives(agent.db, agent.config.auditArchiveDir, { since: values.since, until });
    appendAudit(agent.db, { actor: `cli:${os.userInfo().username}`, action: 'audit-export', subject: null, detail: { rows: rows.length, since: values.since ?? null, until: values.until ?? null } });
    const csv = auditCsv(rows);
    if (values.out) {
      fs.writeFileSync(values.out, csv, { mode: 0o600 });
      process.stderr.write(`wrote ${rows.length} audit rows to ${values.out}\n`);
    } else process.stdout.write(csv);
    return 0;
  } finally {
    await agent.close();
  }
}
