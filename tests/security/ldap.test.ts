import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../agent/audit/log.js';
import { addUser } from '../../agent/auth/users.js';
import { buildWebServer } from '../../agent/web/server.js';
import { openTestAgent, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { HAVE_SLAPD, LDAP_BASE, LDAP_USERS, startSlapd, type Slapd } from '../support/ldap.js';
import { webClient } from '../support/web.js';

if (process.env.CI === 'true' && !HAVE_SLAPD) throw new Error('slapd and ldap-utils are required in CI');

let slapd: Slapd;
let a: TestAgent;
let app: FastifyInstance;
let base: string;

describe.skipIf(!HAVE_SLAPD)('directory login against a real OpenLDAP server', () => {
  beforeAll(async () => {
    slapd = await startSlapd();
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:1/fhir',
      extraSource: `auth:
  ldap:
    url: ${slapd.url}
    userDn: "uid={user},ou=people,${LDAP_BASE}"
    groupBase: "ou=groups,${LDAP_BASE}"
    adminGroup: "cn=paperback-admins,ou=groups,${LDAP_BASE}"
    nurseGroup: "cn=ward3a-nurses,ou=groups,${LDAP_BASE}"
    timeoutMs: 1000
`,
    });
    a = openTestAgent(dir);
    // A local account with the same name as a directory user, and a local-only account.
    await addUser(a.db, { username: 'mai.tran', displayName: 'Mai (local)', role: 'nurse', password: 'local-only password' });
    await addUser(a.db, { username: 'night.nurse', displayName: 'Night nurse', role: 'nurse', password: 'night shift password' });
    app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await slapd?.stop();
  });

  const login = async (username: string, password: string) => {
    const c = webClient(base);
    await c.fetch('/login');
    const r = await c.form('/login', { username, password });
    return { status: r.status, body: r.status === 303 ? '' : await r.text(), admin: r.status === 303 ? (await c.fetch('/admin')).status : null };
  };
  const lastAudit = (actor: string) => JSON.parse(listAudit(a.db, { actor }).filter((r) => r.action === 'login').at(-1)!.detail!) as Record<string, unknown>;

  it('signs in with the directory password; the group decides the role', async () => {
    expect(await login('mai.tran', LDAP_USERS['mai.tran']!.password)).toMatchObject({ status: 303, admin: 403 });
    expect(lastAudit('mai.tran')).toMatchObject({ auth: 'ldap', role: 'nurse' });
    expect(await login('khoa.it', LDAP_USERS['khoa.it']!.password)).toMatchObject({ status: 303, admin: 200 });
    expect(lastAudit('khoa.it')).toMatchObject({ auth: 'ldap', role: 'admin' });
  });

  it('refuses a directory user in no allowed group, a wrong password, and never tries the local password behind the directory’s back', async () => {
    const outsider = await login('outsider', LDAP_USERS.outsider!.password);
    expect(outsider.status).toBe(401);
    expect(outsider.body).toContain('not in a group allowed on this ward box');
    expect((await login('mai.tran', 'not her password')).status).toBe(401);
    // The directory answered "wrong password": the local account's password does not get a second chance.
    expect((await login('mai.tran', 'local-only password')).status).toBe(401);
    // A user name that tries to reshape the DN is only ever a value.
    expect((await login('mai.tran,ou=people', LDAP_USERS['mai.tran']!.password)).status).toBe(401);
  });

  it('falls back to local accounts when the directory is down, and says so in the audit log', async () => {
    await slapd.stop();
    expect((await login('mai.tran', 'local-only password')).status).toBe(303);
    expect(lastAudit('mai.tran')).toMatchObject({ auth: 'local', note: 'directory unreachable' });
    expect((await login('night.nurse', 'night shift password')).status).toBe(303);
    // A directory-only password means nothing without the directory.
    expect((await login('khoa.it', LDAP_USERS['khoa.it']!.password)).status).toBe(401);
  });
});
