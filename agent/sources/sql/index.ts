import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlSourceConfig } from '../../config/schema.js';
import type { WardSnapshot } from '../../model/ward.js';
import { censusRow, censusToPatients, medicationRow, medicationRowToOrder, validateRows } from '../dropfolder/formats.js';
import { parseDtm } from '../hl7/dtm.js';
import { SourceError } from '../http.js';
import type { PullRequest, PullResult, Source } from '../types.js';

/**
 * A read-only SQL source: the site's own queries against a view of its HIS
 * database (PostgreSQL, MySQL/MariaDB through knex), each returning the
 * drop-folder export's columns. The ward's code (the job's scope.location,
 * e.g. a MA_KHOA) is bound as :ward_code and the ward id as :ward, never
 * spliced into the SQL. Every query runs in a read-only transaction with a
 * statement timeout and a row cap; the account must be read-only anyway.
 */

/** The password's file, refused when others can read it. */
function readPassword(cfg: SqlSourceConfig, configDir: string): string | undefined {
  if (!cfg.connection.passwordFile) return undefined;
  const file = path.resolve(configDir, cfg.connection.passwordFile);
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) throw new SourceError(`sources ${cfg.id}: the password file ${file} can be read by others (mode ${mode.toString(8)}); chmod 600 it`, { retryable: false, code: 'credentials-exposed' });
  return fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
}

function connectionOf(cfg: SqlSourceConfig, configDir: string): Knex.Config['connection'] {
  const c = cfg.connection;
  const ssl = c.tls ? { rejectUnauthorized: c.tls.rejectUnauthorized, ...(c.tls.caFile ? { ca: fs.readFileSync(path.resolve(configDir, c.tls.caFile), 'utf8') } : {}) } : undefined;
  const common = { user: c.user, password: readPassword(cfg, configDir), database: c.database, ...(ssl ? { ssl } : {}) };
  if (cfg.client === 'pg') {
    // DATE and TIMESTAMP (without zone) as text, like MySQL's dateStrings: the box's zone reads them, not node's.
    const types = { getTypeParser: (oid: number, format?: string) => (oid === 1082 || oid === 1114 ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text')) };
    return { ...common, host: c.socket ?? c.host, port: c.port, connectionTimeoutMillis: cfg.connectTimeoutSeconds * 1000, statement_timeout: cfg.statementTimeoutSeconds * 1000, types } as Knex.PgConnectionConfig;
  }
  // Dates as the database holds them (text): read below in the box's zone, not the process's.
  return { ...common, host: c.host, port: c.port, socketPath: c.socket, connectTimeout: cfg.connectTimeoutSeconds * 1000, dateStrings: true, charset: 'utf8mb4' } as Knex.MySqlConnectionConfig;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/;

/**
 * A row as the export's columns: names lowercased, dates and times the
 * database gave as text turned into the export's forms (a time without an
 * offset is a wall-clock time in the box's zone), numbers and strings as they are.
 */
function exportRow(row: Record<string, unknown>, timeZone: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    let value: unknown = v;
    if (v instanceof Date) value = Number.isNaN(v.getTime()) ? null : v.toISOString();
    else if (typeof v === 'string') {
      const m = DATE_TIME.exec(v);
      if (m) {
        const at = parseDtm(`${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}${m[6] ?? '00'}`, timeZone);
        value = at && typeof at === 'string' ? at : v;
      }
    } else if (typeof v === 'number' || typeof v === 'bigint') value = String(v);
    out[k.toLowerCase()] = value;
  }
  return out;
}

export function createSqlSource(cfg: SqlSourceConfig, opts: { configDir: string; log: Logger; timeZone: string }): Source {
  const db = knex({
    client: cfg.client === 'pg' ? 'pg' : 'mysql2',
    connection: connectionOf(cfg, opts.configDir),
    pool: { min: 0, max: 2, idleTimeoutMillis: 60_000 },
    acquireConnectionTimeout: cfg.connectTimeoutSeconds * 1000,
  });
  const info = { id: cfg.id, system: cfg.name, location: `${cfg.client}://${cfg.connection.host}/${cfg.connection.database}` };

  /** One query, read-only, bounded in time and rows; an error names the query, not the data. */
  const query = async (name: 'census' | 'medications', sql: string, req: PullRequest): Promise<Record<string, unknown>[]> => {
    const bindings = { ward: req.ward.id, ward_code: req.location };
    try {
      const rows = await db.transaction(
        async (trx) => {
          // One more than the cap, so a query that returns too many says so instead of being cut silently.
          const capped = `SELECT * FROM (${sql.replace(/;\s*$/, '')}) paperback_rows LIMIT ${cfg.maxRows + 1}`;
          const r = await trx.raw(capped, bindings).timeout(cfg.statementTimeoutSeconds * 1000, { cancel: true });
          return (cfg.client === 'pg' ? (r as { rows: Record<string, unknown>[] }).rows : (r as [Record<string, unknown>[]])[0]) ?? [];
        },
        { readOnly: true },
      );
      if (rows.length > cfg.maxRows) throw new SourceError(`the ${name} query returned more than ${cfg.maxRows} rows (maxRows): check its ward filter`, { retryable: false, code: 'too-many-rows' });
      return rows.map((r) => exportRow(r, opts.timeZone));
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const e = err as { code?: string; message?: string; name?: string };
      const timedOut = e.name === 'KnexTimeoutError' || /timeout|canceling statement/i.test(e.message ?? '');
      // The driver's words, cut short: they name tables and columns, never row values.
      throw new SourceError(`the ${name} query on ${info.location} failed: ${timedOut ? `no answer within ${cfg.statementTimeoutSeconds} s` : (e.message ?? String(err)).split('\n')[0]!.slice(0, 200)}`, { retryable: timedOut || /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection terminated|PROTOCOL_CONNECTION_LOST/.test(`${e.code} ${e.message}`), code: timedOut ? 'timeout' : (e.code ?? 'sql') });
    }
  };

  return {
    info,
    async pull(req: PullRequest): Promise<PullResult> {
      const census = validateRows(await query('census', cfg.queries.census, req), censusRow, (i) => `the census query, row ${i + 1}`);
      const { beds, patients } = censusToPatients(census, req.nameOrder);
      let requests = 1;
      if (req.datasets.includes('medications')) {
        if (!cfg.queries.medications) throw new SourceError(`sources ${cfg.id} has no medications query, and the job asks for medications`, { retryable: false, code: 'no-medications' });
        const meds = validateRows(await query('medications', cfg.queries.medications, req), medicationRow, (i) => `the medications query, row ${i + 1}`);
        requests++;
        for (const p of patients) p.orders = { status: 'available', items: meds.map((r, i) => ({ r, i })).filter(({ r }) => r.mrn === p.mrn).map(({ r, i }) => medicationRowToOrder(r, i)) };
      }
      const snapshot: WardSnapshot = { ward: req.ward, asOf: req.now.toISOString(), source: info, beds, patients, warnings: [] };
      return { snapshot, requests };
    },
    async probe(signal) {
      await db.raw('SELECT 1').timeout(5000, { cancel: true });
      signal.throwIfAborted();
    },
    async close() {
      await db.destroy();
    },
  };
}
