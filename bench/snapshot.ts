/**
 * End-to-end snapshots, as the daemon takes them: pull from FHIR servers on
 * loopback (bench/peer.ts, in their own process), normalize, render every
 * document in the render threads, seal and publish; the hospital's jobs go
 * through the scheduler, which runs schedule.maxConcurrentRuns at a time.
 *
 * - ward of 40: the first full snapshot after start; the median of 5 with
 *   everything warm; one after the render threads ended for idleness (main
 *   thread warm); and a re-snapshot after 5 % of the patients changed;
 * - hospital of WARDS × 40: full, then after 5 % changed;
 * - the resident memory of an idle `paperback serve` after its first snapshot.
 * Memory figures are this process (the agent) only; the peer's are printed apart.
 * Run: npm run build && node dist/bench/snapshot.js [wards=10]
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAgent, type Agent } from '../agent/cli/boot.js';
import { silentLogger } from '../agent/log/logger.js';
import { concurrentRunLimit, startScheduler } from '../agent/schedule/scheduler.js';
import { REPO, benchConfigDir, startedDirectly } from './config-dir.js';
import { startPeer, type PeerWard } from './peer.js';

const CLI = path.join(REPO, 'dist/agent/cli/main.js');
/** Unset: the daemon's default (render threads + 1). */
const CONCURRENT = process.env.BENCH_CONCURRENT_RUNS ? Number(process.env.BENCH_CONCURRENT_RUNS) : null;

export function configDir(wards: PeerWard[], opts: { fullJobs?: boolean } = {}): string {
  const job = (w: PeerWard, i: number, suffix: string, extra: string) =>
    `id: ${w.id}${suffix}\ntitle: ${w.id}\nschedule: { cron: "0 0 1 1 *" }\nsource: his-${i}\nscope: { ward: ${w.id}, location: Location/${w.id} }\ndocuments: [census, allergies, mar, summary]\nrunTimeoutSeconds: 600\nretry: { attempts: 0 }\n${extra}`;
  const jobs: Record<string, string> = {};
  wards.forEach((w, i) => {
    jobs[w.id] = job(w, i, '', '');
    // The same ward with nothing reused and everything pulled: a full snapshot on every run.
    if (opts.fullJobs) jobs[`${w.id}-full`] = job(w, i, '-full', 'reuseWithinMinutes: 0\n').replace(`source: his-${i}\n`, `source: his-${i}-full\n`);
  });
  return benchConfigDir(
    'pb-bench-snap-',
    `site: { id: bench, name: Bench Hospital }
box: { id: bench-box }
wards:
${wards.map((w) => `  - { id: ${w.id}, name: "${w.name}" }`).join('\n')}
language: vi
sources:
${wards.map((w, i) => `  - { id: his-${i}, kind: fhir, baseUrl: "${w.url}" }${opts.fullJobs ? `\n  - { id: his-${i}-full, kind: fhir, baseUrl: "${w.url}", fullPullEveryMinutes: 0 }` : ''}`).join('\n')}
web: { insecureHttp: true, port: 0 }
encryption: { keyFile: bench.key, createKey: true }
schedule: { spreadSeconds: 0${CONCURRENT ? `, maxConcurrentRuns: ${CONCURRENT}` : ''} }
outage: { probeIntervalSeconds: 3600 }
`,
    jobs,
  );
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
/**
 * The main thread's CPU (ms), from /proc: pulls, normalizing, the store and
 * the scheduler. The rest of the process's CPU is the render threads, V8's
 * collector and compiler helpers and the I/O pool. Null without /proc.
 */
function mainThreadCpuMs(): number | null {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Math.round(((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
  } catch {
    return null;
  }
}
const WARM_RUNS = 5;
/** The run with the median time (the figures of one real run, not a mix). */
const median = <T extends { ms: number }>(runs: T[]): T => [...runs].sort((a, b) => a.ms - b.ms)[runs.length >> 1]!;

/** Run jobs through the scheduler, as cron would start them all on the same minute. */
export async function snapshotAll(agent: Agent, jobs: string[]) {
  const scheduler = startScheduler({ ...agent, log: silentLogger() });
  let peak = rssMb();
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 50);
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t = performance.now();
  const outcomes = await Promise.all(jobs.map((id) => scheduler.runNow(id)));
  const ms = performance.now() - t;
  // This process: the agent's main thread and its render threads.
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuMs();
  clearInterval(sampler);
  await scheduler.stop();
  let pages = 0;
  let rendered = 0;
  let reused = 0;
  const phase = { pullMs: 0, renderMs: 0, storeMs: 0 };
  for (const r of outcomes) {
    if (r.status !== 'succeeded') throw new Error(`${r.jobId}: ${r.error}`);
    pages += r.counts.pages ?? 0;
    rendered += r.counts.rendered ?? 0;
    reused += r.counts.reused ?? 0;
    for (const k of Object.keys(phase) as (keyof typeof phase)[]) phase[k] += r.counts[k] ?? 0;
  }
  return { ms: Math.round(ms), pages, documentsRendered: rendered, documentsReused: reused, pagesPerSecond: Math.round((pages / ms) * 1000), rssMb: Math.max(peak, rssMb()), pulledChangesOnly: outcomes.filter((o) => o.counts.pulledChangesOnly).length, phasesSummedOverRunsMs: phase, agentCpuMs: Math.round((cpu.user + cpu.system) / 1000), mainThreadCpuMs: main0 !== null && main1 !== null ? main1 - main0 : null };
}

async function idleServeRss(ward: PeerWard, cron = '0 0 1 1 *'): Promise<{ mainMb: number; afterRunMb: number }> {
  const dir = configDir([ward]);
  fs.writeFileSync(path.join(dir, 'snapshots', `${ward.id}.yaml`), fs.readFileSync(path.join(dir, 'snapshots', `${ward.id}.yaml`), 'utf8').replace('cron: "0 0 1 1 *"', `cron: "${cron}"`));
  // Render threads end after 5 s idle here (60 s by default) so the bench need not wait a minute.
  fs.appendFileSync(path.join(dir, 'paperback.yaml'), 'render: { idleSeconds: 5 }\n');
  // Started as the systemd unit and npm start start it.
  const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=2', CLI, '--config', dir, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MALLOC_ARENA_MAX: '1' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024);
  const deadline = Date.now() + 120_000;
  while (!/snapshot published/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not publish a snapshot:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const afterRunMb = rss();
  // Idle: the render threads have ended and the collector has settled.
  await new Promise((r) => setTimeout(r, 15_000));
  const mainMb = rss();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('close', r));
  return { mainMb, afterRunMb };
}

async function main() {
  const wards = Number(process.argv[2] ?? 10);
  const peer = await startPeer(wards);
  const first = peer.wards[0]!;

  // Render threads end after 3 s idle here (60 s by default), so a run after a pause shows what a
  // box whose threads ended between two scheduled runs pays; back-to-back runs keep them.
  const wardDir = configDir([first], { fullJobs: true });
  fs.appendFileSync(path.join(wardDir, 'paperback.yaml'), 'render: { idleSeconds: 3 }\n');
  const wardAgent = await openAgent({ configDir: wardDir, log: silentLogger(), withSources: true, renderThreads: true });
  const wardCold = await snapshotAll(wardAgent, [`${first.id}-full`]);
  const warmRuns = [];
  for (let i = 0; i < WARM_RUNS; i++) warmRuns.push(await snapshotAll(wardAgent, [`${first.id}-full`]));
  const wardWarm = median(warmRuns);
  await new Promise((r) => setTimeout(r, 4000));
  const wardThreadsRestarted = await snapshotAll(wardAgent, [`${first.id}-full`]);
  await snapshotAll(wardAgent, [first.id]);
  await peer.change(0.05);
  const wardIncremental = await snapshotAll(wardAgent, [first.id]);
  await wardAgent.close();

  const hospitalAgent = await openAgent({ configDir: configDir(peer.wards), log: silentLogger(), withSources: true, renderThreads: true });
  const jobs = peer.wards.map((w) => w.id);
  const peerBefore = await peer.usage();
  const hospitalFull = await snapshotAll(hospitalAgent, jobs);
  const peerAfterFull = await peer.usage();
  const patientsChanged = await peer.change(0.05);
  const peerBeforeIncr = await peer.usage();
  const hospitalIncremental = await snapshotAll(hospitalAgent, jobs);
  const peerAfterIncr = await peer.usage();
  await hospitalAgent.close();

  const idle = await idleServeRss(first);
  // A ward box refreshing every 5 minutes: render.keepWarmMinutes (10) keeps its render threads between runs.
  const every5 = await idleServeRss(first, '*/5 * * * *');
  await peer.close();
  console.log(
    JSON.stringify(
      {
        cores: os.cpus().length,
        peer: `one Medplum FHIR server per ward on loopback, all in one separate process (${peer.resources} resources); it shares the same cores`,
        concurrentRuns: concurrentRunLimit(hospitalAgent.config, hospitalAgent.renderer),
        renderThreads: hospitalAgent.renderer.parallelism,
        ward40: {
          firstRunAfterStart: wardCold,
          full: { ...wardWarm, note: `median of ${WARM_RUNS} back-to-back runs (render threads and main thread warm); each run's ms: ${warmRuns.map((r) => r.ms).join(', ')}` },
          fullRenderThreadsRestarted: { ...wardThreadsRestarted, note: 'main thread warm, render threads started anew: what a run pays when the previous one ended more than render.idleSeconds (60 s) before and no run was due within render.keepWarmMinutes (10)' },
          patientsChanged: Math.max(1, Math.round(40 * 0.05)),
          incremental: wardIncremental,
        },
        hospital: {
          wards,
          patients: wards * 40,
          full: { ...hospitalFull, peerCpuMs: peerAfterFull.cpuMs - peerBefore.cpuMs },
          patientsChanged,
          incremental: { ...hospitalIncremental, peerCpuMs: peerAfterIncr.cpuMs - peerBeforeIncr.cpuMs },
          incrementalShareOfFull: Math.round((hospitalIncremental.ms / hospitalFull.ms) * 100) / 100,
          // The agent's own work, apart from the peer's: what grows with what changed.
          incrementalShareOfFullAgentCpu: Math.round((hospitalIncremental.agentCpuMs / hospitalFull.agentCpuMs) * 100) / 100,
          peerRssMb: peerAfterIncr.rssMb,
        },
        idleServeRssMb: idle.mainMb,
        serveRssBetweenRunsEvery5MinMb: every5.mainMb,
        serveRssRightAfterFirstSnapshotMb: idle.afterRunMb,
        peakRssMb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6),
      },
      null,
      2,
    ),
  );
}

// Also imported by cpu-kinds.ts, which runs the hospital itself.
if (startedDirectly(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
