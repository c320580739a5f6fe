import os from 'node:os';
import { parseArgs } from 'node:util';
import { silentLogger } from '../log/logger.js';
import { appendAudit } from '../audit/log.js';
import { activeDowntime, declareDowntime, endDeclaration, listDowntimes, openDeclaration } from '../outage/downtime.js';
import { openAgent } from './boot.js';
import { out } from './usage.js';


/**
 * `paperback downtime start --reason R [--by NAME]`, `end [--by NAME]`, `status [--json]`.
 * A declaration is written to the store; the running agent acts on it within one probe interval.
 */
export async function downtimeCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { reason: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
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
      default:
        process.stderr.write('usage: paperback downtime start|end|status\n');
        return 2;
    }
  } finally {
    await agent.close();
  }
}
