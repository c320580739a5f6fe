import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../agent/demo/fhir-server.js';
import { REPO, jobsRunByHand, runCli, spawnUntil, startHis, tmpDir, writeConfigDir } from './support/fixtures.js';

let server: FhirTestServer;
let patients: { mrn: string | null }[];
let dir: string;
beforeAll(async () => {
  const his = await startHis({ patients: 5 });
  server = his.server;
  patients = his.hospital.wards[0]!.patients;
  dir = writeConfigDir(tmpDir(), { baseUrl: server.url });
});
afterAll(async () => {
  await server.close();
});

describe('the paperback command', () => {
  it('prints usage and exits 2 for unknown commands or options', async () => {
    const res = await runCli(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown command "frobnicate"/);
    expect(res.stderr).toMatch(/Usage: paperback/);
    expect((await runCli(['--config', dir, 'status', '--bogus'])).code).toBe(2);
    expect((await runCli(['--help'])).code).toBe(0);
  });

  it('serve stops cleanly on SIGTERM while its start-up snapshots still wait their turn', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const d = writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: jobsRunByHand(ids), maxConcurrentRuns: 1 });
    // The first run waits on its census answer; the other three wait for it.
    server.fault = ({ path: p }) => (p.startsWith('/Location?_id') ? { kind: 'delay', ms: 1500 } : undefined);
    try {
      const { child, output } = await spawnUntil(['--config', d, 'serve', '--port', '0'], /snapshot run started/);
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('close', r));
      expect(code, output()).toBe(0);
      expect(output()).toMatch(/"msg":"stopping"/);
      expect(output()).not.toMatch(/Unhandled|at Object\.stop/);
      // Runs cut short by the stop are not taken for a failing HIS.
      expect(output()).not.toMatch(/source state changed/);
    } finally {
      server.fault = null;
    }
  });

  it('serve does not take a run that failed on a broken template for a failing HIS', async () => {
    const d = writeConfigDir(tmpDir(), { baseUrl: server.url });
    fs.rmSync(path.join(d, 'templates'));
    fs.cpSync(path.join(REPO, 'templates'), path.join(d, 'templates'), { recursive: true });
    const mar = path.join(d, 'templates/documents/mar.hbs');
    fs.writeFileSync(mar, `${fs.readFileSync(mar, 'utf8')}\n{{#if}}\n`);
    // The start-up run and its one retry (1 s later) both fail after a good pull.
    const { child, output } = await spawnUntil(['--config', d, 'serve', '--port', '0'], /"run":2,[^\n]*"msg":"snapshot run failed; the previous/);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    expect(output()).toMatch(/mar\.hbs/);
    expect(output()).not.toMatch(/source state changed/);
  });

  it('serve that cannot open its web port stops everything and exits non-zero, instead of running without a ward page', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: jobsRunByHand(['ward-1']) });
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['--config', dir, 'serve', '--host', '127.0.0.1', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('status before any run says so, and --json is machine-readable', async () => {
    const res = await runCli(['--config', dir, 'status', '--json']);
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout);
    expect(s.box).toBe('test-box');
    expect(s.jobs[0]).toMatchObject({ id: 'ward-1', lastRun: null, current: null, running: false });
    expect(Date.parse(s.jobs[0].nextRun)).toBeGreaterThan(Date.now() - 1000);
    const human = await runCli(['--config', dir, 'status']);
    expect(human.stdout).toMatch(/current:\s+none yet/);
    // Times in the box's zone, as the page and paper give them, not UTC instants.
    expect(human.stdout).toMatch(/next run \d{2}\/\d{2}\/\d{4} \d{2}:\d{2} \(GMT\+7\)/);
    expect(human.stdout).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it('printers gives the live state of every kind of printer', async () => {
    const listening = net.createServer((c) => c.end());
    await new Promise<void>((r) => listening.listen(0, '127.0.0.1', r));
    const port = (listening.address() as net.AddressInfo).port;
    const folder = tmpDir();
    const d = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:9/fhir',
      printers: {
        laser: `id: laser\nname: Ward laser\nkind: folder\nuri: ${folder}\n`,
        labels: `id: labels\nname: Label printer\nkind: zpl\nuri: socket://127.0.0.1:${port}\nlabel: { widthMm: 50, heightMm: 25 }\n`,
        bands: `id: bands\nname: Wristband printer (off)\nkind: zpl\nuri: socket://127.0.0.1:9\nwristband: { widthMm: 25, lengthMm: 279 }\n`,
        office: `id: office\nname: Office printer (off)\nuri: ipp://127.0.0.1:9/ipp/print\n`,
      },
    });
    try {
      const r = await runCli(['--config', d, 'printers']);
      expect(r.code, r.stderr).toBe(0);
      const block = (id: string) => r.stdout.split(/\n(?=\S)/).find((b) => b.startsWith(`${id} `)) ?? '';
      expect(block('laser')).toMatch(/\[folder\]\n\s+writable folder, ready/);
      expect(block('labels')).toMatch(/\[raw ZPL \(socket\)\]\n\s+reachable/);
      expect(block('bands')).toMatch(/UNREACHABLE/);
      expect(block('office')).toMatch(/\[IPP\]\n\s+UNREACHABLE/);
      const json = JSON.parse((await runCli(['--config', d, 'printers', '--json'])).stdout) as { id: string; status: { reachable: boolean } }[];
      expect(Object.fromEntries(json.map((p) => [p.id, p.status.reachable]))).toEqual({ bands: false, labels: true, laser: true, office: false });
    } finally {
      listening.close();
    }
  });

  it('run publishes, docs lists addresses, export writes the PDFs, status shows the age', async () => {
    const run = await runCli(['--config', dir, 'run', 'ward-1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout);
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { patients: 5, documents: 6 } });
    const docs = (await runCli(['--config', dir, 'docs', 'ward-1'])).stdout.trim().split('\n');
    expect(docs[0]).toBe('ward-1/census');
    expect(docs.slice(1).sort()).toEqual(patients.map((p) => `ward-1/mar/${p.mrn}`).sort());
    const out = tmpDir();
    const exp = await runCli(['--config', dir, 'export', 'ward-1', '--out', out]);
    expect(exp.code).toBe(0);
    const files = fs.readdirSync(out).sort();
    expect(files).toHaveLength(6);
    for (const f of files) expect(fs.readFileSync(path.join(out, f)).subarray(0, 5).toString()).toBe('%PDF-');
    const s = JSON.parse((await runCli(['--config', dir, 'status', '--json'])).stdout);
    expect(s.jobs[0].lastRun.status).toBe('succeeded');
    expect(s.jobs[0].current).toMatchObject({ snapshotId: outcome.snapshotId, stale: false });
    expect(s.jobs[0].current.ageSeconds).toBeGreaterThanOrEqual(0);
  });

  it('run exits non-zero with the reason when the HIS is down, and names unknown jobs', async () => {
    const down = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9/fhir' });
    const res = await runCli(['--config', down, 'run', 'ward-1']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/snapshot failed: cannot reach 127.0.0.1:9: ECONNREFUSED/);
    const unknown = await runCli(['--config', dir, 'run', 'ward-9']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toMatch(/no snapshot job "ward-9" \(have: ward-1\)/);
    const noSnap = await runCli(['--config', down, 'docs', 'ward-1']);
    expect(noSnap.code).toBe(5);
  });
});
