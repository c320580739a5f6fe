import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import { isoToLocalInput } from '../../agent/model/wall-clock.js';
import type { Patient } from '../../agent/model/ward.js';
import { endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { runJob } from '../../agent/schedule/run.js';
import { startScheduler, type Scheduler } from '../../agent/schedule/scheduler.js';
import { listEntries } from '../../agent/store/downtime-entries.js';
import { currentSnapshot, readSnapshotWard } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';
import { addTestUsers, NURSE, signIn, type WebClient } from '../support/web.js';

/**
 * Recording during a downtime through the ward page, on a real server with
 * the real scheduler behind it: refused outside a downtime and when wrong,
 * with the reason on the page; saved, audited, and on the printed MAR within
 * seconds; corrected by a new entry that names the old one.
 */
describe('the downtime record page', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let app: FastifyInstance;
  let scheduler: Scheduler;
  let nurse: WebClient;
  let patient: Patient;
  let key: string;
  const TZ = 'Asia/Ho_Chi_Minh';
  const local = (minutes: number) => isoToLocalInput(new Date(Date.now() + minutes * 60_000), TZ);

  beforeAll(async () => {
    his = (await startHis({ patients: 4 })).server;
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"0 0 1 1 *"') } });
    a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    patient = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!)[0]!;
    key = patientKey(patient);
    await addTestUsers(a.db);
    scheduler = startScheduler({ ...a, ticker: () => ({ stop() {} }) });
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, applyEntries: (id) => scheduler.applyEntries(id) });
    nurse = await signIn(await app.listen({ host: '127.0.0.1', port: 0 }), NURSE);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await scheduler?.stop();
    a?.db.close();
    await his?.close();
  });

  const page = (q = '') => nurse.fetch(`/ward/ward-1/patient/${key}/record${q}`).then((r) => r.text());
  const post = (fields: Record<string, string>) => nurse.form(`/ward/ward-1/patient/${key}/record`, fields);
  const order = () => patient.orders.items.find((o) => !o.prn)!;

  it('refuses outside a downtime: that goes in the HIS', async () => {
    expect(await (await nurse.fetch(`/ward/ward-1/patient/${key}`)).text()).not.toContain('/record');
    const res = await post({ kind: 'note', text: 'x', at: local(-5) });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('No downtime is running: record this in the HIS.');
  });

  it('records a dose through the form, audits it without what was given, and prints it on her MAR within seconds', { timeout: 60_000 }, async () => {
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'network cut' }, new Date(Date.now() - 3_600_000));
    try {
      expect(await (await nurse.fetch(`/ward/ward-1/patient/${key}`)).text()).toContain(`/ward/ward-1/patient/${key}/record`);
      const res = await post({ kind: 'administration', order: order().id, outcome: 'given', at: local(-10) });
      expect(res.status, await res.clone().text()).toBe(303);
      expect(res.headers.get('location')).toMatch(/record\?saved=\d+$/);
      const audit = a.db.prepare("SELECT subject, detail FROM audit_log WHERE action = 'downtime-entry'").all() as { subject: string; detail: string }[];
      expect(audit).toHaveLength(1);
      expect(audit[0]!.subject).toMatch(new RegExp(`^ward-1/patient/${key}/entry/\\d+$`));
      expect(audit[0]!.detail).not.toContain(order().drug.split(' ')[0]);

      // The page says when the paper has caught up; the MAR then carries the dose.
      let html = '';
      for (let i = 0; i < 100 && !html.includes('include everything recorded here'); i++) {
        html = await page();
        if (!html.includes('include everything recorded here')) await new Promise((r) => setTimeout(r, 200));
      }
      expect(html).toContain('include everything recorded here');
      const pdf = await nurse.fetch(`/documents/ward-1/mar/${key}.pdf`);
      expect(pdf.status).toBe(200);
      const text = pdfText(Buffer.from(await pdf.arrayBuffer())).text;
      expect(text).toContain(`${order().drug} — given`);
      expect(text).toMatch(/lan\.nguyen · entered .* during the downtime/);
    } finally {
      endDowntime(a.db, dt.id, null, 'test', new Date());
    }
  });

  it('says what is wrong with an entry, keeps what was typed, and corrects by a new entry with a reason', { timeout: 60_000 }, async () => {
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'network cut' }, new Date(Date.now() - 3_600_000));
    try {
      const held = await post({ kind: 'administration', order: order().id, outcome: 'held', at: local(-5), dose: 'half' });
      expect(held.status).toBe(400);
      const body = await held.text();
      expect(body).toContain('reason: a dose held, refused or not given needs its reason');
      expect(body).toContain('value="half"'); // nothing typed is lost
      expect(await (await post({ kind: 'vitals', pulse: '80', at: local(30) })).text()).toContain('in the future');
      expect(await (await post({ kind: 'vitals', pulse: 'fast', at: local(-5) })).text()).toContain('pulse: not a number');
      expect(await (await post({ kind: 'vitals', systolic: '120', at: local(-5) })).text()).toContain('a blood pressure needs both its numbers');
      expect(await (await post({ kind: 'note', text: 'x', at: local(-600) })).text()).toMatch(/more than 120 min before the downtime began/);

      const first = await post({ kind: 'vitals', temperatureC: '39,2', pulse: '110', at: local(-20) });
      const id = Number(/saved=(\d+)/.exec(first.headers.get('location') ?? '')?.[1]);
      const form = await page(`?corrects=${id}`);
      expect(form).toContain('You are correcting');
      expect(form).toContain('value="39.2"'); // the old values, to change
      const fix = await post({ kind: 'vitals', temperatureC: '37.2', pulse: '110', at: local(-20), corrects: String(id), correctionReason: 'typed 39.2 for 37.2' });
      expect(fix.status, await fix.clone().text()).toBe(303);
      const list = await page();
      expect(list).toMatch(/<s>T 39.2 °C · pulse 110\/min<\/s> \(corrected\)/);
      expect(list).toContain('corrects an earlier entry: typed 39.2 for 37.2');
    } finally {
      endDowntime(a.db, dt.id, null, 'test', new Date());
    }
  });

  it('in practice mode checks entries outside a downtime and shows what paper would say, saving nothing', async () => {
    a.config.box.downtimeEntries.practice = true;
    try {
      const before = listEntries(a.db, a.blobs, { jobId: 'ward-1' }).length;
      expect(await (await nurse.fetch(`/ward/ward-1/patient/${key}`)).text()).toContain(`/ward/ward-1/patient/${key}/record`);
      expect(await page()).toContain('PRACTICE MODE: no downtime is running');
      const res = await post({ kind: 'vitals', pulse: '80', systolic: '118', diastolic: '76', at: local(-5) });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('Practice: this is what the paper would say (nothing was saved):');
      expect(html).toContain('pulse 80/min · BP 118/76 mmHg');
      expect(await (await post({ kind: 'vitals', systolic: '118', at: local(-5) })).text()).toContain('a blood pressure needs both its numbers');
      expect(listEntries(a.db, a.blobs, { jobId: 'ward-1' })).toHaveLength(before);
      expect(a.db.prepare("SELECT COUNT(*) FROM audit_log WHERE action = 'downtime-entry' AND subject LIKE '%/practice'").pluck().get()).toBe(1);
    } finally {
      a.config.box.downtimeEntries.practice = false;
    }
  });

  it('takes a discharged patient off the census page, lists where she went, and brings her back when the discharge is corrected', { timeout: 60_000 }, async () => {
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'network cut' }, new Date(Date.now() - 3_600_000));
    try {
      const other = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!).find((p) => patientKey(p) !== key)!;
      const k = patientKey(other);
      const caughtUp = async () => {
        for (let i = 0; i < 100; i++) {
          if ((await nurse.fetch(`/ward/ward-1/patient/${k}/record`).then((r) => r.text())).includes('include everything recorded here')) return;
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error('the paper did not catch up');
      };
      const res = await nurse.form(`/ward/ward-1/patient/${k}/record`, { kind: 'discharge', destination: 'home', at: local(-3) });
      const id = Number(/saved=(\d+)/.exec(res.headers.get('location') ?? '')?.[1]);
      await caughtUp();
      let census = await (await nurse.fetch('/ward/ward-1')).text();
      expect(census).toContain('Left the ward during the downtime');
      expect(census).toMatch(new RegExp(`${other.mrn} · discharged to home`));
      expect(census).not.toContain(`/ward/ward-1/patient/${k}"`);
      // Her record page still opens, for a correction only.
      expect(await (await nurse.form(`/ward/ward-1/patient/${k}/record`, { kind: 'note', text: 'x', at: local(-2) })).text()).toContain('only a correction of an entry can be recorded');
      const fix = await nurse.form(`/ward/ward-1/patient/${k}/record`, { kind: 'note', text: 'Discharge recorded for the wrong patient', at: local(-3), corrects: String(id), correctionReason: 'wrong patient' });
      expect(fix.status, await fix.clone().text()).toBe(303);
      await caughtUp();
      census = await (await nurse.fetch('/ward/ward-1')).text();
      expect(census).not.toContain('Left the ward during the downtime');
      expect(census).toContain(`/ward/ward-1/patient/${k}"`);
    } finally {
      endDowntime(a.db, dt.id, null, 'test', new Date());
    }
  });
});
