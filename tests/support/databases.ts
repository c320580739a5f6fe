import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './printers.js';
import { tmpDir, waitFor } from './fixtures.js';

/**
 * Real database servers for the SQL source's tests, each a private cluster in
 * a temporary folder on a loopback port, from Debian's packages (postgresql,
 * mariadb-server), stopped at the end. As root (CI) PostgreSQL runs as the
 * postgres user, which initdb requires; MariaDB as root with --user=root.
 */
const ROOT = process.getuid?.() === 0;
const PG_BIN = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => fs.existsSync(`${d}/initdb`)) : undefined;
export const HAVE_POSTGRES = !!PG_BIN && (!ROOT || spawnSync('id', ['postgres']).status === 0);
export const HAVE_MARIADB = fs.existsSync('/usr/sbin/mariadbd') && fs.existsSync('/usr/bin/mariadb-install-db');

export interface DbServer {
  port: number;
  /** Run SQL as the server's superuser (schema and data for a test). */
  admin(sql: string): void;
  stop(): Promise<void>;
}

const asPostgres = (cmd: string, args: string[]) => (ROOT ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];

export async function startPostgres(): Promise<DbServer> {
  const dir = tmpDir('pb-pg-');
  if (ROOT) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  execFileSync(...asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']), { stdio: 'ignore' });
  execFileSync(...asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']), { stdio: 'ignore' });
  const psql = (sql: string) => execFileSync(`${PG_BIN}/psql`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-d', 'postgres', '-c', sql], { encoding: 'utf8' });
  return {
    port,
    admin: (sql) => void psql(sql),
    async stop() {
      spawnSync(...asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    },
  };
}

export async function startMariaDb(): Promise<DbServer & { socket: string }> {
  const dir = tmpDir('pb-maria-');
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const port = await freePort();
  const user = ROOT ? ['--user=root'] : [];
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const server: ChildProcess = spawn('/usr/sbin/mariadbd', ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', ...user, '--skip-log-bin', `--pid-file=${path.join(dir, 'pid')}`, '--innodb-flush-log-at-trx-commit=0', '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci'], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(socket), 30_000);
  const mysql = (sql: string) => execFileSync('mariadb', ['--no-defaults', '-S', socket, '-u', 'root', '--default-character-set=utf8mb4', '-e', sql], { encoding: 'utf8' });
  return {
    port,
    socket,
    admin: (sql) => void mysql(sql),
    async stop() {
      server.kill('SIGKILL');
      await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
    },
  };
}
