import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { startOutageMonitor } from '../../agent/outage/monitor.js';
import { printerStatusCache } from '../../agent/print/status-cache.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, runCli, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { HAVE_IPPEVEPRINTER, REQUIRE_PEERS, startIppPrinter, type IppPrinterHandle } from '../support/printers.js';

if (REQUIRE_PEERS && !HAVE_IPPEVEPRINTER) throw new Error('ippeveprinter is required in CI');

let his: FhirTestServer;
let printer: IppPrinterHandle;
beforeAll(async () => {
  ({ server: his } = await startHis({ patients: 2 }));
  if (HAVE_IPPEVEPRINTER) printer = await startIppPrinter({ command: '/bin/true' });
});
afterAll(async () => {
  await his.close();
  await printer?.stop();
});

describe.skipIf(!HAVE_IPPEVEPRINTER)('readiness and metrics', () => {
  it('is ready with a fresh snapshot and a working printer, and says exactly what is wrong otherwise', async () => {
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: his.url,
      jobs: { 'ward-1': jobYaml('ward-1', 'maxAgeMinutes: 30\ndowntime: { print: [census], printer: ward }\n') },
      printers: { ward: `id: ward\nname: Ward printer\nuri: ${printer.uri}\n` },
    });
    const a = openTestAgent(dir);
    const printers = printerStatusCache(() => a.config.printers, dir);
    let now = new Date();
    const monitor = startOutageMonitor({ db: a.db, blobs: a.blobs, config: () => a.config, sources: a.sources, log: a.log, printers, clock: { now: () => now }, runJobs: () => {} });
    await monitor.tick();
    let r = monitor.readiness();
    expect(r.ready).toBe(false);
    expect(r.checks.find((c) => c.name === 'snapshot:ward-1')).toMatchObject({ ok: false, detail: 'no snapshot yet' });
    expect(r.checks.find((c) => c.name === 'printer:ward')).toMatchObject({ ok: true });
    expect(r.checks.find((c) => c.name === 'disk')!.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'clock')).toMatchObject({ ok: true, detail: expect.stringMatching(/against the HIS/) });

    await runJob(a, 'ward-1', { trigger: 'manual' });
    r = monitor.readiness();
    expect(r.ready, JSON.stringify(r.checks)).toBe(true);

    // The web page's /metrics and /api/readiness tell the same.
    const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, outage: monitor, printers });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^paperback_ready 1$/m);
    expect(metrics).toMatch(/^paperback_snapshot_age_seconds\{job="ward-1"\} \d+/m);
    expect(metrics).toMatch(/^paperback_source_state\{source="his",state="online"\} 1$/m);
    expect(metrics).toMatch(/^paperback_downtime_active 0$/m);
    expect(metrics).toMatch(/^paperback_printer_up\{printer="ward"\} 1$/m);
    expect(metrics).toMatch(/^paperback_print_queue_depth\{state="failed"\} 0$/m);
    expect((await app.inject({ url: '/api/readiness' })).statusCode).toBe(200);

    // Two hours later the data is stale, and the printer has gone.
    now = new Date(Date.now() + 2 * 3_600_000);
    await printer.stop();
    await monitor.tick();
    r = monitor.readiness();
    expect(r.ready).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name).sort()).toEqual(['clock', 'printer:ward', 'snapshot:ward-1']);
    expect(r.checks.find((c) => c.name === 'printer:ward')!.detail).toMatch(/cannot reach printer ward/);
    const res = await app.inject({ url: '/api/readiness' });
    expect(res.statusCode).toBe(503);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/^paperback_readiness_check\{check="printer:ward"\} 0$/m);
    await app.close();
    await monitor.stop();
    await printer.start();

    const status = await runCli(['--config', dir, 'status']);
    expect(status.stdout).toMatch(/readiness: READY/);
    expect(status.stdout).toMatch(/ok {3}printer:ward: idle, ready/);
  });
});
