/**
 * Latency of the ward page under load: 50 concurrent clients (autocannon) on
 * loopback against the census page and a MAR download, signed in as a
 * nurse, on a ward of 40 patients. Every request is a real view: session
 * lookup, audit row (an fsynced SQLite commit), decryption of the PDF.
 * Run: npm run build && node dist/bench/web-latency.js [seconds]
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { addUser } from '../agent/auth/users.js';
import { openAgent } from '../agent/cli/boot.js';
import { silentLogger } from '../agent/log/logger.js';
import { runJob } from '../agent/schedule/run.js';
import { currentSnapshot, listArtifacts } from '../agent/store/snapshots.js';
import { buildWebServer } from '../agent/web/server.js';
import { benchConfigDir } from './config-dir.js';

const seconds = Number(process.argv[2] ?? 10);

const configDir = () =>
  benchConfigDir(
    'pb-bench-web-',
    `site: { id: bench, name: Bench Hospital }
box: { id: bench-box }
wards: [{ id: ward-1, name: Ward 1 }]
language: vi
sources: [{ id: his, kind: demo, seed: 5, patients: 40 }]
web: { insecureHttp: true }
encryption: { keyFile: bench.key, createKey: true }
`,
    { 'ward-1': `id: ward-1\ntitle: Ward 1\nschedule: { cron: "*/5 * * * *" }\nsource: his\nscope: { ward: ward-1, location: Location/ward-1 }\n` },
  );

async function signIn(base: string): Promise<string> {
  const jar = new Map<string, string>();
  const take = (r: Response) => {
    for (const c of r.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv!.indexOf('=');
      jar.set(kv!.slice(0, i), kv!.slice(i + 1));
    }
  };
  take(await fetch(`${base}/login`));
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    body: new URLSearchParams({ _csrf: jar.get('pb_csrf')!, username: 'bench.nurse', password: 'bench password 1' }).toString(),
  });
  take(r);
  if (!jar.has('pb_session')) throw new Error(`sign-in failed: ${r.status}`);
  return cookie();
}

async function load(url: string, cookie: string) {
  const r = await autocannon({ url, connections: 50, duration: seconds, headers: { cookie } });
  return {
    requests: r.requests.total,
    perSecond: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    mbPerSecond: Math.round((r.throughput.average / 1e6) * 10) / 10,
  };
}

async function main() {
  const dir = configDir();
  const log = silentLogger();
  const agent = await openAgent({ configDir: dir, log, withSources: true });
  const run = await runJob({ ...agent, log }, 'ward-1', { trigger: 'manual' });
  if (run.status !== 'succeeded') throw new Error(`snapshot failed: ${run.error}`);
  await addUser(agent.db, { username: 'bench.nurse', displayName: 'Bench', role: 'nurse', password: 'bench password 1' });
  const app = await buildWebServer({ config: () => agent.config, db: agent.db, blobs: agent.blobs, log });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const cookie = await signIn(base);
  const mar = listArtifacts(agent.db, currentSnapshot(agent.db, 'ward-1')!.id, 'document').find((a) => a.address.startsWith('mar/'))!;
  const auditBefore = agent.db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get() as number;
  const census = await load(`${base}/ward/ward-1`, cookie);
  const pdf = await load(`${base}/documents/ward-1/${mar.address}.pdf`, cookie);
  const audited = (agent.db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get() as number) - auditBefore;
  const result = {
    cores: os.cpus().length,
    clients: 50,
    seconds,
    patients: 40,
    censusPage: census,
    marPdf: { ...pdf, bytes: mar.size },
    auditRowsWritten: audited,
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  };
  await app.close();
  await agent.close();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
