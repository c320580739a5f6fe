import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { freePort } from '../../agent/demo/ipp-printer.js';
import { fileBack } from '../../agent/fileback/file-back.js';
import { controlId } from '../../agent/fileback/identifiers.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { Patient } from '../../agent/model/ward.js';
import { formatDtm } from '../../agent/sources/hl7/dtm.js';
import { endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { runJob } from '../../agent/schedule/run.js';
import { listEntries, recordEntry } from '../../agent/store/downtime-entries.js';
import { importNumbers } from '../../agent/store/downtime-numbers.js';
import { admitDuringDowntime } from '../../agent/outage/admissions.js';
import { currentSnapshot, readSnapshotWard } from '../../agent/store/snapshots.js';
import { jobYaml, openTestAgent, REPO, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { HAVE_MLLP_SEND } from '../support/hl7.js';
import { REQUIRE_PEERS } from '../support/printers.js';

if (REQUIRE_PEERS && !HAVE_MLLP_SEND) throw new Error('python3-hl7 is required in CI; .ci/run installs it');

/**
 * File-back as HL7 v2 to a real MLLP receiver (python-hl7's asyncio server,
 * Debian python3-hl7): each entry one message, filed only when an MSA naming
 * its MSH-10 says AA; sent again with the same MSH-10 when no answer came.
 */
describe.skipIf(!HAVE_MLLP_SEND)('file-back over HL7 v2 (MLLP)', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let patients: Patient[];
  let receiver: ChildProcess | null = null;
  let port: number;
  let log: string;
  const TZ = 'Asia/Ho_Chi_Minh';
  const min = (m: number) => new Date(Date.now() + m * 60_000);

  beforeAll(async () => {
    his = (await startHis({ patients: 3 })).server;
    port = await freePort();
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1') }, extraSource: `fileBack: { to: hl7, host: 127.0.0.1, port: ${port}, timeoutMs: 1500, sendingApplication: PAPERBACK, receivingApplication: HIS }\n` });
    a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    patients = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!);
  }, 60_000);
  afterEach(() => {
    receiver?.kill();
    receiver = null;
  });
  afterAll(async () => {
    a?.db.close();
    await his?.close();
  });

  async function startReceiver(mode: 'aa' | 'silent-first' | 'ar') {
    log = path.join(tmpDir(), 'received.jsonl');
    const child = spawn('/usr/bin/python3', [path.join(REPO, 'tests/support/mllp_receiver.py'), String(port), log, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    receiver = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      child.once('exit', (c) => reject(new Error(`receiver exited ${c}`)));
    });
  }
  const received = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { control: string; type: string; segments: string[] }) : []);

  function record(entries: [Patient, number, unknown][]) {
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'ransomware' }, min(-240));
    const rows = entries.map(([p, m, payload]) => recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: patientKey(p), occurredAt: min(m).toISOString(), payload }, { downtime: dt, by: 'lan.nguyen', marginMinutes: 60, now: min(0) }));
    endDowntime(a.db, dt.id, null, 'test', min(0));
    return rows;
  }

  it('sends ADT A02 and A03, RAS^O17 and ORU^R01, each filed on the AA that names it, with when it happened and when it was entered', { timeout: 60_000 }, async () => {
    await startReceiver('aa');
    const [p1, p2] = patients;
    const order = p1!.orders.items.find((o) => !o.prn)!;
    const rows = record([
      [p1!, -200, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'given', dose: '500 mg' }],
      [p1!, -150, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'refused', reason: 'buồn nôn' }],
      [p1!, -120, { kind: 'vitals', temperatureC: 38.4, systolic: 132, diastolic: 84 }],
      [p1!, -100, { kind: 'note', text: 'Gia đình đã được báo | "quoted" ^ & ~' }],
      [p2!, -90, { kind: 'transfer', toBed: '12B' }],
      [p2!, -60, { kind: 'discharge', destination: 'nhà' }],
    ]);
    expect(await fileBack({ ...a })).toMatchObject({ filed: 6, failed: 0, rejected: 0, needsPerson: 0 });
    const got = received();
    expect(got.map((m) => m.type)).toEqual(['RAS^O17^RAS_O17', 'RAS^O17^RAS_O17', 'ORU^R01^ORU_R01', 'ORU^R01^ORU_R01', 'ADT^A02^ADT_A02', 'ADT^A03^ADT_A03']);
    expect(got.map((m) => m.control)).toEqual(rows.map((r) => controlId(r.uid)));
    const seg = (i: number, name: string) => got[i]!.segments.find((s) => s.startsWith(name))!.split('|');
    const dtm = (iso: string) => formatDtm(new Date(iso), TZ);
    // RXA-3 when given, RXA-20 complete, RXA-22 when entered; a refusal says so, with its reason.
    expect(seg(0, 'RXA')[3]).toBe(dtm(rows[0]!.occurredAt));
    expect(seg(0, 'RXA')[20]).toBe('CP');
    expect(seg(0, 'RXA')[22]).toBe(dtm(rows[0]!.enteredAt));
    expect(seg(1, 'RXA')[20]).toBe('RE');
    expect(seg(1, 'RXA')[18]).toBe('^refused: buồn nôn');
    expect(seg(0, 'ORC')[2]).toBe(order.id);
    expect(seg(0, 'PID')[3]).toBe(`${p1!.mrn}^^^^MR`);
    // Vital signs in LOINC and UCUM; the note's delimiters escaped and its Vietnamese intact.
    expect(got[2]!.segments.filter((s) => s.startsWith('OBX')).map((s) => s.split('|').slice(3, 7).join('|'))).toEqual(['8310-5^Body temperature^LN||38.4|Cel^^UCUM', '8480-6^Systolic blood pressure^LN||132|mm[Hg]^^UCUM', '8462-4^Diastolic blood pressure^LN||84|mm[Hg]^^UCUM']);
    expect(seg(3, 'OBX')[5]).toBe('Gia đình đã được báo \\F\\ "quoted" \\S\\ \\T\\ \\R\\');
    // EVN-2 when entered, EVN-6 when it happened; PV1-3 the new bed; PV1-45 the discharge time.
    expect(seg(4, 'EVN')[2]).toBe(dtm(rows[4]!.enteredAt));
    expect(seg(4, 'EVN')[6]).toBe(dtm(rows[4]!.occurredAt));
    expect(seg(4, 'PV1')[3]).toBe('ward-1^^12B');
    expect(seg(5, 'PV1')[45]).toBe(dtm(rows[5]!.occurredAt));
    expect(seg(5, 'PV1')[37]).toBe('nhà');
    const filed = listEntries(a.db, a.blobs, { jobId: 'ward-1' }).filter((e) => rows.some((r) => r.id === e.id));
    expect(filed.map((e) => [e.state, e.filedRef])).toEqual(rows.map((r) => ['filed', `MSH-10 ${controlId(r.uid)}`]));
  });

  it('sends again with the same MSH-10 when no acknowledgement came, and files it once the AA comes', { timeout: 60_000 }, async () => {
    await startReceiver('silent-first');
    const [row] = record([[patients[2]!, -30, { kind: 'vitals', pulse: 72 }]]);
    expect(await fileBack({ ...a })).toMatchObject({ filed: 0, failed: 1 });
    expect(listEntries(a.db, a.blobs, { jobId: 'ward-1' }).find((e) => e.id === row!.id)!.lastError).toMatch(/no acknowledgement for PB\w+ .* within 1500 ms/);
    expect(await fileBack({ ...a })).toMatchObject({ filed: 1, failed: 0 });
    expect(received().map((m) => m.control)).toEqual([controlId(row!.uid), controlId(row!.uid)]);
  });

  it('gives an entry the engine rejects (AR) to a person, and never sends it again by itself', { timeout: 60_000 }, async () => {
    await startReceiver('ar');
    const [row] = record([[patients[2]!, -20, { kind: 'note', text: 'x' }]]);
    expect(await fileBack({ ...a })).toMatchObject({ rejected: 1 });
    expect(listEntries(a.db, a.blobs, { jobId: 'ward-1' }).find((e) => e.id === row!.id)!.state).toBe('rejected');
    expect(await fileBack({ ...a })).toMatchObject({ filed: 0, rejected: 0 });
    expect(received()).toHaveLength(1);
  });

  it('sends a downtime admission as an ADT A01 first, then her entries under her downtime number, each once', { timeout: 60_000 }, async () => {
    await startReceiver('aa');
    importNumbers(a.db, 'DT3A-0007\n', 'numbers.txt');
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'ransomware' }, min(-240));
    const adm = admitDuringDowntime(a.db, a.blobs, { family: 'Trần', given: 'Thị Mai', birthDate: '1990-04-02', sex: 'female', bed: '12' }, { ward: 'ward-1', by: 'lan.nguyen', nameOrder: 'family-first', now: min(-200) });
    const row = recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: adm.number, occurredAt: min(-150).toISOString(), payload: { kind: 'vitals', pulse: 96 } }, { downtime: dt, by: 'lan.nguyen', marginMinutes: 60, now: min(0) });
    endDowntime(a.db, dt.id, null, 'test', min(0));
    expect(await fileBack({ ...a })).toMatchObject({ filed: 2, failed: 0, needsPerson: 0 });
    const got = received();
    expect(got.map((m) => m.type)).toEqual(['ADT^A01^ADT_A01', 'ORU^R01^ORU_R01']);
    const seg = (i: number, name: string) => got[i]!.segments.find((s) => s.startsWith(name))!.split('|');
    const dtm = (iso: string) => formatDtm(new Date(iso), TZ);
    expect(seg(0, 'PID')[3]).toBe('DT3A-0007^^^PAPERBACK^PI');
    expect(seg(0, 'PID')[5]).toBe('Trần^Thị Mai');
    expect(seg(0, 'PID')[7]).toBe('19900402');
    expect(seg(0, 'PV1')[3]).toBe('ward-1^^12');
    expect(seg(0, 'EVN')[6]).toBe(dtm(adm.enteredAt));
    expect(seg(1, 'PID')[3]).toBe('DT3A-0007^^^PAPERBACK^PI');
    expect(listEntries(a.db, a.blobs, { jobId: 'ward-1' }).find((e) => e.id === row.id)!.state).toBe('filed');
    expect(await fileBack({ ...a })).toMatchObject({ filed: 0 });
    expect(received()).toHaveLength(2);
  });
});
