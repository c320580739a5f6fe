import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { fileBack } from '../../agent/fileback/file-back.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { Patient } from '../../agent/model/ward.js';
import { admitDuringDowntime } from '../../agent/outage/admissions.js';
import { endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { runJob } from '../../agent/schedule/run.js';
import { listEntries, recordEntry } from '../../agent/store/downtime-entries.js';
import { importNumbers } from '../../agent/store/downtime-numbers.js';
import { currentSnapshot, readSnapshotWard } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';
import { ADMIN, addTestUsers, NURSE, signIn, type WebClient } from '../support/web.js';

/**
 * After recovery, on a real server over a real FHIR server: the back-entry
 * list (PDF read back, CSV as Excel opens it) in the order sites back-enter;
 * IT files back from the page; a charge nurse decides what the box gave to a
 * person, with a reason, and the decision is audited.
 */
describe('the reconciliation view', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let app: FastifyInstance;
  let nurse: WebClient;
  let admin: WebClient;
  let patients: Patient[];
  const min = (m: number) => new Date(Date.now() + m * 60_000);

  beforeAll(async () => {
    his = (await startHis({ patients: 3 })).server;
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"0 0 1 1 *"') }, extraSource: 'fileBack: { to: fhir, source: his }\n', sourceTimeoutMs: 30_000 });
    a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    patients = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!);
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'ransomware' }, min(-300));
    const r = (p: Patient, m: number, payload: unknown) => recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: patientKey(p), occurredAt: min(m).toISOString(), payload }, { downtime: dt, by: 'lan.nguyen', marginMinutes: 60, now: min(0) });
    const order = patients[0]!.orders.items.find((o) => !o.prn)!;
    r(patients[0]!, -100, { kind: 'vitals', pulse: 90 });
    r(patients[0]!, -200, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'given' });
    r(patients[1]!, -150, { kind: 'note', text: '=HYPERLINK("http://x") a note' });
    r(patients[1]!, -120, { kind: 'discharge', destination: 'home' });
    importNumbers(a.db, 'DT0001\n', 'numbers.txt');
    admitDuringDowntime(a.db, a.blobs, { family: 'Trần', given: 'Thị Mai', birthDate: '1990-04-02', sex: 'female', bed: '7' }, { ward: 'ward-1', by: 'lan.nguyen', nameOrder: 'family-first', now: min(-250) });
    endDowntime(a.db, dt.id, null, 'test', min(0));
    await addTestUsers(a.db);
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, fileBack: (o) => fileBack({ ...a }, o) });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    nurse = await signIn(base, NURSE);
    admin = await signIn(base, ADMIN);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    a?.db.close();
    await his?.close();
  });

  it('prints the back-entry list in the order sites back-enter, with a box to tick per line', async () => {
    const res = await nurse.fetch('/ward/ward-1/entries/back-entry.pdf');
    expect(res.status).toBe(200);
    const { text } = pdfText(Buffer.from(await res.arrayBuffer()));
    const at = (s: string) => text.indexOf(s);
    expect(text).toContain('BACK-ENTRY LIST');
    // Admissions, moves and discharges first; then medications, vital signs, notes.
    const order = ['Admissions, moves and discharges', 'Admitted during the downtime as DT0001', 'discharged to home', 'Medications (actual times)', `${patients[0]!.orders.items.find((o) => !o.prn)!.drug} — given`, 'Vital signs', 'pulse 90/min', 'Notes', 'note: =HYPERLINK'];
    for (const s of order) expect(at(s), s).toBeGreaterThan(-1);
    expect(order.map(at)).toEqual([...order.map(at)].sort((x, y) => x - y));
    expect(text.match(/☐/g)!.length).toBeGreaterThanOrEqual(5 + 4); // a box per line, and each table's header
    expect(text).toContain('5 item(s) to enter into the HIS');
  });

  it('gives the same list as CSV that Excel reads as UTF-8 and never as a formula', async () => {
    const bytes = Buffer.from(await (await nurse.fetch('/ward/ward-1/entries/back-entry.csv')).arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // the BOM: Excel reads UTF-8, not its code page
    const lines = bytes.subarray(3).toString('utf8').trim().split('\r\n');
    expect(lines[0]).toBe('section,bed,patient,mrn,happened_at,what,entered_by,state,entry_id');
    expect(lines).toHaveLength(6);
    expect(lines.find((l) => l.includes('HYPERLINK'))).toContain("note: =HYPERLINK"); // inside the text, after "note:", not a cell start
    expect(lines[1]).toMatch(/^"Admissions, moves and discharges",7,Trần Thị Mai,DT0001,/);
  });

  it('lets IT file back from the page, and a charge nurse decide what the box gave to a person', { timeout: 30_000 }, async () => {
    // A nurse cannot file back; IT can.
    expect((await nurse.form('/ward/ward-1/entries/fileback', {})).status).toBe(403);
    const filed = await admin.form('/ward/ward-1/entries/fileback', {});
    expect(filed.status).toBe(303);
    expect(filed.headers.get('location')).toBe('/ward/ward-1/entries?filed=3&failed=0&rejected=0&needsPerson=1');
    const page = await (await nurse.fetch('/ward/ward-1/entries')).text();
    expect(page).toContain('a discharge is entered in the HIS by hand');
    const discharge = listEntries(a.db, a.blobs, { jobId: 'ward-1' }).find((e) => e.kind === 'discharge')!;
    expect(page).toContain(`/ward/ward-1/entries/${discharge.id}/resolve`);
    expect((await nurse.form(`/ward/ward-1/entries/${discharge.id}/resolve`, { decision: 'filed' })).status).toBe(400); // no reason
    expect((await nurse.form(`/ward/ward-1/entries/${discharge.id}/resolve`, { decision: 'filed', reason: 'discharged in the HIS at 14:10' })).status).toBe(303);
    const after = listEntries(a.db, a.blobs, { jobId: 'ward-1' }).find((e) => e.id === discharge.id)!;
    expect(after.state).toBe('filed');
    expect(after.filedRef).toBe('by hand, lan.nguyen: discharged in the HIS at 14:10');
    // Decided once: a second decision is refused.
    expect((await nurse.form(`/ward/ward-1/entries/${discharge.id}/resolve`, { decision: 'rejected', reason: 'x' })).status).toBe(409);
    const audit = a.db.prepare("SELECT action, subject FROM audit_log WHERE action IN ('entries-filed', 'entry-resolved') ORDER BY id").all();
    expect(audit).toEqual([
      { action: 'entries-filed', subject: 'ward-1/entries' },
      { action: 'entry-resolved', subject: `ward-1/entry/${discharge.id}` },
    ]);
    // The back-entry list now holds only what is not in the HIS: the downtime admission, not yet mapped.
    const { text } = pdfText(Buffer.from(await (await nurse.fetch('/ward/ward-1/entries/back-entry.pdf')).arrayBuffer()));
    expect(text).toContain('1 item(s) to enter into the HIS');
  });
});
