import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, haveIppEvePrinter } from '../../agent/demo/ipp-printer.js';
import { tmpDir } from './fixtures.js';

export { freePort, startIppPrinter, type IppPrinterHandle } from '../../agent/demo/ipp-printer.js';

export const HAVE_IPPEVEPRINTER = haveIppEvePrinter();
export const HAVE_CUPSD = spawnSync('sh', ['-c', 'command -v cupsd']).status === 0 || fs.existsSync('/usr/sbin/cupsd');
/** In CI a missing peer is a failure, not a skip: .ci/run installs them. */
export const REQUIRE_PEERS = process.env.CI === 'true';

async function waitUntil(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what} did not come up within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CupsHandle {
  port: number;
  queueUri(name: string): string;
  addQueue(name: string, deviceUri: string): void;
  disable(name: string): void;
  enable(name: string): void;
  stop(): Promise<void>;
}

/** A real CUPS scheduler on a loopback port, with its own folders (runs its filters as `lp`). */
export async function startCups(): Promise<CupsHandle> {
  const root = tmpDir('pb-cups-');
  const port = await freePort();
  for (const d of ['spool', 'cache', 'state', 'log', 'ppd']) fs.mkdirSync(path.join(root, d));
  fs.writeFileSync(
    path.join(root, 'cupsd.conf'),
    `Listen 127.0.0.1:${port}\nLogLevel warn\nWebInterface No\nBrowsing Off\nDefaultAuthType None\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n<Policy default>\n  <Limit All>\n    Order deny,allow\n    Allow all\n  </Limit>\n</Policy>\n`,
  );
  fs.writeFileSync(
    path.join(root, 'cups-files.conf'),
    `ServerRoot ${root}\nRequestRoot ${root}/spool\nCacheDir ${root}/cache\nStateDir ${root}/state\nTempDir ${root}/spool\nErrorLog ${root}/log/error_log\nAccessLog ${root}/log/access_log\nPageLog ${root}/log/page_log\nUser lp\nGroup lp\nSystemGroup root\nSandboxing relaxed\n`,
  );
  fs.chmodSync(root, 0o755);
  for (const d of ['spool', 'cache', 'state', 'log']) execFileSync('chown', ['-R', 'lp', path.join(root, d)]);
  const child = spawn('cupsd', ['-f', '-c', path.join(root, 'cupsd.conf'), '-s', path.join(root, 'cups-files.conf')], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  await waitUntil(() => spawnSync('lpstat', ['-h', host, '-r']).stdout.toString().includes('is running'), `cupsd on port ${port}`);
  return {
    port,
    queueUri: (name) => `ipp://127.0.0.1:${port}/printers/${name}`,
    addQueue(name, deviceUri) {
      execFileSync('lpadmin', ['-h', host, '-p', name, '-E', '-v', deviceUri, '-m', 'everywhere']);
      // CUPS would otherwise shrink A4 pages onto its default Letter paper.
      execFileSync('lpadmin', ['-h', host, '-p', name, '-o', 'media-default=iso_a4_210x297mm']);
    },
    disable: (name) => void execFileSync('cupsdisable', ['-h', host, name]),
    enable: (name) => void execFileSync('cupsenable', ['-h', host, name]),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
