import os from 'node:os';
import { appendAudit } from '../audit/log.js';
import { demoOutageRequested, requestDemoOutage } from '../demo/demo-outage.js';
import { silentLogger } from '../log/logger.js';
import { openAgent } from './boot.js';

/** `paperback demo outage start|stop|status`: take the embedded demo HIS down and up. */
export async function demoCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [what, sub] = args;
  if (what !== 'outage' || !['start', 'stop', 'status'].includes(sub ?? '')) {
    process.stderr.write('usage: paperback demo outage start|stop|status\n');
    return 2;
  }
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    if (!agent.config.box.sources.some((s) => s.kind === 'demo')) {
      process.stderr.write('this configuration has no demo HIS (a source with kind: demo)\n');
      return 1;
    }
    if (sub === 'status') {
      process.stdout.write(`demo HIS: ${demoOutageRequested(agent.db) ? 'down (outage running)' : 'up'}\n`);
      return 0;
    }
    const down = sub === 'start';
    requestDemoOutage(agent.db, down);
    appendAudit(agent.db, { actor: `cli:${os.userInfo().username}`, action: 'demo-outage', subject: null, detail: { down } });
    process.stdout.write(
      down
        ? `demo HIS going down within a second; the agent detects the outage after ${agent.config.box.outage.failuresToOffline} failed probes (${agent.config.box.outage.probeIntervalSeconds} s apart) and ${agent.config.box.outage.confirmSeconds} s of confirmation\n`
        : 'demo HIS coming back; the agent ends the downtime and writes its summary once the HIS answers again\n',
    );
    return 0;
  } finally {
    await agent.close();
  }
}
