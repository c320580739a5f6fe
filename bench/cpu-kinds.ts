/**
 * Where the agent's CPU goes in the hospital snapshot, by kind of work rather
 * than by thread: V8 compiling (TurboFan runs on helper threads, once per
 * isolate, so each render thread compiles the drawing code anew), V8
 * collecting garbage, zlib deflating, the kernel (files, sockets, scheduling)
 * and everything else (JavaScript and the runtime under it). The FHIR peer's
 * process is counted apart, for scale.
 *
 * The hospital is run as bench/snapshot.js runs it (the daemon's V8 flag and
 * malloc setting, the scheduler, render threads, the peer in its own process):
 * a full snapshot, then one after 5 % of the patients changed. Linux perf
 * samples every thread (cpu-clock: no hardware counters needed, so it works
 * in a VM), and each sample is sorted by the symbol it landed in and by which
 * of the two runs it fell in. JIT-compiled JavaScript has no symbol here and
 * counts as "other".
 *
 * Needs perf (Debian: apt-get install linux-perf) and leave to sample (root,
 * or kernel.perf_event_paranoid ≤ 1).
 * Run: npm run build && node dist/bench/cpu-kinds.js [wards=10]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAgent } from '../agent/cli/boot.js';
import { silentLogger } from '../agent/log/logger.js';
import { benchTmpDir, startedDirectly } from './config-dir.js';
import { startPeer } from './peer.js';
import { configDir, snapshotAll } from './snapshot.js';

type Kind = 'compile' | 'gc' | 'deflate' | 'kernel' | 'other';

const KINDS: [Kind, RegExp][] = [
  ['compile', /compiler::|Compil|Pipeline|Turbofan|Maglev|Parser::|Scanner::|BytecodeGenerator|Zone::/],
  ['gc', /Mark(ing|er)|Sweep|Scaveng|Evacuat|Heap::|GCTracer|Compactor|RememberedSet|SlotSet|MinorGC|ArrayBufferSweeper|MemoryChunk|IteratePointers|SizeFromMap/],
  ['deflate', /^(deflate\w*|compress_block|longest_match|pqdownheap\S*|build_tree|send_tree|scan_tree|fill_window\S*|adler32\S*|crc32\S*)$/],
];

/** The kind of work a sample's symbol belongs to; `kernel` when perf says the address is the kernel's. */
function kindOf(symbol: string, kernel: boolean): Kind {
  if (kernel) return 'kernel';
  for (const [kind, re] of KINDS) if (re.test(symbol)) return kind;
  return 'other';
}

/** CLOCK_MONOTONIC in seconds: perf stamps its samples with it when recording with -k CLOCK_MONOTONIC. */
const monotonic = () => Number(process.hrtime.bigint()) / 1e9;

/** Under perf: the hospital, full then 5 % changed; writes each run's time window and figures to `out`. */
async function runHospital(wards: number, out: string): Promise<void> {
  const peer = await startPeer(wards);
  const agent = await openAgent({ configDir: configDir(peer.wards), log: silentLogger(), withSources: true, renderThreads: true });
  const jobs = peer.wards.map((w) => w.id);
  const runs: Record<string, { from: number; to: number; ms: number; agentCpuMs: number; peerCpuMs: number; documentsRendered: number }> = {};
  for (const label of ['full', 'fivePercentChanged']) {
    if (label !== 'full') await peer.change(0.05);
    const p0 = await peer.usage();
    const from = monotonic();
    const r = await snapshotAll(agent, jobs);
    const to = monotonic();
    runs[label] = { from, to, ms: r.ms, agentCpuMs: r.agentCpuMs, peerCpuMs: (await peer.usage()).cpuMs - p0.cpuMs, documentsRendered: r.documentsRendered };
  }
  await agent.close();
  await peer.close();
  fs.writeFileSync(out, JSON.stringify({ pid: process.pid, runs }));
}

function main(): void {
  const wards = Number(process.argv[2] ?? 10);
  if (!(wards >= 1)) {
    console.error('usage: cpu-kinds.js [wards ≥ 1]');
    process.exit(2);
  }
  if (spawnSync('perf', ['--version']).status !== 0) {
    console.error('perf not found: apt-get install linux-perf');
    process.exit(2);
  }
  const dir = benchTmpDir('pb-cpu-kinds-');
  const data = path.join(dir, 'perf.data');
  const marks = path.join(dir, 'runs.json');
  const self = fileURLToPath(import.meta.url);
  const rec = spawnSync('perf', ['record', '-q', '-k', 'CLOCK_MONOTONIC', '-e', 'cpu-clock', '-F', '299', '-o', data, '--', process.execPath, '--max-semi-space-size=2', self, 'inner', String(wards), marks], {
    env: { ...process.env, MALLOC_ARENA_MAX: '1', TMPDIR: dir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (rec.status !== 0) throw new Error(`perf record failed (exit ${rec.status}); root, or kernel.perf_event_paranoid ≤ 1, is needed to sample`);
  const { pid, runs } = JSON.parse(fs.readFileSync(marks, 'utf8')) as { pid: number; runs: Record<string, { from: number; to: number }> };
  const tally = Object.fromEntries(Object.keys(runs).map((k) => [k, { agent: { compile: 0, gc: 0, deflate: 0, kernel: 0, other: 0 } as Record<Kind, number>, agentSamples: 0, peerSamples: 0 }]));
  // One line per sample: "pid/tid time: ip symbol (dso)".
  const lines = execFileSync('perf', ['script', '-i', data, '-F', 'pid,tid,time,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
  for (const line of lines) {
    const m = /^\s*(\d+)\/\d+\s+([\d.]+):\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line);
    if (!m) continue;
    const t = Number(m[2]);
    const run = Object.entries(runs).find(([, w]) => t >= w.from && t <= w.to)?.[0];
    if (!run) continue;
    const bucket = tally[run]!;
    if (Number(m[1]) !== pid) {
      bucket.peerSamples++;
      continue;
    }
    bucket.agentSamples++;
    bucket.agent[kindOf(m[3]!.replace(/\+0x[0-9a-f]+$/, ''), m[4]!.includes('kernel'))]++;
  }
  const figures = ({ from: _from, to: _to, ...rest }: { from: number; to: number }) => rest;
  const summary = Object.fromEntries(
    Object.entries(tally).map(([run, b]) => [
      run,
      {
        ...figures(runs[run]!),
        agentSamples: b.agentSamples,
        peerSamples: b.peerSamples,
        agentSharePercent: Object.fromEntries(Object.entries(b.agent).map(([k, n]) => [k, Math.round((n / Math.max(1, b.agentSamples)) * 1000) / 10])),
      },
    ]),
  );
  console.log(JSON.stringify({ cores: os.cpus().length, wards, patients: wards * 40, sampledAtHz: 299, runs: summary }, null, 2));
}

if (startedDirectly(import.meta.url)) {
  if (process.argv[2] === 'inner') {
    runHospital(Number(process.argv[3]), process.argv[4]!).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  } else main();
}
