import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { freePort } from '../../agent/demo/ipp-printer.js';
import { fileBack } from '../../agent/fileback/file-back.js';
import { URI_SYSTEM } from '../../agent/fileback/identifiers.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { Patient } from '../../agent/model/ward.js';
import { admitDuringDowntime } from '../../agent/outage/admissions.js';
import { endDowntime, startDowntime, type DowntimeRow } from '../../agent/outage/downtime.js';
import { runJob } from '../../agent/schedule/run.js';
import { entryCounts, listEntries, recordEntry } from '../../agent/store/downtime-entries.js';
import { importNumbers } from '../../agent/store/downtime-numbers.js';
import { currentSnapshot, getArtifact, readSnapshotWard } from '../../agent/store/snapshots.js';
import { jobYaml, openTestAgent, REPO, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { HAVE_MLLP_SEND } from '../support/hl7.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * Issue #25's 48 hours, simulated on the demo's synthetic ward: every four
 * hours doses given or held and vital signs taken, an admission, a move and a
 * discharge; the paper read back at hour 30 and at the end is right each
 * time; after recovery the same store files back to a real FHIR server and,
 * copied, to a real MLLP receiver, each entry exactly once (a second file-back
 * sends nothing).
 */
describe.skipIf(!HAVE_MLLP_SEND)('a 48-hour downtime on the demo ward', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let dir: string;
  let dt: DowntimeRow;
  let ward: Patient[];
  const NOW = Date.now();
  const S = NOW - 48 * 3_600_000;
  const at = (hours: number) => new Date(S + hours * 3_600_000);
  const tally = { given: 0, held: 0, vitals: 0 };

  beforeAll(async () => {
    his = (await startHis({ patients: 8 })).server;
    dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('documents: [census, mar]', 'documents: [census, mar, summary]') }, extraSource: 'fileBack: { to: fhir, source: his }\n', sourceTimeoutMs: 30_000 });
    a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    ward = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!);
    importNumbers(a.db, 'DT0001\nDT0002\n', 'numbers.txt');
    dt = startDowntime(a.db, { kind: 'detected', cause: 'HIS unreachable' }, at(0));
  }, 60_000);
  afterAll(async () => {
    a?.db.close();
    await his?.close();
  });

  const record = (p: Patient, hours: number, payload: unknown) =>
    recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: patientKey(p), occurredAt: at(hours).toISOString(), payload }, { downtime: dt, by: 'ĐD. Lan', marginMinutes: 120, now: at(hours + 0.1) });
  const pdf = (address: string) => pdfText(a.blobs.get(getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, address)!.sha256)).text;

  async function hours(from: number, to: number) {
    const [p1, p2, p3, p4, p5] = ward;
    const dose = p1!.orders.items.find((o) => !o.prn)!;
    const held = p2!.orders.items.find((o) => !o.prn)!;
    for (let h = from; h < to; h += 4) {
      record(p1!, h, { kind: 'administration', orderId: dose.id, drug: dose.drug, outcome: 'given' });
      tally.given++;
      if (h % 8 === 0) {
        record(p2!, h, { kind: 'administration', orderId: held.id, drug: held.drug, outcome: 'held', reason: `BP low at hour ${h}` });
        tally.held++;
        record(p3!, h, { kind: 'vitals', temperatureC: 37 + (h % 3) / 10, pulse: 80 + h, systolic: 120, diastolic: 80 });
        tally.vitals++;
      }
      if (h === 8) admitDuringDowntime(a.db, a.blobs, { family: 'Phạm', given: 'Văn An', birthDate: '1961', sex: 'male', bed: '' }, { ward: 'ward-1', by: 'ĐD. Lan', nameOrder: 'family-first', now: at(h) });
      if (h === 12) record(p4!, h, { kind: 'transfer', toWard: 'ICU' });
      if (h === 20) record(p5!, h, { kind: 'discharge', destination: 'home' });
      // The paper is published again after each round, as the page does after each save.
      expect((await runJob(a, 'ward-1', { trigger: 'entries' })).status).toBe('succeeded');
    }
  }

  it('keeps the paper right through hour 30 and hour 48', { timeout: 120_000 }, async () => {
    const [p1, p2, p3, p4, p5] = ward;
    await hours(0, 30);
    let mar = pdf(`mar/${patientKey(p1!)}`);
    expect(mar.match(/— given/g)).toHaveLength(tally.given); // every dose so far, each once
    expect(pdf(`mar/${patientKey(p2!)}`).match(/— held: BP low at hour \d+/g)).toHaveLength(tally.held);
    expect(pdf(`summary/${patientKey(p3!)}`).match(/T 37(\.\d)? °C · pulse \d+\/min · BP 120\/80 mmHg/g)).toHaveLength(tally.vitals);
    let census = pdf('census');
    expect(census).toContain('DOWNTIME ADMISSION DT0001');
    expect(census).toMatch(new RegExp(`${p4!.mrn} transferred to ICU`));
    expect(census).toMatch(new RegExp(`${p5!.mrn} discharged to home`));
    await hours(32, 48);
    endDowntime(a.db, dt.id, null, 'HIS back', new Date(NOW));
    expect((await runJob(a, 'ward-1', { trigger: 'entries' })).status).toBe('succeeded');
    mar = pdf(`mar/${patientKey(p1!)}`);
    expect(tally.given).toBe(12);
    expect(mar.match(/— given/g)).toHaveLength(12);
    census = pdf('census');
    expect(census).toMatch(/\+ \d+ downtime entries up to/);
    expect(entryCounts(a.db).pending).toBe(tally.given + tally.held + tally.vitals + 2);
  });

  it('files the 48 hours back to a real FHIR server and, from a copy of the box, to a real MLLP receiver, each entry once', { timeout: 120_000 }, async () => {
    // The same box's store, copied before file-back, for the HL7 route.
    a.db.close();
    const dir2 = tmpDir();
    fs.cpSync(dir, dir2, { recursive: true, verbatimSymlinks: true });
    a = openTestAgent(dir);
    const mine = async (type: string) => (await his.repo.searchResources({ resourceType: type, count: 2000 } as never)).filter((r) => (r as { identifier?: { system?: string }[] }).identifier?.[0]?.system === URI_SYSTEM).length;
    const report = await fileBack({ ...a });
    // FHIR takes doses and vital signs; the move and the discharge wait for a person.
    expect(report).toMatchObject({ filed: tally.given + tally.held + tally.vitals, failed: 0, rejected: 0, needsPerson: 2 });
    expect(await mine('MedicationAdministration')).toBe(tally.given + tally.held);
    expect(await mine('Observation')).toBe(tally.vitals * 3); // temperature, pulse and the blood pressure panel
    expect(await fileBack({ ...a })).toMatchObject({ filed: 0, failed: 0 });
    expect(await mine('MedicationAdministration')).toBe(tally.given + tally.held);

    const port = await freePort();
    fs.writeFileSync(path.join(dir2, 'paperback.yaml'), fs.readFileSync(path.join(dir2, 'paperback.yaml'), 'utf8').replace('fileBack: { to: fhir, source: his }', `fileBack: { to: hl7, host: 127.0.0.1, port: ${port}, timeoutMs: 3000 }`));
    const log = path.join(tmpDir(), 'received.jsonl');
    const receiver: ChildProcess = spawn('/usr/bin/python3', [path.join(REPO, 'tests/support/mllp_receiver.py'), String(port), log, 'aa'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((r) => receiver.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && r()));
      const b = openTestAgent(dir2);
      try {
        const total = tally.given + tally.held + tally.vitals + 2;
        // And the downtime admission, as an A01 first.
        expect(await fileBack({ ...b })).toMatchObject({ filed: total + 1, failed: 0, needsPerson: 0 });
        expect(await fileBack({ ...b })).toMatchObject({ filed: 0 });
        const got = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { control: string; type: string });
        expect(got).toHaveLength(total + 1);
        expect(new Set(got.map((m) => m.control)).size).toBe(total + 1);
        expect(got.filter((m) => m.type.startsWith('ADT')).map((m) => m.type)).toEqual(['ADT^A01^ADT_A01', 'ADT^A02^ADT_A02', 'ADT^A03^ADT_A03']);
        expect(listEntries(b.db, b.blobs, { jobId: 'ward-1' }).every((e) => e.state === 'filed')).toBe(true);
      } finally {
        b.db.close();
      }
    } finally {
      receiver.kill();
    }
  });
});
