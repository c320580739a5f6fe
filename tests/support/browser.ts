import fs from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, driven by playwright-core: the browser every page test uses. */
export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * axe-core's serious and critical violations on the page. axe is injected as
 * a script, which our Content-Security-Policy rightly forbids: the page's
 * context must be made with bypassCSP for the audit.
 */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: number }[]> {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe.run());
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
}

/** A page in a fresh browser context, signed in through the real login form (`login` is its address, e.g. with ?lang=). */
export async function signedInPage(browser: Browser, base: string, user: { username: string; password: string }, opts: Parameters<Browser['newContext']>[0] = {}, login = '/login'): Promise<Page> {
  const page = await (await browser.newContext(opts)).newPage();
  await page.goto(`${base}${login}`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}
