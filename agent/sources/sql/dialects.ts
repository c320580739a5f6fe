import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import pg from 'pg';
import type { SqlSourceConfig } from '../../config/schema.js';

/**
 * What differs between the four databases a Vietnamese HIS runs on, in one
 * place: the knex client, the connection (timeouts, TLS, dates as the
 * database holds them), how a site's query is capped at n rows, how a
 * transaction is made read-only, and whether a running statement can be
 * cancelled from here. Everything else in the SQL source is the same for all.
 */
export interface Dialect {
  knexClient: string;
  connection: Knex.Config['connection'];
  /** Set on each new connection: timeouts the driver keeps per connection. */
  afterCreate?: (conn: unknown, done: (err: Error | null, conn: unknown) => void) => void;
  /** The site's query, capped: it returns at most n rows. */
  capped(sql: string, n: number): string;
  /** Statements that make the transaction read-only, run first inside it. */
  readOnly: string[];
  /** knex's readOnly transaction option works (it issues SET TRANSACTION READ ONLY itself). */
  knexReadOnly: boolean;
  /** knex can cancel a running statement on the server when its timeout fires. */
  canCancel: boolean;
  /** The rows of a raw result, as objects. */
  rows(result: unknown): Record<string, unknown>[];
  /** A date the driver built: the wall-clock fields it holds are the database's (see below). */
  dateFields: 'utc' | 'local' | null;
}

export interface Secrets {
  password: string | undefined;
  ca: string | undefined;
}

/** The CA file, read when configured. */
export function caOf(cfg: SqlSourceConfig, configDir: string): string | undefined {
  const f = cfg.connection.tls?.caFile;
  return f ? fs.readFileSync(path.resolve(configDir, f), 'utf8') : undefined;
}

export function dialectOf(cfg: SqlSourceConfig, s: Secrets): Dialect {
  const c = cfg.connection;
  const connectMs = cfg.connectTimeoutSeconds * 1000;
  const statementMs = cfg.statementTimeoutSeconds * 1000;
  const limit = (sql: string, n: number) => `SELECT * FROM (${sql}) paperback_rows LIMIT ${n}`;
  switch (cfg.client) {
    case 'pg': {
      const ssl = c.tls ? { rejectUnauthorized: c.tls.rejectUnauthorized, ...(s.ca ? { ca: s.ca } : {}) } : undefined;
      // DATE and TIMESTAMP (without zone) as text, like MySQL's dateStrings: the box's zone reads them, not node's.
      const types = { getTypeParser: (oid: number, format?: string) => (oid === 1082 || oid === 1114 ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text')) };
      return {
        knexClient: 'pg',
        connection: { user: c.user, password: s.password, database: c.database, ...(ssl ? { ssl } : {}), host: c.socket ?? c.host, port: c.port, connectionTimeoutMillis: connectMs, statement_timeout: statementMs, types } as Knex.PgConnectionConfig,
        capped: limit,
        readOnly: [],
        knexReadOnly: true,
        canCancel: true,
        rows: (r) => (r as { rows: Record<string, unknown>[] }).rows ?? [],
        dateFields: null,
      };
    }
    case 'mysql': {
      const ssl = c.tls ? { rejectUnauthorized: c.tls.rejectUnauthorized, ...(s.ca ? { ca: s.ca } : {}) } : undefined;
      return {
        knexClient: 'mysql2',
        // Dates as the database holds them (text): read in the box's zone, not the process's.
        connection: { user: c.user, password: s.password, database: c.database, ...(ssl ? { ssl } : {}), host: c.host, port: c.port, socketPath: c.socket, connectTimeout: connectMs, dateStrings: true, charset: 'utf8mb4' } as Knex.MySqlConnectionConfig,
        capped: limit,
        readOnly: [],
        knexReadOnly: true,
        canCancel: true,
        rows: (r) => (r as [Record<string, unknown>[]])[0] ?? [],
        dateFields: null,
      };
    }
    case 'mssql':
      return {
        knexClient: 'mssql',
        connection: {
          host: c.host,
          port: c.port ?? 1433,
          user: c.user,
          password: s.password,
          database: c.database,
          connectionTimeout: connectMs,
          // tedious cancels a request on the server (a TDS attention) when it runs longer than this.
          requestTimeout: statementMs,
          options: {
            encrypt: Boolean(c.tls),
            trustServerCertificate: c.tls ? !c.tls.rejectUnauthorized : false,
            ...(s.ca ? { cryptoCredentialsDetails: { ca: s.ca } } : {}),
            // DATETIME has no zone: tedious's default (useUTC) puts its wall-clock fields in the Date's UTC fields, read back below.
            useUTC: true,
            readOnlyIntent: true,
            appName: 'paperback',
          },
        } as unknown as Knex.MsSqlConnectionConfig,
        // ORDER BY is not allowed in a derived table without TOP: the capped query carries TOP itself.
        capped: (sql, n) => `SELECT TOP (${n}) * FROM (${sql}) paperback_rows`,
        // SQL Server has no read-only transaction: the transaction is rolled back after every query instead, and the account must be read-only.
        readOnly: [],
        knexReadOnly: false,
        canCancel: false,
        rows: (r) => (Array.isArray(r) ? (r as Record<string, unknown>[]) : []),
        dateFields: 'utc',
      };
    case 'oracle': {
      // Easy Connect: [tcps://]host:port/service?connect_timeout=seconds (thin mode: no Oracle client to install).
      const connectString = `${c.tls ? 'tcps://' : ''}${c.host}:${c.port ?? 1521}/${c.database}?connect_timeout=${cfg.connectTimeoutSeconds}`;
      return {
        knexClient: 'oracledb',
        connection: { user: c.user, password: s.password, connectString } as Knex.OracleDbConnectionConfig,
        // callTimeout bounds every round trip on the connection; the statement is then broken off on the server.
        afterCreate: (conn, done) => {
          (conn as { callTimeout: number }).callTimeout = statementMs;
          done(null, conn);
        },
        // ROWNUM works on every Oracle still in hospitals (11g and later); FETCH FIRST needs 12c.
        capped: (sql, n) => `SELECT * FROM (${sql}) paperback_rows WHERE ROWNUM <= ${n}`,
        readOnly: ['SET TRANSACTION READ ONLY'],
        knexReadOnly: false,
        canCancel: false,
        rows: (r) => (Array.isArray(r) ? (r as Record<string, unknown>[]) : []),
        // node-oracledb builds a DATE's Date from its fields in the process's zone: the local fields are the database's.
        dateFields: 'local',
      };
    }
  }
}

/** A driver's Date for a zoneless column, back to the wall-clock text the database holds ("2026-11-20 08:00:00"). */
export function wallClockText(d: Date, fields: 'utc' | 'local'): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return fields === 'utc'
    ? `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
    : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
