import type { FileBackReport } from '../fileback/file-back.js';
import type { Renderer } from '../render/renderer.js';
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { DiskReserve } from '../store/disk-space.js';
import type { LoadedConfig } from '../config/load.js';
import type { OutageMonitor } from '../outage/monitor.js';
import type { PrinterStatusCache } from '../print/status-cache.js';
import type { Language } from '../render/i18n.js';
import { formatDateTime } from '../render/i18n.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { formatAge } from '../schedule/status.js';
import type { PageRenderer } from './pages.js';
import type { AuditAction } from '../audit/log.js';
import type { SnapshotRow } from '../store/snapshots.js';

export interface WebDeps {
  config: () => LoadedConfig;
  db: Db;
  blobs: BlobStore;
  log: Logger;
  runNow?: (jobId: string) => Promise<unknown>;
  /** Publish a job's paper again with the downtime entries just recorded (scheduler applyEntries). */
  applyEntries?: (jobId: string) => void;
  /** File downtime entries back to the HIS (fileback/file-back.ts), with this server's sources. */
  fileBack?: (opts: { jobId?: string; patient?: string }) => Promise<FileBackReport>;
  outage?: OutageMonitor;
  printers?: PrinterStatusCache;
  kickPrinter?: () => void;
  now?: () => Date;
  /** Only with the embedded demo HIS: take it down and up from the IT page. */
  demoOutage?: { down(): boolean; set(down: boolean): void };
  /** Draws printer test pages; this thread when not given. */
  renderer?: Renderer;
  /** The data disk's reserve (serve): looked at as requests come, released when the disk is nearly full. */
  reserve?: DiskReserve;
}

export interface WebContext extends WebDeps {
  pages: PageRenderer;
  /** Write one audit row for this request's user. Subjects are addresses and ids, never names or search text. */
  audit: (req: FastifyRequest, action: AuditAction, subject: string | null, detail?: Record<string, unknown>, actor?: string) => void;
  /** Audit rows held in memory while the disk is full. */
  auditHeld: () => number;
}

/**
 * Language switch: ?lang=vi|en on any page (the login page included) stores
 * the choice in a cookie for the next pages and the sign-in that follows.
 */
export function rememberLang(req: FastifyRequest, reply: FastifyReply): void {
  const l = (req.query as Record<string, unknown> | undefined)?.lang;
  if (l === 'vi' || l === 'en') {
    reply.setCookie('lang', l, { path: '/', sameSite: 'lax', httpOnly: true, maxAge: 365 * 86400 });
    (req.cookies as Record<string, string>).lang = l;
  }
}

export function langOf(req: FastifyRequest, ctx: WebContext): Language {
  const c = (req.cookies as Record<string, string | undefined> | undefined)?.lang;
  return c === 'vi' || c === 'en' ? c : ctx.config().box.language;
}

/**
 * CSRF token. Signed in: derived from the session's own secret token, so it
 * belongs to that session alone and changes at every sign-in (a token seen
 * before sign-in, or lifted from another session, is worthless). Before
 * sign-in (the login form): a random double-submit value. Either way it is
 * also set as the SameSite=Strict, HttpOnly cookie pb_csrf, which API
 * clients echo as X-CSRF-Token, and repeated in every form.
 */
export const sessionCsrf = (sessionToken: string): string => crypto.createHash('sha256').update(`pb-csrf|${sessionToken}`).digest('base64url');

const setCsrfCookie = (req: FastifyRequest, reply: FastifyReply, token: string) =>
  reply.setCookie('pb_csrf', token, { path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });

const sessionCookie = (req: FastifyRequest) => (req.session ? (req.cookies as Record<string, string | undefined>).pb_session : undefined);

export function csrfToken(req: FastifyRequest, reply: FastifyReply): string {
  const memo = req as FastifyRequest & { csrf?: string };
  if (memo.csrf) return memo.csrf;
  const cookie = (req.cookies as Record<string, string | undefined>).pb_csrf;
  const session = sessionCookie(req);
  let token = session ? sessionCsrf(session) : cookie;
  if (!token || !/^[A-Za-z0-9_-]{32,}$/.test(token)) token = crypto.randomBytes(24).toString('base64url');
  if (token !== cookie) setCsrfCookie(req, reply, token);
  memo.csrf = token;
  return token;
}

/** A new session's token, set with the session cookie: the next form or API call uses it. */
export function startSessionCsrf(req: FastifyRequest, reply: FastifyReply, sessionToken: string): void {
  setCsrfCookie(req, reply, sessionCsrf(sessionToken));
}

export function checkCsrf(req: FastifyRequest): boolean {
  const session = sessionCookie(req);
  const expected = session ? sessionCsrf(session) : (req.cookies as Record<string, string | undefined>).pb_csrf;
  const body = req.body as Record<string, unknown> | undefined;
  const sent = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? (req.headers['x-csrf-token'] as string | undefined);
  if (!expected || !sent || expected.length !== sent.length) return false;
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(sent));
}

/** The banner every page carries: HIS state, in words that cannot be missed. */
export function bannerFor(ctx: WebContext, lang: Language): { kind: string; title: string; detail: string; alert: boolean } | null {
  const st = ctx.outage?.status();
  if (!st) return null;
  const t = ctx.pages.t(lang);
  const tz = ctx.config().box.timeZone;
  if (st.downtime) {
    const since = formatDateTime(st.downtime.startedAt, tz) ?? st.downtime.startedAt;
    if (st.downtime.kind === 'planned') return { kind: 'planned', title: t('ui.banner.planned'), detail: `${t('ui.banner.down', { since })} ${t('ui.banner.downDetail')}`, alert: true };
    return { kind: 'down', title: t('ui.banner.down', { since }), detail: t('ui.banner.downDetail'), alert: true };
  }
  if (st.box === 'degraded' || st.box === 'recovering') return { kind: 'degraded', title: t('ui.banner.degraded'), detail: '', alert: false };
  return { kind: 'online', title: t('ui.banner.online'), detail: '', alert: false };
}

export function freshnessFor(ctx: WebContext, lang: Language, snapshot: SnapshotRow | null, maxAgeMinutes: number): { text: string; stale: boolean } {
  const t = ctx.pages.t(lang);
  if (!snapshot?.asOf) return { text: t('ui.noSnapshot'), stale: true };
  const now = (ctx.now ?? (() => new Date()))();
  const age = Math.max(0, Math.round((now.getTime() - Date.parse(snapshot.asOf)) / 1000));
  const stale = age > maxAgeMinutes * 60;
  const time = formatDateTime(snapshot.asOf, ctx.config().box.timeZone) ?? snapshot.asOf;
  return { text: t(stale ? 'ui.asOfStale' : 'ui.asOf', { time, age: formatAge(age), limit: maxAgeMinutes }), stale };
}

export function layoutFor(req: FastifyRequest, ctx: WebContext, lang: Language, current: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const session = req.session;
  const isAdmin = session?.role === 'admin';
  const t = ctx.pages.t(lang);
  const cfg = ctx.config();
  const firstJob = [...cfg.jobs.keys()][0];
  const other: Language = lang === 'vi' ? 'en' : 'vi';
  const url = new URL(req.url, 'http://x');
  url.searchParams.set('lang', other);
  return {
    site: cfg.box.site.name,
    nav: [
      { href: firstJob ? `/ward/${firstJob}` : '/', label: t('ui.census'), current: current === 'census' },
      { href: firstJob ? `/ward/${firstJob}/forms` : '/', label: t('ui.forms.title'), current: current === 'forms' },
      { href: '/print-jobs', label: t('ui.printJobs'), current: current === 'print-jobs' },
      ...(isAdmin ? [{ href: '/admin', label: t('ui.admin.nav'), current: current === 'admin' }] : []),
    ],
    user: session ? { name: session.actor, breakGlass: session.auth === 'break-glass', csrf: (req as FastifyRequest & { csrf?: string }).csrf ?? '' } : null,
    langSwitch: { href: `${url.pathname}${url.search}`, lang: other, label: other === 'vi' ? 'Tiếng Việt' : 'English' },
    banner: bannerFor(ctx, lang),
    ...extra,
  };
}
