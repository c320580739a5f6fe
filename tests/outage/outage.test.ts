import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { declareDowntime, endDeclaration, getDowntime, listDowntimes } from '../../agent/outage/downtime.js';
import { startOutageMonitor, type OutageMonitor } from '../../agent/outage/monitor.js';
import { listPrintJobs } from '../../agent/print/queue.js';
import { startPrintWorker, type PrintWorker } from '../../agent/print/worker.js';
import { jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { HAVE_IPPEVEPRINTER, REQUIRE_PEERS, startIppPrinter, type IppPrinterHandle } from '../support/printers.js';

if (REQUIRE_PEERS && !HAVE_IPPEVEPRINTER) throw new Error('ippeveprinter is required in CI');

const T0 = new Date('2026-11-22T02:00:00Z');

let his: FhirTestServer;
let patients: { name: string | null; mrn: string | null }[];
let printer: IppPrinterHandle;
beforeAll(async () => {
  const h = await startHis({ patients: 3, now: T0 });
  his = h.server;
  patients = h.hospital.wards[0]!.patients;
  if (HAVE_IPPEVEPRINTER) printer = await startIppPrinter({ command: '/bin/true' });
});
afterAll(async () => {
  await his.close();
  await printer?.stop();
});

interface Rig {
  a: TestAgent;
  monitor: OutageMonitor;
  worker: PrintWorker;
  clock: { t: Date; now(): Date };
  preWindowRuns: string[][];
  at(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/** An agent whose outage monitor runs on a fake clock: each `at(s)` is one probe round s seconds after T0. */
async function rig(outage = '', job = jobYaml('ward-1', 'downtime: { print: [census, mar], printer: ward }\n')): Promise<Rig> {
  const dir = writeConfigDir(tmpDir(), {
    baseUrl: his.url,
    jobs: { 'ward-1': job },
    printers: { ward: `id: ward\nname: Ward printer\nuri: ${printer.uri}\n` },
    extraSource: `outage:\n  failuresToOffline: 3\n  confirmSeconds: 60\n  successesToOnline: 2\n  recoverSeconds: 30\n  probeTimeoutMs: 1000\n${outage}`,
  });
  const a = openTestAgent(dir);
  const o = await runJob({ ...a, now: () => T0 }, 'ward-1', { trigger: 'manual' });
  expect(o.status, o.error ?? '').toBe('succeeded');
  const clock = { t: T0, now: () => clock.t };
  const preWindowRuns: string[][] = [];
  const worker = startPrintWorker({ db: a.db, blobs: a.blobs, printers: () => a.config.printers, configDir: dir, log: a.log, pollMs: 100 });
  const monitor = startOutageMonitor({ db: a.db, blobs: a.blobs, config: () => a.config, sources: a.sources, log: a.log, clock, runJobs: (ids) => preWindowRuns.push(ids), kickPrinter: () => worker.kick() });
  return {
    a,
    monitor,
    worker,
    clock,
    preWindowRuns,
    async at(seconds) {
      clock.t = new Date(T0.getTime() + seconds * 1000);
      await monitor.tick();
    },
    async close() {
      await monitor.stop();
      await worker.stop();
    },
  };
}

const transitions = (a: TestAgent) =>
  (a.db.prepare(`SELECT scope, from_state AS f, to_state AS t FROM outage_events ORDER BY id`).all() as { scope: string; f: string; t: string }[]).map((e) => `${e.scope}:${e.f}->${e.t}`);

async function waitPrinted(r: Rig, downtimeId: number) {
  const jobs = listPrintJobs(r.a.db, { downtimeId });
  await Promise.all(jobs.map((j) => r.worker.waitFor(j.id, 30_000)));
  return listPrintJobs(r.a.db, { downtimeId });
}

describe.skipIf(!HAVE_IPPEVEPRINTER)('outage detection and downtime mode', () => {
  it('a short blip below the confirmation delay changes nothing and prints nothing', async () => {
    const r = await rig();
    try {
      await r.at(0);
      await his.down();
      await r.at(15);
      await r.at(30);
      expect(r.monitor.status().box).toBe('degraded');
      await his.up();
      await r.at(45);
      expect(r.monitor.status().box).toBe('online');
      expect(transitions(r.a)).toEqual(['source:his:online->degraded', 'source:his:degraded->online']);
      expect(listDowntimes(r.a.db)).toEqual([]);
      expect(listPrintJobs(r.a.db)).toEqual([]);
    } finally {
      await his.up();
      await r.close();
    }
  });

  it('a confirmed outage prints the downtime pack exactly once, even while the link flaps, and writes a summary when it is back', async () => {
    const r = await rig();
    const before = printer.received().length;
    try {
      await r.at(0);
      await his.down();
      for (const s of [15, 30, 45]) await r.at(s);
      expect(r.monitor.status().box).toBe('degraded'); // 3 failures, but only 30 s: not confirmed yet
      await r.at(75);
      expect(r.monitor.status().box).toBe('offline');
      const [dt] = listDowntimes(r.a.db);
      expect(dt).toMatchObject({ kind: 'detected', endedAt: null });
      expect(dt!.cause).toMatch(/HIS unreachable: source his offline \(127.0.0.1:\d+: ECONNREFUSED\)/);
      const printed = await waitPrinted(r, dt!.id);
      expect(printed).toHaveLength(2 + patients.length); // the cover, the census and one MAR per patient
      expect(printed.every((j) => j.state === 'completed' && j.reason === 'downtime')).toBe(true);
      // Flapping: back for one probe, down again, back again. Still one downtime, no more printing.
      await his.up();
      await r.at(90);
      expect(r.monitor.status().box).toBe('recovering');
      await his.down();
      await r.at(105);
      expect(r.monitor.status().box).toBe('offline');
      await his.up();
      await r.at(120);
      await r.at(135);
      expect(r.monitor.status().box).toBe('recovering'); // two successes, but only 15 s apart
      expect(r.monitor.downtimeActive()).toBe(true);
      await r.at(160);
      expect(r.monitor.status().box).toBe('online');
      expect(r.monitor.downtimeActive()).toBe(false);
      expect(listDowntimes(r.a.db)).toHaveLength(1);
      expect(listPrintJobs(r.a.db)).toHaveLength(2 + patients.length);
      expect(printer.received().length - before).toBe(2 + patients.length);
      expect(transitions(r.a)).toEqual([
        'source:his:online->degraded',
        'source:his:degraded->offline',
        'downtime:normal->downtime',
        'source:his:offline->recovering',
        'source:his:recovering->offline',
        'source:his:offline->recovering',
        'source:his:recovering->online',
        'downtime:downtime->normal',
      ]);
      // The summary lists what happened.
      const ended = getDowntime(r.a.db, dt!.id)!;
      expect(ended.summarySha256).toBeTruthy();
      const file = path.join(tmpDir(), 'summary.pdf');
      fs.writeFileSync(file, r.a.blobs.get(ended.summarySha256!));
      if (process.env.KEEP_SUMMARY) fs.copyFileSync(file, process.env.KEEP_SUMMARY);
      const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
      expect(text).toMatch(/Downtime summary/);
      expect(text).toMatch(/22\/11\/2026 09:01 \(GMT\+7\)/); // started (T0 + 75 s, ward time)
      expect(text).toMatch(/22\/11\/2026 09:02 \(GMT\+7\)/); // ended
      expect(text).toMatch(/Back-entry checklist/);
      for (const p of patients) expect(text).toContain(p.mrn!);
      // Documents by title, a patient's by bed and name, results in words: never an address or a raw state.
      expect(text).not.toMatch(/ward-1\/census/);
      expect(text).toMatch(/Ward census\s+ward\s+Paperback \(auto\)\s+Printed/);
      expect(text).toMatch(/Downtime pack\s+ward\s+Paperback \(auto\)\s+Printed/);
      const raw = execFileSync('pdftotext', ['-raw', file, '-']).toString().replace(/\s+/g, ' ');
      expect(raw).toMatch(/Medication administration record — Bed 101-1, \S+/);
      // A record of the downtime, not a copy of HIS data; no break-glass sign-in happened; doses that fell due are listed per patient.
      expect(text).not.toMatch(/DOWNTIME COPY/);
      expect(text).toMatch(/RECORD — Downtime summary/);
      expect(text).toMatch(/Nobody signed in with the break-glass code/);
      expect(raw).toMatch(/Doses due during the downtime/);
      // A second outage is a new downtime, with its own pack.
      await his.down();
      for (const s of [200, 230, 260, 290]) await r.at(s);
      const [second] = listDowntimes(r.a.db);
      expect(second!.id).not.toBe(dt!.id);
      expect(await waitPrinted(r, second!.id)).toHaveLength(2 + patients.length);
    } finally {
      await his.up();
      await r.close();
    }
  });

  it('takes a fresh snapshot before a planned window, then runs the window as a downtime', async () => {
    const start = new Date(T0.getTime() + 10 * 60_000).toISOString();
    const end = new Date(T0.getTime() + 40 * 60_000).toISOString();
    const r = await rig(`  preWindowLeadMinutes: 15\n  windows:\n    - { id: upgrade, title: HIS upgrade, start: "${start}", end: "${end}" }\n`);
    try {
      await r.at(0);
      expect(r.preWindowRuns).toEqual([['ward-1']]);
      await r.at(60);
      expect(r.preWindowRuns).toHaveLength(1); // once per window
      expect(r.monitor.downtimeActive()).toBe(false);
      expect(r.monitor.status().nextWindow).toMatchObject({ id: 'upgrade', start });
      await r.at(10 * 60);
      const [dt] = listDowntimes(r.a.db);
      expect(dt).toMatchObject({ kind: 'planned', windowId: 'upgrade' });
      expect(await waitPrinted(r, dt!.id)).toHaveLength(2 + patients.length);
      await r.at(41 * 60);
      expect(r.monitor.downtimeActive()).toBe(false);
      expect(getDowntime(r.a.db, dt!.id)!.summarySha256).toBeTruthy();
    } finally {
      await r.close();
    }
  });

  it('a downtime declared by hand starts and ends on the next probe, and names who did it', async () => {
    const r = await rig();
    try {
      await r.at(0);
      declareDowntime(r.a.db, 'it:ngoc', 'ransomware alert', r.clock.now());
      await r.at(15);
      const [dt] = listDowntimes(r.a.db);
      expect(dt).toMatchObject({ kind: 'declared', declaredBy: 'it:ngoc', cause: 'declared by it:ngoc: ransomware alert' });
      expect(endDeclaration(r.a.db, 'it:minh', r.clock.now())).toBe(true);
      await r.at(30);
      expect(getDowntime(r.a.db, dt!.id)).toMatchObject({ endedBy: 'it:minh' });
    } finally {
      await r.close();
    }
  });

  it('retention deletes nothing while a downtime is active', async () => {
    const r = await rig(undefined, jobYaml('ward-1').replace('keepLast: 3', 'keepLast: 1'));
    try {
      declareDowntime(r.a.db, 'it', 'test', r.clock.now());
      await r.at(0);
      for (let i = 0; i < 3; i++) await runJob({ ...r.a, retentionPaused: () => r.monitor.downtimeActive() }, 'ward-1', { trigger: 'manual' });
      expect(r.a.db.prepare(`SELECT COUNT(*) FROM snapshots WHERE status = 'published'`).pluck().get()).toBe(4);
      endDeclaration(r.a.db, 'it', r.clock.now());
      await r.at(15);
      await runJob({ ...r.a, retentionPaused: () => r.monitor.downtimeActive() }, 'ward-1', { trigger: 'manual' });
      expect(r.a.db.prepare(`SELECT COUNT(*) FROM snapshots WHERE status = 'published'`).pluck().get()).toBe(1);
    } finally {
      await r.close();
    }
  });
});
