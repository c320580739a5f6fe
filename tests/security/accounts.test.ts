import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../agent/audit/log.js';
import { setBreakGlassCode } from '../../agent/auth/break-glass.js';
import { escapeDnValue } from '../../agent/auth/ldap.js';
import { authenticate } from '../../agent/auth/login.js';
import { setDisabled, setPassword } from '../../agent/auth/users.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { declareDowntime, endDeclaration } from '../../agent/outage/downtime.js';
import { startOutageMonitor, type OutageMonitor } from '../../agent/outage/monitor.js';
import { runJob } from '../../agent/schedule/run.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, runCli, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { ADMIN, NURSE, addTestUsers, signIn, webClient } from '../support/web.js';

let his: FhirTestServer;
let a: TestAgent;
let app: FastifyInstance;
let base: string;
let monitor: OutageMonitor;
let mrn: string;
/** The web server's clock, moved by the tests to age sessions. */
let clock: Date | null = null;

beforeAll(async () => {
  const h = await startHis({ patients: 3, now: new Date() });
  his = h.server;
  mrn = h.hospital.wards[0]!.patients[0]!.mrn!;
  const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1') }, extraSource: 'auth: { maxFailures: 3, lockoutMinutes: 15 }\n' });
  a = openTestAgent(dir);
  await addTestUsers(a.db);
  await setBreakGlassCode(a.db, 'WARD-CODE-7');
  expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
  monitor = startOutageMonitor({ db: a.db, blobs: a.blobs, config: () => a.config, sources: a.sources, log: a.log, runJobs: () => {} });
  app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, outage: monitor, now: () => clock ?? new Date() });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await monitor?.stop();
  await his?.close();
});

const actions = (actor: string) => listAudit(a.db, { actor }).map((r) => r.action);

describe('signing in', () => {
  it('sends a visitor without a session to the login page, and an API client gets 401', async () => {
    const c = webClient(base);
    const page = await c.fetch('/ward/ward-1');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fward%2Fward-1');
    expect((await c.fetch(`/documents/ward-1/mar/${mrn}.pdf`)).status).toBe(303);
    const api = await c.fetch('/api/wards/ward-1/census');
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: 'sign in first', login: '/login' });
    // Health and monitoring stay open: they carry no patient data.
    expect((await c.fetch('/healthz')).status).toBe(200);
    expect((await c.fetch('/metrics')).status).toBe(200);
  });

  it('signs a nurse in with an HttpOnly, SameSite=Strict session cookie and records it', async () => {
    const c = webClient(base);
    await c.fetch('/login');
    const res = await c.form('/login', { username: 'Lan.Nguyen', password: NURSE.password, next: '/ward/ward-1' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ward/ward-1');
    const cookie = res.headers.getSetCookie().find((s) => s.startsWith('pb_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // plain HTTP on purpose in tests; the HTTPS test checks Secure
    const census = await c.fetch('/ward/ward-1');
    expect(census.status).toBe(200);
    expect(await census.text()).toContain(NURSE.username);
    expect(actions(NURSE.username)).toContain('login');
  });

  it('refuses a wrong password, then locks the name out after too many tries, even with the right one', async () => {
    const c = webClient(base);
    await c.fetch('/login');
    for (let i = 0; i < 3; i++) {
      const r = await c.form('/login', { username: ADMIN.username, password: `wrong ${i}` });
      expect(r.status).toBe(401);
      expect(await r.text()).toContain('The user name or password is not right.');
    }
    const locked = await c.form('/login', { username: ADMIN.username, password: ADMIN.password });
    expect(locked.status).toBe(429);
    expect(await locked.text()).toMatch(/Too many tries\. Wait 15 minutes/);
    expect(c.cookies.has('pb_session')).toBe(false);
    const failed = listAudit(a.db, { actor: ADMIN.username }).filter((r) => r.action === 'login-failed');
    expect(failed.length).toBe(4);
    expect(JSON.parse(failed[0]!.detail!)).toMatchObject({ why: 'credentials', ip: '127.0.0.1' });
    // An unknown user name gets the same answer as a wrong password.
    const other = webClient(base);
    await other.fetch('/login');
    const unknown = await other.form('/login', { username: 'nobody', password: 'whatever it is' });
    expect(unknown.status).toBe(401);
    // The way back without waiting: IT unlocks the name from the command line, audited.
    const unlock = await runCli(['--config', a.config.dir, 'user', 'unlock', ADMIN.username]);
    expect(unlock.code, unlock.stderr).toBe(0);
    const back = await c.form('/login', { username: ADMIN.username, password: ADMIN.password });
    expect(back.status).toBe(303);
    expect(c.cookies.has('pb_session')).toBe(true);
    expect(listAudit(a.db, {}).some((r) => r.action === 'user-unlocked' && r.subject === ADMIN.username)).toBe(true);
  });

  it('keeps nurses out of the IT page and lets admins in', async () => {
    const nurse = await signIn(base, NURSE);
    const refused = await nurse.fetch('/admin');
    expect(refused.status).toBe(403);
    expect((await nurse.fetch('/audit.csv')).status).toBe(403);
    expect((await nurse.form('/admin/downtime/start', { reason: 'trying' })).status).toBe(403);
    expect(await nurse.fetch('/ward/ward-1').then((r) => r.text())).not.toContain('href="/admin"');
  });

  it('never follows a login redirect off the box', async () => {
    const c = webClient(base);
    await c.fetch('/login');
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const r = await c.form('/login', { username: NURSE.username, password: NURSE.password, next });
      expect(r.headers.get('location')).toBe('/');
    }
  });

  it('ends a session on sign-out, after idle time, at its hard limit, and when the password changes or the user is disabled', async () => {
    const c = await signIn(base, NURSE);
    const old = c.cookies.get('pb_session')!;
    expect((await c.form('/logout', {})).status).toBe(303);
    const replay = webClient(base);
    replay.cookies.set('pb_session', old);
    expect((await replay.fetch('/ward/ward-1')).status).toBe(303);

    // Idle: 31 minutes without a request (the default timeout is 30).
    const idle = await signIn(base, NURSE);
    clock = new Date(Date.now() + 31 * 60_000);
    try {
      const r = await idle.fetch('/ward/ward-1');
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toMatch(/expired=1/);
      expect(actions(NURSE.username)).toContain('session-expired');
    } finally {
      clock = null;
    }

    // Hard limit: in use every 25 minutes, so never idle, but over 12 hours old.
    const start = Date.now();
    const shift = await signIn(base, NURSE);
    try {
      let t = 25;
      for (; t < 12 * 60; t += 25) {
        clock = new Date(start + t * 60_000);
        expect((await shift.fetch('/ward/ward-1')).status).toBe(200);
      }
      clock = new Date(start + (12 * 60 + 1) * 60_000);
      expect((await shift.fetch('/ward/ward-1')).status).toBe(303);
      expect(JSON.parse(listAudit(a.db, { actor: NURSE.username, limit: 1 })[0]!.detail!)).toEqual({ ip: '127.0.0.1', reason: 'expired' });
    } finally {
      clock = null;
    }

    const changed = await signIn(base, NURSE);
    await setPassword(a.db, NURSE.username, NURSE.password);
    expect((await changed.fetch('/ward/ward-1')).status).toBe(303);

    const disabled = await signIn(base, NURSE);
    setDisabled(a.db, NURSE.username, true);
    try {
      expect((await disabled.fetch('/ward/ward-1')).status).toBe(303);
      await expect(signIn(base, NURSE)).rejects.toThrow(/401/);
    } finally {
      setDisabled(a.db, NURSE.username, false);
    }
  });

  it('ignores forged and malformed session cookies', async () => {
    for (const token of ['x', 'A'.repeat(43), '../../etc/passwd', "' OR 1=1 --"]) {
      const c = webClient(base);
      c.cookies.set('pb_session', encodeURIComponent(token));
      expect((await c.fetch('/ward/ward-1')).status).toBe(303);
    }
  });

  it('records views and prints by address, and a search without what was searched for', async () => {
    const c = await signIn(base, NURSE);
    await c.fetch('/ward/ward-1?q=hoang%20van');
    await c.fetch(`/ward/ward-1/patient/${mrn}`);
    await c.fetch(`/documents/ward-1/mar/${mrn}.pdf?download=1`);
    const rows = listAudit(a.db, { actor: NURSE.username, limit: 3 });
    expect(rows.map((r) => [r.action, r.subject])).toEqual([
      ['view', 'ward-1/census'],
      ['view', `ward-1/patient/${mrn}`],
      ['download', `ward-1/mar/${mrn}`],
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/hoang/i);
  });
});

describe('break-glass during a downtime', () => {
  it('is refused while the HIS is up, and lets a named nurse in, flagged, while a downtime is declared', async () => {
    const c = webClient(base);
    expect(await c.fetch('/login').then((r) => r.text())).not.toContain('/break-glass');
    const early = await c.form('/break-glass', { name: 'Phạm Thu Hà', code: 'WARD-CODE-7' });
    expect(early.status).toBe(403);
    declareDowntime(a.db, 'it.admin', 'test downtime', new Date());
    await monitor.tick();
    try {
      expect(await c.fetch('/login').then((r) => r.text())).toContain('action="/break-glass"');
      expect((await c.form('/break-glass', { name: 'Phạm Thu Hà', code: 'wrong-code' })).status).toBe(401);
      expect((await c.form('/break-glass', { name: 'x', code: 'WARD-CODE-7' })).status).toBe(400);
      const ok = await c.form('/break-glass', { name: '  Phạm   Thu Hà<script> ', code: 'WARD-CODE-7' });
      expect(ok.status).toBe(303);
      const page = await c.fetch('/ward/ward-1');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Emergency access: everything you open and print is recorded under your name.');
      expect((await c.fetch('/admin')).status).toBe(403);
      expect(actions('break-glass:Phạm Thu Hà')).toEqual(['login-failed']);
      // Markup typed into the name is dropped before it reaches the audit log or a page.
      expect(actions('break-glass:Phạm Thu Hàscript')).toEqual(['break-glass', 'view', 'view']);
      // The downtime ends: so does the emergency session, at its next request.
      endDeclaration(a.db, 'it.admin', new Date());
      for (let i = 0; i < 5 && monitor.downtimeActive(); i++) await monitor.tick();
      expect(monitor.downtimeActive()).toBe(false);
      const after = await c.fetch('/ward/ward-1');
      expect(after.status).toBe(303);
      expect(after.headers.get('location')).toMatch(/^\/login/);
      expect(actions('break-glass:Phạm Thu Hàscript')).toEqual(['break-glass', 'view', 'view', 'session-expired']);
    } finally {
      endDeclaration(a.db, 'it.admin', new Date());
      await monitor.tick();
    }
  });
});

describe('break-glass ward code', () => {
  it('counts wrong codes box-wide, so many addresses cannot share the guessing', async () => {
    declareDowntime(a.db, 'it.admin', 'test downtime', new Date());
    await monitor.tick();
    try {
      const page = await app.inject({ url: '/login' });
      const csrf = page.cookies.find((c) => c.name === 'pb_csrf')!.value;
      const attempt = (i: number, code: string) =>
        app.inject({ method: 'POST', url: '/break-glass', remoteAddress: `10.9.${Math.floor(i / 250)}.${i % 250}`, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `pb_csrf=${csrf}` }, payload: new URLSearchParams({ _csrf: csrf, name: 'Guesser', code }).toString() });
      // One wrong guess from each address: each is far below its own limit, yet the box stops them by 30.
      let refusedAt = -1;
      for (let i = 0; i < 40 && refusedAt < 0; i++) {
        const r = await attempt(i, `guess-${i}`);
        if (r.statusCode === 429) refusedAt = i;
        else expect(r.statusCode, `guess ${i}`).toBe(401);
      }
      expect(refusedAt).toBeGreaterThan(0);
      expect(refusedAt).toBeLessThanOrEqual(30);
      // Locked box-wide: even the right code from yet another address waits out the lockout.
      expect((await attempt(99, 'WARD-CODE-7')).statusCode).toBe(429);
    } finally {
      endDeclaration(a.db, 'it.admin', new Date());
      await monitor.tick();
    }
  });
});

describe('directory login', () => {
  it('falls back to local accounts when the directory does not answer', async () => {
    // A port nobody listens on: a real refused connection.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const config = { ...a.config, box: { ...a.config.box, auth: { ...a.config.box.auth, ldap: { url: `ldap://127.0.0.1:${port}`, userDn: 'uid={user},ou=people,dc=hospital,dc=vn', timeoutMs: 500 } } } };
    const ok = await authenticate({ config, db: a.db, log: a.log }, NURSE.username, NURSE.password);
    expect(ok).toMatchObject({ ok: true, auth: 'local', role: 'nurse', note: 'directory unreachable' });
    const bad = await authenticate({ config, db: a.db, log: a.log }, NURSE.username, 'wrong password');
    expect(bad).toEqual({ ok: false, why: 'credentials' });
    expect(a.lines.some((l) => l.includes('directory unreachable; using local accounts'))).toBe(true);
  });

  it('escapes a user name so it cannot change the DN', () => {
    expect(escapeDnValue('lan,ou=admins')).toBe('lan\\,ou\\=admins');
    expect(escapeDnValue(' #x ')).toBe('\\ \\#x\\ ');
  });
});
