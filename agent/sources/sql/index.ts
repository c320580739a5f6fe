import fs from 'node:fs';
import path from 'node:path';
import knex from 'knex';
import type { Logger } from 'pino';
import type { SqlSourceConfig } from '../../config/schema.js';
import type { WardSnapshot } from '../../model/ward.js';
import { censusRow, censusToPatients, medicationRow, medicationRowToOrder, validateRows } from '../dropfolder/formats.js';
import { parseDtm } from '../hl7/dtm.js';
import { SourceError } from '../http.js';
import { caOf, dialectOf, wallClockText, type Dialect } from './dialects.js';
import type { PullRequest, PullResult, Source } from '../types.js';

/**
 * A read-only SQL source: the site's own queries against a view of its HIS
 * database (PostgreSQL, MySQL/MariaDB, SQL Server, Oracle through knex; the
 * differences in ./dialects.ts), each returning the
 * drop-folder export's columns. The ward's code (the job's scope.location,
 * e.g. a MA_KHOA) is bound as :ward_code and the ward id as :ward, never
 * spliced into the SQL. Every query runs in a transaction that is read-only
 * where the database has one and is always rolled back, with a statement
 * timeout and a row cap; the account must be read-only anyway.
 */

/** The password's file, refused when others can read it. */
function readPassword(cfg: SqlSourceConfig, configDir: string): string | undefined {
  if (!cfg.connection.passwordFile) return undefined;
  const file = path.resolve(configDir, cfg.connection.passwordFile);
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) throw new SourceError(`sources ${cfg.id}: the password file ${file} can be read by others (mode ${mode.toString(8)}); chmod 600 it`, { retryable: false, code: 'credentials-exposed' });
  return fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/;

/**
 * A row as the export's columns: names lowercased, dates and times the
 * database gave as text turned into the export's forms (a time without an
 * offset is a wall-clock time in the box's zone), numbers and strings as they are.
 */
function exportRow(row: Record<string, unknown>, timeZone: string, dateFields: Dialect['dateFields']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    let value: unknown = v;
    if (v instanceof Date && dateFields && !Number.isNaN(v.getTime())) value = wallClockText(v, dateFields);
    if (value instanceof Date) value = Number.isNaN(value.getTime()) ? null : value.toISOString();
    else if (typeof value === 'string') {
      const m = DATE_TIME.exec(value);
      if (m) {
        const at = parseDtm(`${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}${m[6] ?? '00'}`, timeZone);
        value = at && typeof at === 'string' ? at : value;
      }
    } else if (typeof v === 'number' || typeof v === 'bigint') value = String(v);
    out[k.toLowerCase()] = value;
  }
  return out;
}

/** Thrown out of the transaction to roll it back with the rows in hand: nothing a query did is ever committed. */
class RolledBack {
  constructor(readonly rows: Record<string, unknown>[]) {}
}

export function createSqlSource(cfg: SqlSourceConfig, opts: { configDir: string; log: Logger; timeZone: string }): Source {
  const dialect = dialectOf(cfg, { password: readPassword(cfg, opts.configDir), ca: caOf(cfg, opts.configDir) });
  const db = knex({
    client: dialect.knexClient,
    connection: dialect.connection,
    pool: { min: 0, max: 2, idleTimeoutMillis: 60_000, ...(dialect.afterCreate ? { afterCreate: dialect.afterCreate } : {}) },
    acquireConnectionTimeout: cfg.connectTimeoutSeconds * 1000,
    // knex writes its own complaints (a failed connection) to the console: into the journal instead, as driver words only.
    log: {
      warn: (m: unknown) => opts.log.warn({ source: cfg.id, detail: String(m).split('\n')[0]!.slice(0, 200) }, 'SQL driver warning'),
      error: (m: unknown) => opts.log.warn({ source: cfg.id, detail: String(m).split('\n')[0]!.slice(0, 200) }, 'SQL driver error'),
      deprecate: () => {},
      debug: () => {},
    },
  });
  const info = { id: cfg.id, system: cfg.name, location: `${cfg.client}://${cfg.connection.host}/${cfg.connection.database}` };

  /** One query, read-only, bounded in time and rows; an error names the query, not the data. */
  const query = async (name: 'census' | 'medications', sql: string, req: PullRequest): Promise<Record<string, unknown>[]> => {
    const bindings = { ward: req.ward.id, ward_code: req.location };
    try {
      let rows: Record<string, unknown>[] = [];
      try {
        await db.transaction(
          async (trx) => {
            for (const statement of dialect.readOnly) await trx.raw(statement);
            // One more than the cap, so a query that returns too many says so instead of being cut silently.
            const run = trx.raw(dialect.capped(sql.replace(/;\s*$/, ''), cfg.maxRows + 1), bindings);
            // Where knex cannot cancel (SQL Server, Oracle), the driver's own timeout ends the statement; this one is the backstop.
            const result = await (dialect.canCancel ? run.timeout(cfg.statementTimeoutSeconds * 1000, { cancel: true }) : run.timeout(cfg.statementTimeoutSeconds * 1000 + 5000));
            throw new RolledBack(dialect.rows(result));
          },
          { readOnly: dialect.knexReadOnly },
        );
      } catch (err) {
        if (!(err instanceof RolledBack)) throw err;
        rows = err.rows;
      }
      if (rows.length > cfg.maxRows) throw new SourceError(`the ${name} query returned more than ${cfg.maxRows} rows (maxRows): check its ward filter`, { retryable: false, code: 'too-many-rows' });
      return rows.map((r) => exportRow(r, opts.timeZone, dialect.dateFields));
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const e = err as { code?: string; message?: string; name?: string };
      const timedOut = e.name === 'KnexTimeoutError' || /timeout|canceling statement|ETIMEOUT|NJS-123|DPY-4024/i.test(`${e.code} ${e.message}`);
      // The driver's words, cut short: they name tables and columns, never row values.
      throw new SourceError(`the ${name} query on ${info.location} failed: ${timedOut ? `no answer within ${cfg.statementTimeoutSeconds} s` : (e.message ?? String(err)).split('\n')[0]!.slice(0, 200)}`, { retryable: timedOut || /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ESOCKET|Connection terminated|PROTOCOL_CONNECTION_LOST|NJS-500|NJS-503|DPI-1080|DPY-6005/.test(`${e.code} ${e.message}`), code: timedOut ? 'timeout' : (e.code ?? 'sql') });
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
      await db.raw(cfg.client === 'oracle' ? 'SELECT 1 FROM DUAL' : 'SELECT 1').timeout(5000, dialect.canCancel ? { cancel: true } : undefined);
      signal.throwIfAborted();
    },
    async close() {
      await db.destroy();
    },
  };
}
