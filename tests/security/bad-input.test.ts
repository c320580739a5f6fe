import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { REPO, jobYaml, openTestAgent, runCli, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { ADMIN, NURSE, addTestUsers, signIn, type WebClient } from '../support/web.js';
import { openHostileBox, type HostileBox } from '../support/hostile-box.js';

const HOSTILE_NAME = '<script>alert("x")</script> Lê <b>Văn</b> Tám';

let his: FhirTestServer;
let a: TestAgent;
let app: FastifyInstance;
let base: string;
let nurse: WebClient;
let admin: WebClient;
let mrn: string;
let box: HostileBox;

beforeAll(async () => {
  // The HIS sends markup in a name: it must arrive on paper and on screen as text.
  box = await openHostileBox(HOSTILE_NAME);
  ({ his, a, app, base, nurse, admin, mrn } = box);
}, 60_000);

afterAll(async () => {
  await box?.close();
});

/** A request with the path exactly as written: fetch would normalise "../" away before sending. */
function rawGet(pathAsWritten: string, cookie: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: pathAsWritten, method: 'GET', headers: { cookie } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const cookieOf = (c: WebClient) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

describe('bad input', () => {
  it('path traversal and unknown ids on every download route get a plain 404 and nothing else', async () => {
    const cookie = cookieOf(nurse);
    const attempts = [
      '/documents/ward-1/../../paperback.sqlite',
      '/documents/ward-1/..%2f..%2fpaperback.sqlite',
      '/documents/ward-1/%2e%2e/%2e%2e/etc/passwd',
      '/documents/ward-1/..\\..\\paperback.sqlite',
      '/documents/ward-1/census.pdf%00.txt',
      '/documents/ward-1//etc/passwd',
      '/documents/no-such-job/census.pdf',
      '/documents/ward-1/mar/NOT-A-PATIENT.pdf',
      '/documents/ward-1/data/ward.pdf',
      `/documents/ward-1/mar/${'A'.repeat(500)}.pdf`,
      '/downtimes/abc/summary.pdf',
      '/downtimes/999999/summary.pdf',
      '/downtimes/-1/summary.pdf',
      '/print-jobs/abc',
      '/print-jobs/99999999',
      '/ward/ward-1/patient/..%2f..%2fetc',
      '/ward/no-such-ward',
      '/print?doc=../../paperback.sqlite',
      '/api/wards/ward-1/patients/%00',
    ];
    for (const p of attempts) {
      const r = await rawGet(p, cookie);
      expect([400, 404], `${p} -> ${r.status}`).toContain(r.status);
      expect(r.body, p).not.toMatch(/SQLite format|root:x:|%PDF|at \/|Error:/);
    }
    // The normalized ward data is never served as a document.
    expect((await nurse.fetch('/documents/ward-1/data/ward')).status).toBe(404);
  });

  it('oversized and malformed requests get a clear refusal', async () => {
    const big = await nurse.fetch('/print', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `address=${'x'.repeat(100_000)}` });
    expect(big.status).toBe(413);
    const bigJson = await nurse.fetch('/api/print', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': nurse.csrf() }, body: JSON.stringify({ address: 'x'.repeat(200_000) }) });
    expect(bigJson.status).toBe(413);
    const broken = await nurse.fetch('/api/print', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': nurse.csrf() }, body: '{"address": "ward-1/census", ' });
    expect(broken.status).toBe(400);
    const wrongShape = await nurse.fetch('/api/print', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': nurse.csrf() }, body: JSON.stringify({ address: 'ward-1/census', printer: 'ward', copies: 5000 }) });
    expect(wrongShape.status).toBe(400);
    expect(((await wrongShape.json()) as { error: string }).error).toMatch(/copies/);
    const longLogin = await nurse.fetch('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=${'a'.repeat(20_000)}` });
    expect(longLogin.status).toBe(413);
  });

  it('shows markup in a patient name as text on the page and on paper', async () => {
    const page = await (await nurse.fetch('/ward/ward-1')).text();
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Lê &lt;b&gt;Văn&lt;/b&gt; Tám');
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<b>Văn');
    const patient = await (await nurse.fetch(`/ward/ward-1/patient/${mrn}`)).text();
    expect(patient).not.toContain('<script>');
    const cur = currentSnapshot(a.db, 'ward-1')!;
    const pdf = path.join(tmpDir(), 'census.pdf');
    fs.writeFileSync(pdf, a.blobs.get(getArtifact(a.db, cur.id, 'census')!.sha256));
    const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
    // The cell wraps the long name over lines; every character of it is printed as written.
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('<script>alert("x")</');
    expect(flat).toContain('script> Lê <b>Văn</');
  });

  it('treats SQL and pattern characters in a search as text', async () => {
    for (const q of ["'; DROP TABLE snapshots; --", '%', '_', '" OR ""="', '\\', "' OR 1=1 --"]) {
      const r = await nurse.fetch(`/ward/ward-1?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(200);
      const json = (await (await nurse.fetch(`/api/wards/ward-1/census?q=${encodeURIComponent(q)}`)).json()) as { patients: unknown[] };
      expect(json.patients, q).toEqual([]);
    }
    expect(a.db.prepare('SELECT COUNT(*) FROM snapshots').pluck().get()).toBeGreaterThan(0);
  });

  it('refuses every state-changing request without the CSRF token, or with another session’s', async () => {
    const noToken = (c: WebClient, p: string, body: string) =>
      fetch(`${base}${p}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `pb_session=${c.cookies.get('pb_session')}` }, body });
    expect((await noToken(nurse, '/print', 'address=ward-1/census&printer=ward')).status).toBe(403);
    expect((await noToken(admin, '/admin/downtime/start', 'reason=forged+request')).status).toBe(403);
    expect((await noToken(admin, '/admin/jobs/ward-1/run', '')).status).toBe(403);
    expect((await noToken(nurse, '/logout', '')).status).toBe(403);
    expect((await noToken(nurse, '/login', `username=${NURSE.username}&password=x`)).status).toBe(403);
    const api = await fetch(`${base}/api/print`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: `pb_session=${nurse.cookies.get('pb_session')}` }, body: JSON.stringify({ address: 'ward-1/census', printer: 'ward' }) });
    expect(api.status).toBe(403);
    // A token lifted from another user's page does not match this browser's cookie.
    const crossed = await fetch(`${base}/print`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `pb_session=${nurse.cookies.get('pb_session')}; pb_csrf=${nurse.csrf()}` },
      body: `address=ward-1/census&printer=ward&_csrf=${admin.csrf()}`,
    });
    expect(crossed.status).toBe(403);
    expect(a.db.prepare('SELECT COUNT(*) FROM print_jobs').pluck().get()).toBe(0);
    expect(a.db.prepare('SELECT COUNT(*) FROM declarations').pluck().get()).toBe(0);
  });
});

describe('transport and service', () => {
  it('serves HTTPS with the configured certificate, HSTS and Secure cookies', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'tls.key'), '-out', path.join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const yaml = path.join(dir, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('web: { insecureHttp: true }', 'web: { tls: { certFile: tls.crt, keyFile: tls.key } }'));
    const t = openTestAgent(dir);
    const tlsApp = await buildWebServer({ config: () => t.config, db: t.db, blobs: t.blobs, log: t.log });
    const url = new URL(await tlsApp.listen({ host: '127.0.0.1', port: 0 }));
    try {
      expect(url.protocol).toBe('https:');
      const ca = fs.readFileSync(path.join(dir, 'tls.crt'));
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => https.get({ host: '127.0.0.1', port: url.port, path: '/login', ca, servername: 'localhost' }, resolve).on('error', reject));
      res.resume();
      expect(res.statusCode).toBe(200);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(String(res.headers['set-cookie'])).toMatch(/pb_csrf=.*Secure/);
      // Without the hospital's CA the certificate is refused, as it must be.
      await expect(new Promise((resolve, reject) => https.get({ host: '127.0.0.1', port: url.port, path: '/healthz' }, resolve).on('error', reject))).rejects.toThrow(/self-signed|certificate/);
    } finally {
      await tlsApp.close();
      t.db.close();
    }
  });

  it('will not serve plain HTTP unless told to, and says how to fix it', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const yaml = path.join(dir, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('web: { insecureHttp: true }\n', ''));
    const r = await runCli(['--config', dir, 'serve', '--port', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/paperback\.yaml: web\.tls: .*insecureHttp: true/);
  });

  it('the systemd unit scores an exposure of 2.0 or lower', () => {
    const unit = path.join(REPO, 'systemd/paperback.service');
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    expect(r.error, 'systemd-analyze is required (Debian package systemd)').toBeUndefined();
    const m = /Overall exposure level for paperback\.service: (\d+\.\d+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.0);
  });
});
