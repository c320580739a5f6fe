import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlSourceConfig } from '../../agent/config/schema.js';
import { sourceSchema } from '../../agent/config/schema.js';
import { dialectOf, wallClockText } from '../../agent/sources/sql/dialects.js';
import { createSqlSource } from '../../agent/sources/sql/index.js';
import { memoryLogger, tmpDir } from '../support/fixtures.js';

/**
 * SQL Server and Oracle have no server that can run on this machine (no
 * Debian package), so what is tested here is what can be without one: the
 * real drivers (tedious, node-oracledb thin) load through knex and reach the
 * network; a refused or silent server gives a retryable error naming the
 * source, within the connect timeout; the capped query and the read-only
 * statements each database needs; dates read back as the wall clock the
 * database holds. PostgreSQL and MariaDB are tested against real servers in
 * sql.test.ts.
 */

const passwordFile = path.join(tmpDir(), 'db-password');
fs.writeFileSync(passwordFile, 'secret\n', { mode: 0o600 });

const base = (client: SqlSourceConfig['client'], port: number): SqlSourceConfig => ({
  id: 'his-db',
  kind: 'sql',
  name: 'HIS database',
  client,
  connection: { host: '127.0.0.1', port, database: 'his', user: 'paperback_ro', passwordFile },
  connectTimeoutSeconds: 2,
  statementTimeoutSeconds: 5,
  maxRows: 100,
  queries: { census: 'SELECT ma_giuong AS bed FROM nhap_vien WHERE ma_khoa = :ward_code' },
});

const req = () => ({ ward: { id: 'ward-3a', name: 'Khoa Nội 3A' }, location: 'K03', datasets: ['census'] as const, now: new Date(), signal: AbortSignal.timeout(30_000), nameOrder: 'family-first' as const });

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('SQL Server and Oracle through their real drivers, with no server', () => {
  const servers: net.Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  for (const client of ['mssql', 'oracle'] as const) {
    it(`${client}: a refused connection is a retryable error that names the source, not a crash`, async () => {
      const src = createSqlSource(base(client, await closedPort()), { configDir: '/', log: memoryLogger().log, timeZone: 'Asia/Ho_Chi_Minh' });
      try {
        const err = await src.pull(req()).then(
          () => null,
          (e: unknown) => e as { message: string; retryable: boolean },
        );
        expect(err?.message).toMatch(new RegExp(`the census query on ${client}://127\\.0\\.0\\.1/his failed`));
        expect(err?.retryable).toBe(true);
      } finally {
        await src.close?.();
      }
    }, 30_000);

    it(`${client}: a server that takes the connection and never answers is given up on at the connect timeout`, async () => {
      const silent = net.createServer(() => {});
      servers.push(silent);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const src = createSqlSource(base(client, (silent.address() as net.AddressInfo).port), { configDir: '/', log: memoryLogger().log, timeZone: 'Asia/Ho_Chi_Minh' });
      const t0 = Date.now();
      try {
        await expect(src.pull(req())).rejects.toThrow(/the census query on .* failed/);
        // Bounded by the 2 s connect timeout (and knex's acquire timeout), not by the 30 s the test allows.
        expect(Date.now() - t0).toBeLessThan(20_000);
      } finally {
        await src.close?.();
      }
    }, 30_000);
  }
});

describe('what differs between the databases', () => {
  const secrets = { password: 'x', ca: undefined };
  it('caps a query the way each database can, one row over the cap', () => {
    const q = 'SELECT bed FROM v ORDER BY bed';
    expect(dialectOf(base('pg', 1), secrets).capped(q, 101)).toBe('SELECT * FROM (SELECT bed FROM v ORDER BY bed) paperback_rows LIMIT 101');
    expect(dialectOf(base('mysql', 1), secrets).capped(q, 101)).toBe('SELECT * FROM (SELECT bed FROM v ORDER BY bed) paperback_rows LIMIT 101');
    expect(dialectOf(base('mssql', 1), secrets).capped(q, 101)).toBe('SELECT TOP (101) * FROM (SELECT bed FROM v ORDER BY bed) paperback_rows');
    expect(dialectOf(base('oracle', 1), secrets).capped(q, 101)).toBe('SELECT * FROM (SELECT bed FROM v ORDER BY bed) paperback_rows WHERE ROWNUM <= 101');
  });

  it('makes the transaction read-only where the database can, and gives each driver its timeouts', () => {
    const oracle = dialectOf({ ...base('oracle', 1521), connection: { ...base('oracle', 1521).connection, tls: { rejectUnauthorized: true } } }, secrets);
    expect(oracle.readOnly).toEqual(['SET TRANSACTION READ ONLY']);
    expect((oracle.connection as { connectString: string }).connectString).toBe('tcps://127.0.0.1:1521/his?connect_timeout=2');
    const conn: { callTimeout?: number } = {};
    oracle.afterCreate!(conn, () => {});
    expect(conn.callTimeout).toBe(5000);
    const mssql = dialectOf(base('mssql', 1433), secrets);
    expect(mssql.readOnly).toEqual([]);
    expect(mssql.connection).toMatchObject({ requestTimeout: 5000, connectionTimeout: 2000, options: { readOnlyIntent: true, useUTC: true, encrypt: false } });
    expect(dialectOf(base('pg', 5432), secrets)).toMatchObject({ knexReadOnly: true, canCancel: true });
  });

  it('reads a zoneless date back as the wall clock the database holds', () => {
    // tedious (useUTC) puts DATETIME 2026-11-20 08:00 in the UTC fields; node-oracledb puts a DATE in the local ones.
    expect(wallClockText(new Date(Date.UTC(2026, 10, 20, 8, 0, 5)), 'utc')).toBe('2026-11-20 08:00:05');
    expect(wallClockText(new Date(2026, 10, 20, 8, 0, 5), 'local')).toBe('2026-11-20 08:00:05');
  });

  it('refuses, naming the field, what SQL Server and Oracle cannot do', () => {
    const bad = (s: object) => {
      const r = sourceSchema.safeParse(s);
      return r.success ? null : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    expect(bad({ ...base('mssql', 1433), connection: { ...base('mssql', 1433).connection, socket: '/run/x.sock' } })).toMatch(/^connection\.socket: a socket is for PostgreSQL and MySQL/);
    expect(bad({ ...base('oracle', 1521), connection: { ...base('oracle', 1521).connection, tls: { caFile: 'ca.pem' } } })).toMatch(/^connection\.tls: Oracle over TLS/);
    expect(bad({ ...base('oracle', 1521) })).toBeNull();
  });
});
