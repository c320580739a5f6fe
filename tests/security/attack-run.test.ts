import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../agent/web/route-rules.js';
import { openHostileBox, type HostileBox } from '../support/hostile-box.js';
import type { WebClient } from '../support/web.js';

/**
 * The attack run, re-runnable: every route, CSRF variants, path traversal,
 * markup injection and oversized input against a real web server on a real
 * store, counted per kind and printed as a table; "broken" must be 0.
 * With the full disk (full-disk.test.ts) and audit tampering
 * (audit-tamper.test.ts) it is the whole run:
 *   npx vitest run tests/security/attack-run.test.ts tests/security/full-disk.test.ts tests/security/audit-tamper.test.ts
 */
const XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'-alert(1)-'", '<svg/onload=alert(1)>', 'javascript:alert(1)'];
const TRAVERSAL = [
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%2e%2e/%2e%2e/etc/passwd',
  '%252e%252e%252fetc%252fpasswd',
  '..\\..\\..\\windows\\win.ini',
  '/etc/passwd',
  '....//....//etc/passwd',
  '..%c0%af..%c0%afetc/passwd',
  'census%00.pdf',
  '../paperback.key',
  '../../paperback.sqlite',
  '..;/..;/etc/passwd',
];

let base: string;
let nurse: WebClient;
let admin: WebClient;
let secrets: string[];
let box: HostileBox;

beforeAll(async () => {
  box = await openHostileBox(XSS[1]!);
  ({ base, nurse, admin } = box);
  // What must never come back: the key, the system's password file, a sealed file's raw bytes.
  secrets = [fs.readFileSync(path.join(box.dir, 'paperback.key'), 'utf8').trim(), 'root:x:0:0', 'PBX1'];
}, 60_000);

afterAll(async () => {
  await box?.close();
});

/** A request sent exactly as written (fetch would normalise the path). */
function raw(o: { method?: string; path: string; cookie?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(base);
  return new Promise((resolve) => {
    // A fresh connection each time (agent: false): after a refused request the server may close the old one.
    const req = http.request({ agent: false, host: u.hostname, port: u.port, path: o.path, method: o.method ?? 'GET', headers: { ...(o.cookie ? { cookie: o.cookie } : {}), ...o.headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', (err) => resolve({ status: 0, body: String((err as NodeJS.ErrnoException).code ?? err.message), headers: {} }));
    if (o.body) req.write(o.body);
    req.end();
  });
}

const cookieOf = (c: WebClient) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const fill = (url: string) => url.replace(':job', 'ward-1').replace(':key', 'x').replace(':id', '1').replace('*', 'census.pdf');

describe('the attack run', () => {
  it('breaks nothing: routes, CSRF, traversal, markup, oversized input', { timeout: 120_000 }, async () => {
    const table: { kind: string; attempts: number; broken: string[] }[] = [];
    const kind = (name: string) => {
      const row = { kind: name, attempts: 0, broken: [] as string[] };
      table.push(row);
      return (ok: boolean, what: string) => {
        row.attempts++;
        if (!ok) row.broken.push(what);
      };
    };

    // Every route: nothing but public ones without a session; admin ones refused to a nurse.
    const routes = kind('routes (anonymous, nurse on admin)');
    for (const [key, rule] of Object.entries(ROUTES)) {
      const [method, url] = key.split(' ') as [string, string];
      const anon = await raw({ method, path: fill(url), headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, body: method === 'POST' ? 'x=1' : undefined });
      routes(rule.access === 'public' || [401, 303, 403].includes(anon.status), `${key} anonymous → ${anon.status}`);
      if (rule.access === 'admin' && method === 'GET') {
        const asNurse = await raw({ path: fill(url), cookie: cookieOf(nurse) });
        routes(asNurse.status === 403, `${key} as nurse → ${asNurse.status}`);
      }
    }

    // Every state-changing route, as an admin: no token, a wrong one, another session's.
    const csrf = kind('CSRF (no, wrong, another session’s token)');
    for (const key of Object.keys(ROUTES).filter((k) => k.startsWith('POST '))) {
      const p = fill(key.slice(5));
      for (const [label, token] of [['none', ''], ['wrong', 'x'.repeat(43)], ['other session', nurse.csrf()]] as const) {
        const r = await raw({ method: 'POST', path: p, cookie: cookieOf(admin), headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { 'x-csrf-token': token } : {}) }, body: `reason=attack&snapshot=1&down=1${token ? `&_csrf=${token}` : ''}` });
        csrf(r.status === 403, `${key} with ${label} token → ${r.status}`);
      }
    }

    // Traversal into every route that takes a path or an id.
    const trav = kind('path traversal');
    for (const t of TRAVERSAL) {
      for (const p of [`/documents/ward-1/${t}`, `/documents/ward-1/mar/${t}`, `/ward/ward-1/patient/${t}`, `/api/wards/ward-1/patients/${t}`, `/print?address=${encodeURIComponent(t)}`, `/downtimes/${t}/summary.pdf`, `/static/${t}`]) {
        const r = await raw({ path: p, cookie: cookieOf(nurse) });
        const leaked = secrets.find((s) => r.body.includes(s));
        trav([400, 404].includes(r.status) && !leaked, `${p} → ${r.status}${leaked ? ' (leaked)' : ''}`);
      }
    }

    // Markup: in a patient's name from the HIS, a search, the next parameter and the language cookie.
    const xss = kind('markup injection (XSS)');
    const unescaped = (body: string) => XSS.slice(0, 4).some((x) => body.includes(x));
    const page = await raw({ path: '/ward/ward-1', cookie: cookieOf(nurse) });
    // Escaped as text (Handlebars writes = as &#x3D;), never as markup.
    xss(page.status === 200 && !unescaped(page.body) && page.body.includes('&lt;img src'), 'name from the HIS on the ward page');
    xss(/script-src 'self'/.test(String(page.headers['content-security-policy'])) && !/unsafe-inline/.test(String(page.headers['content-security-policy'])), 'CSP without unsafe-inline');
    for (const x of XSS) {
      for (const p of [`/ward/ward-1?q=${encodeURIComponent(x)}`, `/login?next=${encodeURIComponent(x)}`, `/print?address=${encodeURIComponent(x)}`, `/print-jobs?x=${encodeURIComponent(x)}`]) {
        const r = await raw({ path: p, cookie: `${cookieOf(nurse)}; lang=${encodeURIComponent(x)}` });
        xss(r.status < 500 && !unescaped(r.body), `${p} → ${r.status}`);
      }
    }

    // Oversized and malformed: refused in words, never a 500, and the box still answers after.
    const big = kind('oversized / malformed input');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [string, Parameters<typeof raw>[0]][] = [
      ['100 KB form', { method: 'POST', path: '/print', cookie: cookieOf(nurse), headers: form, body: `address=${'a'.repeat(100_000)}` }],
      ['2 MB JSON', { method: 'POST', path: '/api/print', cookie: cookieOf(nurse), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: 'x'.repeat(2_000_000) }) }],
      ['broken JSON', { method: 'POST', path: '/api/print', cookie: cookieOf(nurse), headers: { 'content-type': 'application/json', 'x-csrf-token': nurse.csrf() }, body: '{"address": ' }],
      ['20 KB search', { path: `/api/wards/ward-1/census?q=${'a'.repeat(20_000)}`, cookie: cookieOf(nurse) }],
      ['long patient key', { path: `/ward/ward-1/patient/${'k'.repeat(5000)}`, cookie: cookieOf(nurse) }],
      ['binary body', { method: 'POST', path: '/login', headers: form, body: Buffer.from([0, 255, 254, 1, 2, 3]) }],
    ];
    for (const [label, req] of cases) {
      const r = await raw(req);
      big(r.status >= 400 && r.status < 500, `${label} → ${r.status} ${r.status === 0 ? r.body : ''}`);
    }
    big((await raw({ path: '/healthz' })).status === 200, 'still answering afterwards');

    const width = Math.max(...table.map((r) => r.kind.length));
    console.log(['', `${'attack'.padEnd(width)}  attempts  broken`, ...table.map((r) => `${r.kind.padEnd(width)}  ${String(r.attempts).padStart(8)}  ${String(r.broken.length).padStart(6)}`)].join('\n'));
    expect(table.flatMap((r) => r.broken)).toEqual([]);
    expect(table.reduce((n, r) => n + r.attempts, 0)).toBeGreaterThan(150);
  });
});
