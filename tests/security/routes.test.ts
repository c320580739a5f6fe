import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { ROUTES, SAFE_METHODS } from '../../agent/web/route-rules.js';
import { buildWebServer, registeredRoutes } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { ADMIN, NURSE, addTestUsers, signIn, webClient } from '../support/web.js';

/**
 * The web rules live in one table and two hooks. This proves every route
 * fastify actually registered has its rules, that every state-changing one
 * is refused without the CSRF token and leaves an audit row, and that the
 * JSON API is held to the same rules as the forms.
 */
let his: FhirTestServer;
let a: TestAgent;
let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  his = (await startHis({ patients: 2 })).server;
  a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1') } }));
  await addTestUsers(a.db);
  app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, runNow: (job) => runJob(a, job, { trigger: 'manual' }) });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await his?.close();
});

describe('web rules in one place', () => {
  it('has a rule for every route fastify registered, and no rule for a route that does not exist', () => {
    const routes = registeredRoutes(app).filter((r) => r.method !== 'HEAD');
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(keys.filter((k) => !ROUTES[k])).toEqual([]);
    expect(Object.keys(ROUTES).filter((k) => !keys.includes(k))).toEqual([]);
    // Every state-changing route says what it audits and how a bad token is refused.
    const changing = Object.entries(ROUTES).filter(([k]) => !SAFE_METHODS.has(k.split(' ')[0]!));
    expect(changing.length).toBeGreaterThan(10);
    for (const [k, r] of changing) {
      expect(r.audit, k).toBeTruthy();
      expect(r.refusal, k).toBeTruthy();
    }
  });

  it('refuses every state-changing route without the CSRF token, before it does anything', async () => {
    const admin = await signIn(base, ADMIN);
    const before = a.db.prepare('SELECT COUNT(*) FROM job_runs').pluck().get();
    for (const key of Object.keys(ROUTES).filter((k) => k.startsWith('POST '))) {
      const url = key.slice(5).replace(':job', 'ward-1').replace(':id', 'ward');
      const res = await fetch(`${base}${url}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `pb_session=${admin.cookies.get('pb_session')}` }, body: 'reason=forged&snapshot=1&down=1' });
      expect(res.status, key).toBe(403);
    }
    expect(a.db.prepare('SELECT COUNT(*) FROM job_runs').pluck().get()).toBe(before);
    expect(a.db.prepare('SELECT COUNT(*) FROM declarations').pluck().get()).toBe(0);
  });

  it('binds the CSRF token to the session: a token from before sign-in or from another session is refused', async () => {
    const before = webClient(base);
    await before.fetch('/login');
    const preLogin = before.csrf();
    const res = await before.form('/login', { username: NURSE.username, password: NURSE.password, next: '/' });
    expect(res.status).toBe(303);
    // Rotated at sign-in: the new token is set with the session.
    expect(before.csrf()).not.toBe(preLogin);
    const post = (token: string) => before.fetch('/api/print', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify({ address: 'ward-1/census', printer: 'none' }) });
    expect((await post(preLogin)).status).toBe(403);
    const other = await signIn(base, NURSE);
    expect((await post(other.csrf())).status).toBe(403);
    // Its own token passes the check (and the request then fails on its merits: there is no such printer).
    expect((await post(before.csrf())).status).not.toBe(403);
  });

  it('runs a job from the JSON API only for an admin with the token, and audits it', async () => {
    const nurse = await signIn(base, NURSE);
    const admin = await signIn(base, ADMIN);
    const post = (c: typeof admin, token: string) => c.fetch('/api/jobs/ward-1/run', { method: 'POST', headers: { 'x-csrf-token': token } });
    expect((await post(admin, 'not-the-token')).status).toBe(403);
    expect((await post(nurse, nurse.csrf())).status).toBe(403);
    const ok = await post(admin, admin.csrf());
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { status: string }).status).toBe('succeeded');
    const rows = a.db.prepare("SELECT actor, action, subject, detail FROM audit_log WHERE action = 'job-run'").all() as { actor: string; subject: string; detail: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: ADMIN.username, subject: 'ward-1' });
    expect(JSON.parse(rows[0]!.detail)).toMatchObject({ api: true });
  });
});
