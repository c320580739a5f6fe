import { registerAuditKeys } from '../../agent/audit/seal.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, type LoadedConfig } from '../../agent/config/load.js';
import { wardToFhir } from '../../agent/demo/fhir-emit.js';
import { startFhirServer, type FhirTestServer } from '../../agent/demo/fhir-server.js';
import { generateHospital, type SyntheticHospital } from '../../agent/demo/generator.js';
import { openBlobStore, type BlobStore } from '../../agent/store/blobs.js';
import { openDb, type Db } from '../../agent/store/db.js';
import { loadDataKey } from '../../agent/store/data-key.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import type { Source } from '../../agent/sources/types.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(REPO, 'dist/agent/cli/main.js');
export const NOW = new Date('2026-11-22T03:00:00Z');

export function tmpDir(prefix = 'pb-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A FHIR server (Medplum) on loopback with a generated hospital of `wards` × `patients`. */
export async function startHis(opts: { seed?: number; wards?: number; patients?: number; now?: Date; maxCount?: number } = {}): Promise<{ server: FhirTestServer; hospital: SyntheticHospital }> {
  const hospital = generateHospital({ seed: opts.seed ?? 11, wards: opts.wards ?? 1, patientsPerWard: opts.patients ?? 12, now: opts.now ?? NOW });
  const server = await startFhirServer({ maxCount: opts.maxCount });
  for (const w of hospital.wards) await server.load(wardToFhir(w));
  return { server, hospital };
}

export interface ConfigDirOptions {
  baseUrl: string;
  wards?: string[];
  jobs?: Record<string, string>;
  printers?: Record<string, string>;
  extraSource?: string;
  /** schedule.maxConcurrentRuns; unset, the agent's default. */
  maxConcurrentRuns?: number;
  /**
   * The FHIR source's timeoutMs (3000 unless given). File-back tests raise it: Medplum's server
   * validates each resource it is sent (about 0.2 s each here), so a transaction takes seconds.
   */
  sourceTimeoutMs?: number;
}

/** Write a configuration folder (paperback.yaml, snapshots/, templates link) for tests. */
export function writeConfigDir(dir: string, opts: ConfigDirOptions): string {
  const wards = opts.wards ?? ['ward-1'];
  fs.mkdirSync(path.join(dir, 'snapshots'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'printers'), { recursive: true });
  fs.symlinkSync(path.join(REPO, 'templates'), path.join(dir, 'templates'));
  fs.writeFileSync(
    path.join(dir, 'paperback.yaml'),
    `site: { id: test-hospital, name: Test Hospital }
box: { id: test-box }
wards:
${wards.map((w) => `  - { id: ${w}, name: "Ward ${w}" }`).join('\n')}
timeZone: Asia/Ho_Chi_Minh
language: en
# English paper in a Vietnamese hospital: names sent in parts are still written family name first.
names: { order: family-first }
dataDir: data
sources:
  - id: his
    kind: fhir
    baseUrl: ${opts.baseUrl}
    timeoutMs: ${opts.sourceTimeoutMs ?? 3000}
    retries: 1
${opts.extraSource ?? ''}
schedule: { spreadSeconds: 0${opts.maxConcurrentRuns ? `, maxConcurrentRuns: ${opts.maxConcurrentRuns}` : ''} }
web: { insecureHttp: true }
encryption: { keyFile: paperback.key, createKey: true }
`,
  );
  const jobs = opts.jobs ?? { [wards[0]!]: jobYaml(wards[0]!) };
  for (const [id, text] of Object.entries(jobs)) fs.writeFileSync(path.join(dir, 'snapshots', `${id}.yaml`), text);
  for (const [id, text] of Object.entries(opts.printers ?? {})) fs.writeFileSync(path.join(dir, 'printers', `${id}.yaml`), text);
  return dir;
}

export function jobYaml(ward: string, extra = ''): string {
  return `id: ${ward}
title: Snapshot of ${ward}
schedule: { cron: "*/5 * * * *" }
source: his
scope: { ward: ${ward}, location: Location/${ward} }
documents: [census, mar]
retention: { keepLast: 3, maxAgeDays: 7 }
retry: { attempts: 1, backoffSeconds: 1 }
runTimeoutSeconds: 60
${extra}`;
}

/**
 * A job that runs only when a test asks: for tests that start a scheduler or
 * the daemon, where a five-minute tick falling mid-test would add a run of its own.
 */
export const runByHandOnly = (jobYamlText: string): string => jobYamlText.replace('"*/5 * * * *"', '"0 0 1 1 *"');

/** Jobs with these ids, each a copy of ward-1's, run only by hand. */
export const jobsRunByHand = (ids: string[]): Record<string, string> => Object.fromEntries(ids.map((id) => [id, runByHandOnly(jobYaml('ward-1').replace('id: ward-1', `id: ${id}`))]));

/** A logger that keeps every line in memory, so tests can read what would have been logged. */
export function memoryLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, sink), lines };
}

export interface TestAgent {
  config: LoadedConfig;
  db: Db;
  blobs: BlobStore;
  sources: Map<string, Source>;
  log: pino.Logger;
  lines: string[];
}

export function openTestAgent(dir: string): TestAgent {
  const config = loadConfig(dir);
  const db = openDb(config.dataDir);
  const key = loadDataKey({ keyFile: config.keyFile, configDir: config.dir, createKey: true, dataDir: config.dataDir });
  const blobs = openBlobStore(config.dataDir, key);
  registerAuditKeys(db, [key]);
  const sources = new Map<string, Source>();
  for (const s of config.box.sources) if (s.kind === 'fhir') sources.set(s.id, createFhirSource(s, { configDir: dir, backoffMs: 20 }));
  const { log, lines } = memoryLogger();
  return { config, db, blobs, sources, log, lines };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; stdin?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env } });
    child.stdin.end(opts.stdin ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Start the CLI and resolve once its stderr or stdout contains `marker`. */
export function spawnUntil(args: string[], marker: string | RegExp, opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, ...opts.env } });
    let all = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out waiting for ${String(marker)}; output:\n${all}`));
    }, opts.timeoutMs ?? 30_000);
    const check = (d: Buffer) => {
      all += d.toString();
      if (typeof marker === 'string' ? all.includes(marker) : marker.test(all)) {
        clearTimeout(timer);
        resolve({ child, output: () => all });
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!(typeof marker === 'string' ? all.includes(marker) : marker.test(all))) reject(new Error(`exited ${code} before ${String(marker)}; output:\n${all}`));
    });
  });
}

/** Poll until `cond` holds, or fail after `ms`: for effects of file watchers and timers. */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
