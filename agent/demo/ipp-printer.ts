import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real IPP Everywhere printer for the demo, the benchmarks and the tests:
 * Debian's ippeveprinter (cups-ipp-utils) on a loopback port.
 */
const HAVE_SETPRIV = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;

export const haveIppEvePrinter = (): boolean => spawnSync('sh', ['-c', 'command -v ippeveprinter']).status === 0 || fs.existsSync('/usr/sbin/ippeveprinter');

const tmpDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const running = (name: string) => spawnSync('pgrep', ['-x', name]).status === 0;

/**
 * ippeveprinter refuses to start without avahi on a system D-Bus (see shared/FIELD-NOTES.md).
 * A box or container that was stopped uncleanly keeps /run/dbus/pid and the
 * avahi pid file, and both daemons then refuse to start: remove stale ones first.
 */
export function ensureAvahi(): void {
  const problems: string[] = [];
  if (!running('dbus-daemon')) {
    fs.mkdirSync('/run/dbus', { recursive: true });
    fs.rmSync('/run/dbus/pid', { force: true });
    fs.rmSync('/run/dbus/system_bus_socket', { force: true });
    const r = spawnSync('dbus-daemon', ['--system', '--fork'], { encoding: 'utf8' });
    if (r.status !== 0) problems.push(`dbus-daemon: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  if (!running('avahi-daemon')) {
    fs.rmSync('/run/avahi-daemon/pid', { force: true });
    const r = spawnSync('avahi-daemon', ['--daemonize', '--no-drop-root', '--no-chroot'], { encoding: 'utf8' });
    if (r.status !== 0) problems.push(`avahi-daemon: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  avahiProblems = problems.join('; ');
}

/** Why dbus/avahi did not start, kept for the error a failed printer start reports. */
let avahiProblems = '';

async function waitUntil(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what} did not come up within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const answersIpp = (uri: string) => spawnSync('ipptool', ['-q', '-T', '2', uri, 'get-printer-attributes.test']).status === 0;

export interface IppPrinterHandle {
  uri: string;
  port: number;
  spool: string;
  /** Every PDF the printer received, oldest first. */
  received(): string[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A real IPP Everywhere printer: Debian's ippeveprinter on a loopback port,
 * keeping every job's document in its spool folder. `command` is what it runs
 * per job: /bin/true completes at once, /bin/false aborts the job.
 */
export async function startIppPrinter(opts: { name?: string; port?: number; command?: string; formats?: string; spool?: string } = {}): Promise<IppPrinterHandle> {
  ensureAvahi();
  const spool = opts.spool ?? tmpDir('pb-spool-');
  fs.mkdirSync(spool, { recursive: true });
  const port = opts.port ?? (await freePort());
  const uri = `ipp://127.0.0.1:${port}/ipp/print`;
  let child: ChildProcess | null = null;
  const start = async () => {
    const args = ['-p', String(port), '-n', 'localhost', '-d', spool, '-k', '-r', 'off', '-f', opts.formats ?? 'application/pdf,image/pwg-raster'];
    if (opts.command) args.push('-c', opts.command);
    args.push(opts.name ?? `Paperback-Test-${port}`);
    // setpriv (util-linux) asks the kernel to end the printer when this process dies, even by SIGKILL:
    // a killed agent must not leave a printer holding its port for the next start.
    const c = HAVE_SETPRIV ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ippeveprinter', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('ippeveprinter', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let stderr = '';
    // Read for as long as the printer runs (keeps it from blocking on a full pipe); the start is kept for errors.
    c.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    try {
      await waitUntil(() => answersIpp(uri), `ippeveprinter on port ${port}`);
    } catch (err) {
      const exited = c.exitCode !== null ? ` (exited with ${c.exitCode})` : '';
      throw new Error(`${(err as Error).message}${exited}. ippeveprinter said: ${stderr.trim().slice(-1500) || '(nothing)'}${avahiProblems ? `. ${avahiProblems}` : ''}`);
    }
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  };
  await start();
  return {
    uri,
    port,
    spool,
    received: () =>
      fs
        .readdirSync(spool)
        .filter((f) => f.endsWith('.pdf'))
        .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
        .map((f) => path.join(spool, f)),
    stop,
    start,
  };
}

