import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { fileBack } from '../../agent/fileback/file-back.js';
import { URI_SYSTEM } from '../../agent/fileback/identifiers.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { Patient } from '../../agent/model/ward.js';
import { activeDowntime, endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { startScheduler, type Scheduler } from '../../agent/schedule/scheduler.js';
import { currentSnapshot, readSnapshotWard } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, runByHandOnly, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { axeViolations, HAVE_CHROMIUM, launchChromium, signedInPage } from '../support/browser.js';
import { pdfText } from '../support/pdf-text.js';
import { REQUIRE_PEERS } from '../support/printers.js';
import { ADMIN, NURSE, addTestUsers } from '../support/web.js';

if (REQUIRE_PEERS && !HAVE_CHROMIUM) throw new Error('chromium is required in CI');

/**
 * A downtime through the page in a real browser (issue #25): a nurse on a
 * phone records a dose and vital signs, the MAR she prints carries them;
 * after recovery IT files back from the entries page to a real FHIR server.
 * The record and entries pages pass axe with no serious violation.
 */
describe.skipIf(!HAVE_CHROMIUM)('downtime entries in a real browser', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let scheduler: Scheduler;
  let patient: Patient;

  beforeAll(async () => {
    his = (await startHis({ patients: 6, now: new Date() })).server;
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': runByHandOnly(jobYaml('ward-1')) }, extraSource: 'fileBack: { to: fhir, source: his }\n', sourceTimeoutMs: 30_000 });
    a = openTestAgent(dir);
    scheduler = startScheduler({ ...a, ticker: () => ({ stop() {} }) });
    expect((await scheduler.runNow('ward-1')).status).toBe('succeeded');
    patient = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!)[0]!;
    await addTestUsers(a.db);
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, applyEntries: (id) => scheduler.applyEntries(id), fileBack: (o) => fileBack({ ...a }, o) });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await scheduler?.stop();
    a?.db.close();
    await his?.close();
  });

  // axe is injected as a script, which the Content-Security-Policy rightly forbids: bypassed for the audit only.
  const signedIn = (user: { username: string; password: string }, opts: Parameters<Browser['newContext']>[0] = {}) => signedInPage(browser, base, user, { bypassCSP: true, ...opts }, '/login?lang=en');
  const axe = axeViolations;

  it('a nurse on a phone records a dose and vital signs, and the MAR she then opens carries them', { timeout: 90_000 }, async () => {
    startDowntime(a.db, { kind: 'declared', cause: 'ransomware' }, new Date(Date.now() - 2 * 3_600_000));
    const page = await signedIn(NURSE, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const key = patientKey(patient);
    await page.goto(`${base}/ward/ward-1/patient/${key}?lang=en`);
    await page.click(`a[href="/ward/ward-1/patient/${key}/record"]`);
    await page.waitForURL(/\/record$/);
    expect(await axe(page)).toEqual([]);
    const order = patient.orders.items.find((o) => !o.prn)!;
    await page.selectOption('#a-order', order.id);
    await page.check('input[name=outcome][value=given]');
    await page.click('details[open] button[type=submit]');
    await page.waitForURL(/saved=/);
    await page.click('summary:has-text("Vital signs")');
    await page.fill('#v-t', '38,1'); // a comma, as a Vietnamese keyboard types it
    await page.fill('#v-s', '145');
    await page.fill('#v-d', '90');
    await page.click('details:has(#v-t) button[type=submit]');
    await page.waitForURL(/saved=/);
    // The page refreshes itself until the paper has caught up.
    await page.waitForSelector('text=include everything recorded here', { timeout: 30_000 });
    expect(await page.locator('.record-list tbody tr').count()).toBe(2);
    const pdf = await page.request.get(`${base}/documents/ward-1/mar/${key}.pdf`);
    const text = pdfText(Buffer.from(await pdf.body())).text;
    expect(text).toContain(`${order.drug} — given`);
    expect(text).toContain('T 38.1 °C · BP 145/90 mmHg');
  });

  it('IT ends the downtime and files back from the entries page, to a real FHIR server', { timeout: 60_000 }, async () => {
    endDowntime(a.db, activeDowntime(a.db)!.id, null, 'test', new Date());
    const page = await signedIn(ADMIN, { viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/ward/ward-1?lang=en`);
    await page.click('a[href="/ward/ward-1/entries"]');
    expect(await axe(page)).toEqual([]);
    await page.click('form[action="/ward/ward-1/entries/fileback"] button[type=submit]');
    await page.waitForURL(/filed=2/); // two entries: the dose, and one set of vital signs
    expect(await page.locator('p.ok[role=status]').innerText()).toContain('2 filed');
    const ours = (await his.repo.searchResources({ resourceType: 'Observation', count: 1000 } as never)).filter((o) => (o as { identifier?: { system?: string }[] }).identifier?.[0]?.system === URI_SYSTEM);
    expect(ours).toHaveLength(2); // the temperature, and the blood pressure as one panel
  });
});
