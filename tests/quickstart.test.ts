import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../agent/demo/ipp-printer.js';
import { REPO, tmpDir } from './support/fixtures.js';
import { signIn } from './support/web.js';
import { HAVE_IPPEVEPRINTER } from './support/printers.js';

/**
 * The README's quick start, as a newcomer runs it: a clean clone of the
 * committed tree, `npm install`, `npm start`. Only the port differs, so the
 * test does not fight a demo someone left running on 8080.
 */
const clone = path.join(tmpDir('pb-clone-'), 'paperback');
/** PAPERBACK_SCREENSHOTS=1: photograph the demo for the README as a newcomer sees it. */
const SHOTS = process.env.PAPERBACK_SCREENSHOTS ? path.join(REPO, 'docs/screenshots') : null;

async function photograph(base: string, user: { username: string; password: string }, shots: { path: string; file: string; phone?: boolean; full?: boolean; signedOut?: boolean }[]): Promise<void> {
  if (!SHOTS) return;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    for (const shot of shots) {
      const ctx = await browser.newContext(shot.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 860 } });
      const page = await ctx.newPage();
      if (!shot.signedOut) {
        await page.goto(`${base}/login`);
        await page.fill('#username', user.username);
        await page.fill('#password', user.password);
        await page.click('form[action="/login"] button[type=submit]');
        await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      }
      await page.goto(`${base}${shot.path}`);
      await page.screenshot({ path: path.join(SHOTS, shot.file), fullPage: shot.full ?? false });
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
}
let agent: ChildProcess | null = null;
let output = '';

afterAll(async () => {
  if (agent?.pid && agent.exitCode === null) {
    // npm start runs sh, which runs node: stop the whole group.
    process.kill(-agent.pid, 'SIGTERM');
    await new Promise((r) => agent!.once('close', r));
  }
});

/** Run a command without blocking the test worker (npm install takes minutes; vitest must hear from the worker meanwhile). */
function sh(cmd: string, args: string[], cwd: string): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd, env: { ...process.env, CI: 'true' } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve({ stdout: out }) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${out}`.slice(-4000)))));
  });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s. The agent said:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('the README quick start in a clean clone', () => {
  it('npm install && npm start serves a census within the first minute, prints on the demo printer, and shows a demo outage end to end', async () => {
    await sh('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone], path.dirname(clone));
    await sh('npm', ['install', '--no-audit', '--no-fund'], clone);

    const port = await freePort();
    agent = spawn('npm', ['start', '--', '--port', String(port)], { cwd: clone, detached: true });
    agent.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // The build runs first (prestart); the minute starts when the agent says it is serving.
    const base = await until('the agent starting', 240_000, async () => /Paperback is serving on (http:\/\/\S+)/.exec(output)?.[1] ?? null);
    const served = Date.now();
    const creds = /Demo accounts: nurse \/ (\S+), admin \/ (\S+)/.exec(output);
    expect(creds, output).not.toBeNull();
    const nurse = await signIn(base, { username: 'nurse', password: creds![1]! });
    const census = await until('a census on the ward page', 60_000, async () => {
      const html = await (await nurse.fetch('/ward/ward-3a')).text();
      return html.includes('href="/ward/ward-3a/patient/') ? html : null;
    });
    process.stdout.write(`quick start: census served ${((Date.now() - served) / 1000).toFixed(1)} s after the agent started serving\n`);
    // The demo ward has 24 patients; every one is listed with a link to her page.
    expect(census.match(/href="\/ward\/ward-3a\/patient\//g)!.length).toBe(24);
    const someone = /href="(\/ward\/ward-3a\/patient\/[^"]+)"/.exec(census)![1]!;
    const nurseLogin = { username: 'nurse', password: creds![1]! };
    const adminLogin = { username: 'admin', password: creds![2]! };
    await photograph(base, nurseLogin, [
      { path: '/login', file: 'login-vi-desktop.png', signedOut: true },
      { path: '/ward/ward-3a', file: 'census-vi-desktop.png' },
      { path: someone, file: 'patient-vi-desktop.png' },
      { path: '/ward/ward-3a', file: 'census-vi-phone.png', phone: true },
      { path: someone, file: 'patient-vi-phone.png', phone: true },
    ]);
    const pdf = Buffer.from(await (await nurse.fetch('/documents/ward-3a/census.pdf')).arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

    // The demo printer: a real ippeveprinter where cups-ipp-utils is installed, else a folder.
    const admin = await signIn(base, adminLogin);
    await photograph(base, adminLogin, [{ path: '/admin', file: 'admin-vi-desktop.png', full: true }]);
    const printers = (await (await admin.fetch('/api/printers')).json()) as { printers: { id: string; kind: string }[] };
    expect(printers.printers.find((p) => p.id === 'demo-printer')?.kind).toBe(HAVE_IPPEVEPRINTER ? 'ipp' : 'folder');

    // A demo outage from the CLI: banner, downtime pack printed, summary after recovery.
    const cli = async (args: string[]) => (await sh(process.execPath, ['dist/agent/cli/main.js', '--config', 'demo', ...args], clone)).stdout;
    expect(await cli(['demo', 'outage', 'start'])).toMatch(/going down/);
    await until('the outage detected and declared a downtime', 120_000, async () => {
      const html = await (await nurse.fetch('/ward/ward-3a')).text();
      return html.includes('banner-down') ? true : null;
    });
    await photograph(base, nurseLogin, [
      { path: '/ward/ward-3a', file: 'census-vi-downtime.png' },
      { path: '/login', file: 'login-vi-break-glass.png', signedOut: true, full: true },
    ]);
    const printed = await until('the downtime pack printed', 120_000, async () => {
      const jobs = ((await (await admin.fetch('/api/print-jobs')).json()) as { jobs: { reason: string; state: string }[] }).jobs.filter((j) => j.reason === 'downtime');
      return jobs.length > 0 && jobs.every((j) => j.state === 'completed') ? jobs : null;
    });
    expect(printed.length).toBeGreaterThanOrEqual(2);
    const spool = path.join(clone, 'demo', 'data', 'printed');
    expect(fs.readdirSync(spool).filter((f) => f.endsWith('.pdf')).length).toBeGreaterThanOrEqual(printed.length);
    expect(await cli(['demo', 'outage', 'stop'])).toMatch(/coming back/);
    const summary = await until('the downtime summary after recovery', 180_000, async () => {
      const st = (await (await admin.fetch('/api/admin')).json()) as { downtime: string };
      if (st.downtime) return null;
      const res = await admin.fetch('/downtimes/1/summary.pdf');
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : null;
    });
    expect(summary.subarray(0, 5).toString()).toBe('%PDF-');
  }, 900_000);
});

