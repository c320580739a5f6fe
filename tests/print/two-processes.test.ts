import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { openDb, type Db } from '../../agent/store/db.js';
import { CLI, REPO, jobYaml, openTestAgent, spawnUntil, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { HAVE_IPPEVEPRINTER, REQUIRE_PEERS, startIppPrinter, type IppPrinterHandle } from '../support/printers.js';

if (REQUIRE_PEERS && !HAVE_IPPEVEPRINTER) throw new Error('ippeveprinter (cups-ipp-utils) is required in CI; .ci/run installs it');

/**
 * One sender per print job across processes: `serve` and twenty
 * `paperback print` commands beside it share one queue, and either side is
 * SIGKILLed while jobs are in flight. Each job must reach the real printer
 * exactly once (its spool folder is counted), and none may be lost.
 */
describe.skipIf(!HAVE_IPPEVEPRINTER)('the print queue with serve and CLI prints side by side', () => {
  let his: FhirTestServer;
  let printer: IppPrinterHandle;
  let dir: string;
  beforeAll(async () => {
    his = (await startHis({ patients: 3 })).server;
    printer = await startIppPrinter({ command: '/bin/true' });
    dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"0 0 1 1 *"') }, printers: { ward: `id: ward\nname: Ward printer\nuri: ${printer.uri}\ndefaults: { media: iso_a4_210x297mm }\n` } });
    const a = openTestAgent(dir);
    const o = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    a.db.close();
  });
  afterAll(async () => {
    await printer?.stop();
    await his?.close();
  });

  it('sends each job exactly once and loses none when serve or a CLI print is SIGKILLed', { timeout: 180_000 }, async () => {
    const serve = () => spawnUntil(['--config', dir, 'serve', '--port', '0'], /serving on/);
    const prints: { child: ChildProcess; done: Promise<number | null> }[] = [];
    const print = () => {
      const child = spawn(process.execPath, [CLI, '--config', dir, 'print', 'ward-1/census', '--printer', 'ward', '--timeout', '150'], { cwd: REPO, stdio: 'ignore' });
      prints.push({ child, done: new Promise((r) => child.on('exit', (code) => r(code))) });
    };
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    const db: Db = openDb(path.join(dir, 'data'));
    const queued = () => db.prepare('SELECT COUNT(*) FROM print_jobs').pluck().get() as number;
    const until = async (cond: () => boolean) => {
      const end = Date.now() + 60_000;
      while (!cond() && Date.now() < end) await pause(50);
    };
    let s = (await serve()).child;
    try {
      for (let i = 0; i < 8; i++) print();
      await until(() => queued() >= 4);
      s.kill('SIGKILL'); // serve dies with jobs queued, sending or at the printer
      await new Promise((r) => s.once('exit', r));
      for (let i = 0; i < 6; i++) print();
      await until(() => queued() >= 14);
      // Two waiting CLI prints die too (their jobs are queued; one of them may own the queue by now).
      // The victims are the last two of this batch still running, chosen and killed in one tick: a
      // fixed pair could already have finished on a fast printer, and the kill would prove nothing.
      const running = prints.slice(8).filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      const victims = running.slice(-2);
      expect(victims).toHaveLength(2);
      for (const v of victims) v.child.kill('SIGKILL');
      s = (await serve()).child;
      for (let i = 0; i < 6; i++) print();
      const codes = await Promise.all(prints.map((p) => p.done));
      expect(await Promise.all(victims.map((v) => v.done))).toEqual([null, null]); // the two killed
      expect(codes.filter((c) => c === 0)).toHaveLength(18);

      // serve finishes what the killed CLIs left.
      await until(() => (db.prepare("SELECT COUNT(*) FROM print_jobs WHERE state NOT IN ('completed','failed','cancelled')").pluck().get() as number) === 0);
      const jobs = db.prepare('SELECT id, state FROM print_jobs ORDER BY id').all() as { id: number; state: string }[];
      expect(jobs).toHaveLength(20);
      expect(jobs.map((j) => j.state)).toEqual(Array(20).fill('completed'));
      // Exactly once at the printer: one spooled file per job, told apart by the tag in the job name.
      const spooled = fs.readdirSync(printer.spool).filter((f) => f.endsWith('.pdf'));
      const tags = spooled.map((f) => /pb.(\d+)/.exec(f)?.[1]).map(Number);
      expect(tags.sort((x, y) => x - y)).toEqual(jobs.map((j) => j.id));
      expect(spooled).toHaveLength(20);
    } finally {
      db.close();
      s.kill('SIGTERM');
      await new Promise((r) => s.once('exit', r));
    }
  });
});
