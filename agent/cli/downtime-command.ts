import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { silentLogger } from '../log/logger.js';
import { appendAudit } from '../audit/log.js';
import { activeDowntime, declareDowntime, endDeclaration, listDowntimes, openDeclaration } from '../outage/downtime.js';
import { openAgent } from './boot.js';
import { out } from './usage.js';
import { csvCell } from '../model/csv.js';
import { formatDateTime } from '../render/i18n.js';
import type { DowntimeRow } from '../outage/downtime.js';


/**
 * `paperback downtime start --reason R [--by NAME]`, `end [--by NAME]`, `status [--json]`.
 * A declaration is written to the store; the running agent acts on it within one probe interval.
 */
export async function downtimeCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { reason: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' }, since: { type: 'string' } }, strict: true });
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  const by = values.by ?? `cli:${os.userInfo().username}`;
  try {
    switch (sub) {
      case 'start': {
        if (!values.reason) {
          process.stderr.write('usage: paperback downtime start --reason "why" [--by NAME]\n');
          return 2;
        }
        const id = declareDowntime(agent.db, by, values.reason, new Date());
        appendAudit(agent.db, { actor: by, action: 'downtime-declared', subject: `declaration/${id}`, detail: { reason: values.reason } });
        out(`downtime declared (declaration ${id}); the running agent starts it and prints the downtime pack within one probe interval (${agent.config.box.outage.probeIntervalSeconds} s)`);
        return 0;
      }
      case 'end': {
        const ended = endDeclaration(agent.db, by, new Date());
        if (ended) appendAudit(agent.db, { actor: by, action: 'downtime-ended', subject: null });
        out(ended ? 'declared downtime ended; the agent writes the downtime summary at its next probe' : 'no declared downtime to end (a detected or planned downtime ends by itself)');
        return ended ? 0 : 1;
      }
      case 'status':
      case undefined: {
        const decl = openDeclaration(agent.db);
        const active = activeDowntime(agent.db);
        const recent = listDowntimes(agent.db, 10);
        if (values.json) out(JSON.stringify({ active, declaration: decl, recent }, null, 2));
        else {
          out(active ? `DOWNTIME since ${active.startedAt} (${active.kind}): ${active.cause}` : 'no downtime active');
          if (decl && !active) out(`declared by ${decl.declaredBy} at ${decl.declaredAt}, waiting for the agent to act`);
          for (const d of recent.filter((r) => r.endedAt)) out(`  #${d.id} ${d.kind} ${d.startedAt} – ${d.endedAt}${d.summarySha256 ? ' (summary ready)' : ''}`);
        }
        return 0;
      }
      case 'export': {
        // The incidents for the insurance office (a late submission after an IT failure must be justified).
        if (values.since && !/^\d{4}-\d{2}-\d{2}$/.test(values.since)) {
          process.stderr.write('--since takes a date: YYYY-MM-DD\n');
          return 2;
        }
        const rows = listDowntimes(agent.db, 100_000).filter((d) => !values.since || d.startedAt >= values.since).reverse();
        const text = downtimesCsv(rows, agent.config.box.site.id, agent.config.box.box.id, agent.config.box.timeZone);
        appendAudit(agent.db, { actor: by, action: 'audit-export', subject: 'downtimes', detail: { rows: rows.length, since: values.since ?? null } });
        if (values.out) {
          fs.writeFileSync(values.out, text, { mode: 0o600 });
          out(`wrote ${rows.length} downtime(s) to ${values.out}`);
        } else process.stdout.write(text);
        return 0;
      }
      default:
        process.stderr.write('usage: paperback downtime start|end|status|export\n');
        return 2;
    }
  } finally {
    await agent.close();
  }
}

const HOW: Record<DowntimeRow['kind'], string> = { detected: 'detected by the box (the HIS stopped answering)', declared: 'declared by a person', planned: 'planned maintenance window' };

/** One row per downtime: when it started and ended (UTC and the box's local time), how it was detected, who declared and ended it. */
function downtimesCsv(rows: DowntimeRow[], siteId: string, boxId: string, timeZone: string): string {
  const header = 'site,box,downtime,kind,how_detected,cause,started_utc,started_local,ended_utc,ended_local,minutes,declared_by,ended_by';
  const lines = rows.map((d) => {
    const minutes = d.endedAt ? Math.round((Date.parse(d.endedAt) - Date.parse(d.startedAt)) / 60_000) : null;
    return [siteId, boxId, d.id, d.kind, HOW[d.kind], d.cause, d.startedAt, formatDateTime(d.startedAt, timeZone), d.endedAt, formatDateTime(d.endedAt, timeZone), minutes, d.declaredBy, d.endedBy].map(csvCell).join(',');
  });
  return `${[header, ...lines].join('\r\n')}\r\n`;
}
