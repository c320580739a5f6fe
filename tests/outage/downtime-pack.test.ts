import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { patientsInBedOrder } from '../../agent/model/helpers.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { autoPrintForDowntime } from '../../agent/outage/downtime-pack.js';
import { startDowntime } from '../../agent/outage/downtime.js';
import { FINAL_STATES, listPrintJobs, printJobEvents } from '../../agent/print/queue.js';
import { startPrintWorker } from '../../agent/print/worker.js';
import { inThreadRenderer } from '../../agent/render/renderer.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { jobYaml, openTestAgent, startHis, tmpDir, waitFor, writeConfigDir } from '../support/fixtures.js';
import { HAVE_IPPEVEPRINTER, REQUIRE_PEERS, startIppPrinter, type IppPrinterHandle } from '../support/printers.js';

if (REQUIRE_PEERS && !HAVE_IPPEVEPRINTER) throw new Error('ippeveprinter is required in CI');

/**
 * The downtime pack at a real IPP printer (ippeveprinter) that aborts one job
 * as a busy or jammed printer would: the pack still comes out whole and in
 * order (cover, census, allergy list, handoff, then each MAR in bed order),
 * read back from what the printer printed, and the cover lists what it holds.
 */
const T0 = new Date('2026-11-22T02:00:00Z');
let his: { server: FhirTestServer; hospital: SyntheticHospital };
let printer: IppPrinterHandle;
let printed: string;

beforeAll(async () => {
  his = await startHis({ patients: 4, now: T0 });
  printed = tmpDir('pb-printed-');
  // ippeveprinter runs this for every job: the third job fails once (the printer aborts it), the others are kept in the order printed.
  const script = path.join(tmpDir(), 'print.sh');
  fs.writeFileSync(script, `#!/bin/sh\nn=$(cat "${printed}/count" 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > "${printed}/count"\n[ "$n" = 3 ] && exit 1\ncp "$1" "${printed}/$(printf %03d $n).pdf"\n`, { mode: 0o755 });
  if (HAVE_IPPEVEPRINTER) printer = await startIppPrinter({ command: script });
}, 60_000);
afterAll(async () => {
  await printer?.stop();
  await his?.server.close();
});

describe.skipIf(!HAVE_IPPEVEPRINTER)('the downtime pack', () => {
  it('prints cover first, then census, allergy list, handoff and each MAR in bed order, even when the printer aborts a job', async () => {
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: his.server.url,
      jobs: { 'ward-1': jobYaml('ward-1', 'downtime: { print: [census, allergies, handoff, mar], printer: ward }\n').replace('documents: [census, mar]', 'documents: [census, allergies, handoff, mar]') },
      printers: { ward: `id: ward\nname: Ward printer\nlocation: nurses' station\nuri: ${printer.uri}\n` },
    });
    fs.writeFileSync(path.join(dir, 'paperback.yaml'), fs.readFileSync(path.join(dir, 'paperback.yaml'), 'utf8').replace('box: { id: test-box }', 'box: { id: test-box, pageUrl: "http://paperback-3a.ward.local:8080/", contact: "IT on call, ext. 4321" }'));
    const a = openTestAgent(dir);
    expect((await runJob({ ...a, now: () => T0 }, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    const dt = startDowntime(a.db, { kind: 'detected', cause: 'HIS unreachable' }, new Date(T0.getTime() + 600_000));
    const r = await autoPrintForDowntime(a.db, a.blobs, a.config, dt.id, new Date(T0.getTime() + 600_000), (spec) => inThreadRenderer.pdf(spec));
    // Once per downtime: a second call (a restart, a second tick) queues nothing.
    expect((await autoPrintForDowntime(a.db, a.blobs, a.config, dt.id, new Date(), (spec) => inThreadRenderer.pdf(spec))).queued).toBe(0);
    const ward = JSON.parse(a.blobs.get(getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, 'data/ward')!.sha256).toString()) as WardSnapshot;
    const beds = patientsInBedOrder(ward);
    expect(r.queued).toBe(4 + beds.length);
    const worker = startPrintWorker({ db: a.db, blobs: a.blobs, printers: () => a.config.printers, configDir: dir, log: a.log, pollMs: 100, backoffMs: () => 300 });
    try {
      await waitFor(() => listPrintJobs(a.db, { downtimeId: dt.id }).every((j) => FINAL_STATES.includes(j.state)), 90_000);
    } finally {
      await worker.stop();
    }
    const jobs = listPrintJobs(a.db, { downtimeId: dt.id }).reverse();
    expect(jobs.map((j) => j.state)).toEqual(jobs.map(() => 'completed'));
    // The aborted job was retried and printed before anything after it was sent.
    const retried = jobs.find((j) => printJobEvents(a.db, j.id).some((e) => /aborted the job/.test(e.detail ?? '')))!;
    expect(retried.address).toBe('ward-1/allergies');

    // What came out of the printer, in the order it came out.
    const files = fs.readdirSync(printed).filter((f) => f.endsWith('.pdf')).sort();
    const texts = files.map((f) => execFileSync('pdftotext', ['-raw', path.join(printed, f), '-']).toString().replace(/\s+/g, ' '));
    expect(texts).toHaveLength(4 + beds.length);
    expect(texts[0]).toMatch(/Downtime pack — Ward ward-1/);
    expect(texts[1]).toMatch(/Ward census/);
    expect(texts[2]).toMatch(/Ward allergy and high-alert list/);
    expect(texts[3]).toMatch(/Shift handoff/);
    beds.forEach((p, i) => expect(texts[4 + i]).toContain(p.mrn!));

    // The cover: what the pack holds in order with page counts, the data's age, printer, page and whom to call.
    const cover = texts[0]!;
    expect(cover).toMatch(new RegExp(`It holds ${5 + beds.length - 1} documents`));
    expect(cover).toContain('Ward printer (nurses\' station)');
    expect(cover).toContain('http://paperback-3a.ward.local:8080/');
    expect(cover).toContain('IT on call, ext. 4321');
    expect(cover).toMatch(/22\/11\/2026 09:00 \(GMT\+7\) \(10 min before the downtime began\)/);
    const order = ['This cover sheet', 'Ward census', 'Ward allergy and high-alert list', 'Shift handoff', ...beds.map((p) => p.name!)].map((s) => cover.indexOf(s));
    expect(order.every((x) => x > -1)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
  }, 120_000);
});
