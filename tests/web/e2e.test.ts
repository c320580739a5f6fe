import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { startOutageMonitor, type OutageMonitor } from '../../agent/outage/monitor.js';
import { printerStatusCache } from '../../agent/print/status-cache.js';
import { startPrintWorker, type PrintWorker } from '../../agent/print/worker.js';
import { startScheduler, type Scheduler } from '../../agent/schedule/scheduler.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, runByHandOnly, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { HAVE_IPPEVEPRINTER, REQUIRE_PEERS, startIppPrinter, type IppPrinterHandle } from '../support/printers.js';
import { ADMIN, NURSE, addTestUsers } from '../support/web.js';
import { axeViolations, HAVE_CHROMIUM, launchChromium, signedInPage } from '../support/browser.js';
import { setBreakGlassCode } from '../../agent/auth/break-glass.js';
import { listAudit } from '../../agent/audit/log.js';

if (REQUIRE_PEERS && !(HAVE_CHROMIUM && HAVE_IPPEVEPRINTER)) throw new Error('chromium and ippeveprinter are required in CI');

let his: FhirTestServer;
let printer: IppPrinterHandle;
let a: TestAgent;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let worker: PrintWorker;
let monitor: OutageMonitor;
let scheduler: Scheduler;
let hong: { mrn: string; name: string };

describe.skipIf(!HAVE_CHROMIUM || !HAVE_IPPEVEPRINTER)('the ward page in a real browser', () => {
  beforeAll(async () => {
    const h = await startHis({ patients: 12, now: new Date() });
    his = h.server;
    // Make sure one patient has the name the nurse will look for, with all its diacritics.
    const p = h.hospital.wards[0]!.patients[4]!;
    const fhirPatient = await his.repo.readResource('Patient', p.id);
    await his.repo.updateResource({ ...fhirPatient, name: [{ use: 'official', text: 'Nguyễn Thị Hồng', family: 'Nguyễn', given: ['Thị', 'Hồng'] }] });
    hong = { mrn: p.mrn!, name: 'Nguyễn Thị Hồng' };
    printer = await startIppPrinter({ command: '/bin/true' });
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: his.url,
      jobs: { 'ward-1': runByHandOnly(jobYaml('ward-1', 'downtime: { print: [census], printer: ward }\n').replace('documents: [census, mar]', 'documents: [census, mar, summary, allergies]')) },
      printers: { ward: `id: ward\nname: Ward 1 printer\nlocation: Nurses' station\nuri: ${printer.uri}\n` },
      extraSource: 'outage:\n  probeIntervalSeconds: 1\n  failuresToOffline: 2\n  confirmSeconds: 1\n  successesToOnline: 2\n  recoverSeconds: 1\n  probeTimeoutMs: 500\n',
    });
    fs.writeFileSync(path.join(dir, 'paperback.yaml'), fs.readFileSync(path.join(dir, 'paperback.yaml'), 'utf8').replace('language: en', 'language: vi'));
    a = openTestAgent(dir);
    const printers = printerStatusCache(() => a.config.printers, dir);
    worker = startPrintWorker({ db: a.db, blobs: a.blobs, printers: () => a.config.printers, configDir: dir, log: a.log, pollMs: 200 });
    scheduler = startScheduler({ ...a, config: a.config });
    expect((await scheduler.runNow('ward-1')).status).toBe('succeeded');
    monitor = startOutageMonitor({ db: a.db, blobs: a.blobs, config: () => a.config, sources: a.sources, log: a.log, printers, runJobs: () => {}, kickPrinter: () => worker.kick() });
    await monitor.tick();
    await addTestUsers(a.db);
    await setBreakGlassCode(a.db, 'WARD1-CODE');
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, runNow: (id) => scheduler.runNow(id), outage: monitor, printers, kickPrinter: () => worker.kick() });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await monitor?.stop();
    await scheduler?.stop();
    await worker?.stop();
    await printer?.stop();
    await his?.close();
  });

  const signedIn = (user: { username: string; password: string }, opts: Parameters<Browser['newContext']>[0] = {}) => signedInPage(browser, base, user, opts);

  const axe = axeViolations;

  it('a nurse finds a patient by a name typed without accents, opens the MAR and prints it to the printer', async () => {
    // axe is injected as a script, which our Content-Security-Policy rightly forbids: bypass it for the audit only.
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true })).newPage();
    // Not signed in: the ward page sends the nurse to the login page, which must itself be accessible.
    await page.goto(`${base}/`);
    await page.waitForURL(/\/login\?next=/);
    expect(await axe(page)).toEqual([]);
    await page.fill('#username', NURSE.username);
    await page.fill('#password', 'not the password');
    await page.click('form[action="/login"] button[type=submit]');
    expect(await page.locator('.login .error').innerText()).toBe('Tên đăng nhập hoặc mật khẩu không đúng.');
    await page.fill('#username', NURSE.username);
    await page.fill('#password', NURSE.password);
    await page.click('form[action="/login"] button[type=submit]');
    await page.waitForURL(/\/ward\/ward-1/);
    // A nurse does not get the IT page in her menu.
    expect(await page.locator('nav a[href="/admin"]').count()).toBe(0);
    expect(await page.locator('.signout .who').innerText()).toBe(NURSE.username);
    expect(await page.locator('#pb-banner').innerText()).toContain('HIS đang hoạt động');
    expect(await page.locator('.freshness').innerText()).toMatch(/Dữ liệu tính đến .* — cũ/);
    expect(await axe(page)).toEqual([]);
    await page.fill('#q', 'nguyen hong');
    await page.press('#q', 'Enter');
    const link = page.getByRole('link', { name: 'Nguyễn Thị Hồng' });
    await expect(link.count()).resolves.toBe(1);
    await link.click();
    await page.waitForURL(/\/patient\//);
    // Allergies and code status come first on the patient page, right under the name.
    expect(await page.locator('main h1 + p').getAttribute('class')).toBe('safety');
    expect(await page.locator('main .safety').innerText()).toMatch(/DỊ ỨNG|Không dị ứng|NKA|⚠/);
    expect(await page.locator('main .safety').innerText()).toMatch(/Hồi sức: /);
    const firstNotice = await page.locator('main .notice').first().innerText();
    expect(firstNotice).toMatch(/DỊ ỨNG/);
    expect(await page.locator('main').innerText()).toContain(`Mã BN ${hong.mrn}`);
    expect(await axe(page)).toEqual([]);
    // Print the MAR.
    const marRow = page.locator('.doc-actions', { hasText: 'Phiếu theo dõi dùng thuốc' });
    await marRow.getByRole('link', { name: 'In', exact: true }).click();
    await page.waitForURL(/\/print\?doc=/);
    expect(await page.locator('input[name=printer]:checked').getAttribute('value')).toBe('ward');
    expect(await axe(page)).toEqual([]);
    await page.click('button.primary');
    await page.waitForURL(/\/print-jobs\/\d+/);
    // The page refreshes itself until the printer has answered.
    await page.locator('.job-completed').waitFor({ timeout: 30_000 });
    expect(await page.locator('.job-state').innerText()).toContain('Đã in xong');
    const [file] = printer.received();
    const cur = currentSnapshot(a.db, 'ward-1')!;
    expect(fs.readFileSync(file!)).toEqual(a.blobs.get(getArtifact(a.db, cur.id, `mar/${hong.mrn}`)!.sha256));
    // The job and the list of jobs name the document, the bed and the patient, not an address.
    expect(await page.locator('main .ids').innerText()).toMatch(/Phiếu theo dõi dùng thuốc — Giường \S+ · Nguyễn Thị Hồng → Ward 1 printer/);
    await page.goto(`${base}/print-jobs`);
    const listed = await page.locator('main .list').innerText();
    expect(listed).toMatch(/Phiếu theo dõi dùng thuốc — Giường \S+ · Nguyễn Thị Hồng → Ward 1 printer: Đã in xong/);
    expect(listed).not.toContain(`ward-1/mar/`);
    await page.close();
  });

  it('looks right on a phone, in Vietnamese', async () => {
    const page = await signedIn(NURSE, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, bypassCSP: true });
    await page.goto(`${base}/ward/ward-1`);
    expect(await axe(page)).toEqual([]);
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Patients on the first screen, each a card whose code status is on screen, not cut off to the right.
    const firstCard = (await page.locator('.census tbody tr').first().boundingBox())!;
    expect(firstCard.y).toBeLessThan(844 - 100);
    expect(await page.locator('.census td.code').count()).toBeGreaterThan(0);
    for (const cell of await page.locator('.census td.code').all()) {
      const box = (await cell.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(await cell.innerText()).toMatch(/\S/);
      expect(await cell.getAttribute('data-label')).toBe('Hồi sức');
    }
    // The ward's PDFs and forms follow the list on a phone.
    expect((await page.locator('.census-page .docs').boundingBox())!.y).toBeGreaterThan(firstCard.y);
    await page.goto(`${base}/ward/ward-1/patient/${hong.mrn}`);
    const buttons = await page.locator('.doc-actions .button').all();
    for (const b of buttons) expect((await b.boundingBox())!.height).toBeGreaterThanOrEqual(44); // touch targets
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await axe(page)).toEqual([]);
    // Every nurse task fits the phone: printing, the forms library, labels.
    for (const url of [`/print?doc=${encodeURIComponent(`ward-1/mar/${hong.mrn}`)}`, '/ward/ward-1/forms', '/print-jobs']) {
      await page.goto(`${base}${url}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), url).toBeLessThanOrEqual(390);
      expect(await axe(page), url).toEqual([]);
    }
    await page.close();
  });

  it('switches language and keeps the choice', async () => {
    const page = await signedIn(ADMIN);
    await page.goto(`${base}/ward/ward-1`);
    await page.click('a.lang');
    expect(await page.locator('label[for=q]').innerText()).toBe('Find a patient by bed, name or MRN');
    await page.goto(`${base}/admin`);
    expect(await page.locator('h1').innerText()).toBe('IT: jobs, printers, downtime');
    const readiness = () => page.locator('section[aria-labelledby=readiness-h] ul').innerText();
    expect(await readiness()).toMatch(/snapshot:ward-1: data \d+ min old \(limit \d+ min\)/);
    expect(await readiness()).toMatch(/disk: \d+ MB free \(floor \d+ MB\)/);
    // The readiness lines are in the page's language too, not only the headings.
    await page.goto(`${base}/admin?lang=vi`);
    expect(await readiness()).toMatch(/snapshot:ward-1: dữ liệu đã \d+ phút \(giới hạn \d+ phút\)/);
    expect(await readiness()).toMatch(/disk: còn trống \d+ MB \(tối thiểu \d+ MB\)/);
    expect(await readiness()).not.toMatch(/min old|MB free|against the HIS|not checked yet/);
    await page.close();
  });

  it('IT runs a job now and sees the new snapshot', async () => {
    const before = currentSnapshot(a.db, 'ward-1')!.id;
    const page = await signedIn(ADMIN);
    await page.goto(`${base}/admin?lang=en`);
    const jobs = page.locator('section[aria-labelledby=jobs-h]');
    await jobs.locator('tr', { hasText: 'ward-1' }).getByRole('button', { name: 'Run now' }).click();
    // The page comes back at once, showing the run in progress, and refreshes itself until it is done.
    await page.waitForURL(/\/admin\?run=ward-1&at=\d+$/);
    const row = () => page.locator('section[aria-labelledby=jobs-h] tr', { hasText: 'ward-1' }).innerText();
    const first = await row();
    if (currentSnapshot(a.db, 'ward-1')!.id === before) expect(first).toContain('Running…');
    const until = Date.now() + 40_000;
    while (currentSnapshot(a.db, 'ward-1')!.id === before && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const after = currentSnapshot(a.db, 'ward-1')!.id;
    expect(after).toBeGreaterThan(before);
    await page.waitForFunction((id) => document.querySelector('section[aria-labelledby=jobs-h]')?.textContent?.includes(`#${id}`), after, { timeout: 15_000 });
    expect(await row()).toContain(`#${after}`);
    // Where the run spent its time, for IT sizing schedules and boxes.
    expect(await row()).toMatch(/pull \d+\.\d s · render \d+\.\d s · store \d+\.\d s · \d+ of \d+ documents drawn/);
    // The run is in the audit log, shown on the same page.
    expect(await page.locator('section[aria-labelledby=audit-h]').innerText()).toMatch(/it\.admin\s+job-run\s+ward-1/);
    await page.close();
  });

  it('shows the downtime banner when the HIS stops answering, on a page left open too', async () => {
    // A page opened while the HIS is up, then left alone on the nurses' station PC.
    const open = await signedIn(NURSE);
    await open.goto(`${base}/ward/ward-1?lang=vi`);
    expect(await open.locator('#pb-banner').getAttribute('class')).toContain('banner-online');
    await open.evaluate(() => ((window as unknown as { leftOpen: boolean }).leftOpen = true));
    await his.down();
    try {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 600));
        await monitor.tick();
      }
      // Within 15 s and without a reload (the page's own state survives), it says DOWNTIME, never "HIS online".
      await open.waitForFunction(() => document.getElementById('pb-banner')?.className.includes('banner-down'), null, { timeout: 15_000 });
      expect(await open.evaluate(() => (window as unknown as { leftOpen?: boolean }).leftOpen)).toBe(true);
      expect(await open.locator('#pb-banner').innerText()).toMatch(/HIS NGỪNG HOẠT ĐỘNG từ \d\d\/\d\d\/\d{4} \d\d:\d\d/);
      expect(await open.locator('#pb-freshness').innerText()).toMatch(/\d\d\/\d\d\/\d{4}/);
      await open.close();
      const page = await signedIn(NURSE);
      await page.goto(`${base}/ward/ward-1?lang=vi`);
      const banner = page.locator('#pb-banner');
      expect(await banner.getAttribute('class')).toContain('banner-down');
      expect(await banner.innerText()).toMatch(/HIS NGỪNG HOẠT ĐỘNG từ \d\d\/\d\d\/\d{4} \d\d:\d\d/);
      expect(await banner.getAttribute('role')).toBe('alert');
      // The page still serves the last good snapshot.
      expect(await page.getByRole('link', { name: 'Nguyễn Thị Hồng' }).count()).toBe(1);
      await page.close();

      // The directory may be down too: a nurse without an account gets in with the ward code, flagged.
      const bg = await (await browser.newContext()).newPage();
      await bg.goto(`${base}/login?lang=vi`);
      expect(await bg.locator('.break-glass h2').innerText()).toBe('Truy cập khẩn cấp khi hệ thống ngừng');
      await bg.fill('#bg-name', 'Trần Thị Mai');
      await bg.fill('#bg-code', 'WARD1-CODE');
      await bg.click('.break-glass button[type=submit]');
      await bg.waitForURL(/\/ward\/ward-1/);
      expect(await bg.locator('.banner').first().innerText()).toContain('Truy cập khẩn cấp');
      expect(await bg.getByRole('link', { name: 'Nguyễn Thị Hồng' }).count()).toBe(1);
      await bg.close();
      const rows = listAudit(a.db, { actor: 'break-glass:Trần Thị Mai' });
      expect(rows.map((r) => r.action)).toEqual(['break-glass', 'view']);
    } finally {
      await his.up();
    }
  });

  it('the login page switches language and the choice carries through sign-in; an admin lands on the IT page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/login`);
    expect(await page.locator('h1').innerText()).toBe('Đăng nhập');
    await page.click('a.lang');
    expect(await page.locator('h1').innerText()).toBe('Sign in');
    await page.fill('#username', ADMIN.username);
    await page.fill('#password', ADMIN.password);
    await page.click('form[action="/login"] button[type=submit]');
    await page.waitForURL(/\/admin$/);
    expect(await page.locator('h1').innerText()).toBe('IT: jobs, printers, downtime');
    // The audit table says what its columns are; every downtime is listed, with its summary once written.
    expect(await page.locator('section[aria-labelledby=audit-h] thead').innerText()).toMatch(/Time\s+Who\s+What\s+Which document or page/);
    expect(await page.locator('#downtimes-h').innerText()).toBe('Downtimes and their summaries');
    await page.close();
  });

  it('a nurse who opens an IT page gets a page in her language with the way back, not a bare refusal', async () => {
    const page = await signedIn(NURSE, { bypassCSP: true });
    const res = await page.goto(`${base}/admin`);
    expect(res!.status()).toBe(403);
    expect(await page.locator('h1').innerText()).toBe('Trang này dành cho bộ phận CNTT');
    await page.click('main a.button');
    await page.waitForURL((u) => u.pathname === '/' || u.pathname.startsWith('/ward/'));
    expect(await axe(page)).toEqual([]);
    await page.close();
  });

  it('refuses a print without the form token', async () => {
    const page = await signedIn(NURSE);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'pb_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    const res = await fetch(`${base}/print`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `pb_session=${session.value}` }, body: `address=ward-1/census&printer=ward&copies=1` });
    expect(res.status).toBe(403);
    await page.close();
  });
});
