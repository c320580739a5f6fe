import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditAction, AuditEntry } from '../audit/log.js';
import { breakGlassConfigured, checkBreakGlassCode, cleanTypedName } from '../auth/break-glass.js';
import { authenticate } from '../auth/login.js';
import { loginLimiter } from '../auth/rate-limit.js';
import { createSession, endSession, lookupSession, type Session, type SessionPolicy } from '../auth/sessions.js';
import { checkCsrf, csrfToken, langOf, layoutFor, rememberLang, startSessionCsrf, type WebContext } from './context.js';
import { ruleFor, SAFE_METHODS } from './route-rules.js';
import { takeUnlock } from '../auth/unlock.js';

declare module 'fastify' {
  interface FastifyRequest {
    session: Session | null;
  }
}

export const SESSION_COOKIE = 'pb_session';

/** Reachable without a session: health, monitoring without patient data, the login page itself. */
/** An open page's banner poll: no patient data, and it must not keep an unattended session alive. */
export const LIVE_ROUTE = '/api/live/:job';

/** Requests whose route wrote an audit row: a state change that wrote none gets the hook's (see registerAuth). */
const audited = new WeakSet<FastifyRequest>();

/** Only same-site paths are followed after login, never "//evil" or "https://…". */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(next) && next.length < 300 ? next : '/';
}

/**
 * The web's audit writer. A page view or download is written once per user,
 * document and minute: a nurse's browser polling or reloading a page does not
 * cost a row (and an fsync) each time, and the log still says who looked at
 * what, when. `write` is where rows go (the held writer in serve: a full disk
 * holds rows rather than failing the request).
 */
export function auditFor(ctx: Pick<WebContext, 'now'>, write: (e: AuditEntry, at: Date) => void) {
  let minute = '';
  const seen = new Set<string>();
  return (req: FastifyRequest, action: AuditAction, subject: string | null, detail?: Record<string, unknown>, actor?: string) => {
    audited.add(req);
    const at = (ctx.now ?? (() => new Date()))();
    const who = actor ?? req.session?.actor ?? 'anonymous';
    if (action === 'view' || action === 'download') {
      const m = at.toISOString().slice(0, 16);
      if (m !== minute) {
        minute = m;
        seen.clear();
      }
      const key = JSON.stringify([who, action, subject, detail ?? null]);
      if (seen.has(key)) return;
      seen.add(key);
    }
    write({ actor: who, action, subject, detail: { ip: req.ip, ...detail } }, at);
  };
}

export function registerAuth(app: FastifyInstance, ctx: WebContext): void {
  const cfg = () => ctx.config().box;
  const policy = (): SessionPolicy => ({ idleMinutes: cfg().web.sessionIdleMinutes, maxHours: cfg().web.sessionMaxHours });
  const secure = () => !!cfg().web.tls;
  const now = () => (ctx.now ?? (() => new Date()))();
  const audit = ctx.audit;
  // Per user name at the configured limit; per address much higher, because a whole
  // ward shares one PC and one nurse's typos must not lock out her colleagues.
  const limiter = loginLimiter({ maxFailures: cfg().auth.maxFailures, lockoutMinutes: cfg().auth.lockoutMinutes });
  const ipLimiter = loginLimiter({ maxFailures: Math.max(20, cfg().auth.maxFailures * 4), lockoutMinutes: cfg().auth.lockoutMinutes });
  // The ward code is one secret for the whole box: guesses are counted box-wide too, so many
  // addresses cannot share the work of guessing it.
  const codeLimiter = loginLimiter({ maxFailures: Math.max(30, cfg().auth.maxFailures * 6), lockoutMinutes: cfg().auth.lockoutMinutes });
  const downtimeActive = () => ctx.outage?.downtimeActive() ?? false;

  app.decorateRequest('session', null);

  /** A refusal as a page in the visitor's language, with the way on: never a bare line of English text. */
  const refusalPage = (req: FastifyRequest, reply: FastifyReply, status: number, key: 'forbidden' | 'formExpired') => {
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const home = req.session?.role === 'admin' ? '/admin' : '/';
    const view = { title: t(`ui.refused.${key}.title`), text: t(`ui.refused.${key}.text`), href: key === 'formExpired' ? safeNext(req.headers.referer ? new URL(req.headers.referer, 'http://x').pathname : '/') : home, link: t(`ui.refused.${key}.link`) };
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(ctx.pages.render('message', view, { lang, title: view.title, layout: layoutFor(req, ctx, lang, '') }));
  };

  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    if (route === LIVE_ROUTE) return;
    if (req.method === 'GET') rememberLang(req, reply);
    const token = (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE];
    const found = lookupSession(ctx.db, token, policy(), now());
    if (found.ok && found.session.auth === 'break-glass' && ctx.outage && !downtimeActive()) {
      // Emergency access is for the downtime: it ends with it, whatever its idle and hard limits say.
      endSession(ctx.db, token);
      audit(req, 'session-expired', null, { reason: 'downtime-ended' }, found.session.actor);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
    } else if (found.ok) req.session = found.session;
    else if (found.reason === 'idle' || found.reason === 'expired') {
      audit(req, 'session-expired', null, { reason: found.reason }, found.actor ?? 'anonymous');
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
    }
    // Every signed-in page carries a sign-out form, which needs the CSRF token.
    if (req.session) csrfToken(req, reply);
    const rule = ruleFor(req.method, route);
    if (!route || rule.access === 'public') return;
    if (!req.session) {
      if (route.startsWith('/api/') || req.method !== 'GET') return reply.code(401).type('application/json').send({ error: 'sign in first', login: '/login' });
      const reason = found.ok ? '' : found.reason === 'idle' || found.reason === 'expired' ? '&expired=1' : '';
      return reply.redirect(`/login?next=${encodeURIComponent(safeNext(req.url))}${reason}`, 303);
    }
    if (rule.access === 'admin' && req.session.role !== 'admin') {
      audit(req, 'view', route, { refused: 'not an admin' });
      if (route.startsWith('/api/')) return reply.code(403).send({ error: 'this is for IT administrators' });
      return refusalPage(req, reply, 403, 'forbidden');
    }
  });

  // One place for CSRF: every state-changing request carries the token, whatever route it is for.
  app.addHook('preHandler', async (req, reply) => {
    if (SAFE_METHODS.has(req.method) || !req.routeOptions.url || checkCsrf(req)) return;
    const rule = ruleFor(req.method, req.routeOptions.url);
    if (rule.refusal === 'login-page') return loginPage(req, reply, 403, ctx.pages.t(langOf(req, ctx))('ui.login.formExpired'));
    if (rule.refusal === 'json' || req.routeOptions.url.startsWith('/api/')) return reply.code(403).send({ error: 'missing or wrong CSRF token (send the pb_csrf cookie value as X-CSRF-Token)' });
    return refusalPage(req, reply, 403, 'formExpired');
  });

  // Every state change is audited: a route that changed state and wrote no row of its own gets one here.
  app.addHook('onResponse', async (req, reply) => {
    if (SAFE_METHODS.has(req.method) || !req.routeOptions.url || reply.statusCode >= 400 || audited.has(req)) return;
    const rule = ruleFor(req.method, req.routeOptions.url);
    ctx.log.error({ room: 'web', route: req.routeOptions.url }, 'a state-changing route wrote no audit row; the hook wrote one');
    audit(req, rule.audit ?? 'config-change', req.routeOptions.url, { by: 'route-hook', status: reply.statusCode });
  });

  const loginPage = (req: FastifyRequest, reply: FastifyReply, status: number, message: string | null) => {
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const q = req.query as Record<string, string | undefined>;
    const next = safeNext(q.next ?? (req.body as Record<string, unknown> | undefined)?.next);
    const view = {
      csrf: csrfToken(req, reply),
      next,
      message: message ?? (q.expired ? t('ui.login.expired') : null),
      breakGlass: downtimeActive() && breakGlassConfigured(ctx.db),
    };
    const layout = { ...layoutFor(req, ctx, lang, 'login'), nav: [], user: null };
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(ctx.pages.render('login', view, { lang, title: t('ui.login.title'), layout }));
  };

  app.get('/login', async (req, reply) => loginPage(req, reply, 200, null));

  const start = (req: FastifyRequest, reply: FastifyReply, s: { actor: string; role: 'nurse' | 'admin'; auth: 'local' | 'ldap' | 'break-glass' }, next: string) => {
    // A fresh token at every login: a token planted before login is worthless after it.
    endSession(ctx.db, (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE]);
    const token = createSession(ctx.db, s, policy(), now());
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(), maxAge: policy().maxHours * 3600 });
    startSessionCsrf(req, reply, token);
    // An admin with nowhere particular to go lands on the IT page; a nurse on the ward.
    return reply.redirect(next === '/' && s.role === 'admin' ? '/admin' : next, 303);
  };

  const loginBody = z.object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(200), next: z.string().max(300).optional(), _csrf: z.string() });

  app.post('/login', async (req, reply) => {
    const t = ctx.pages.t(langOf(req, ctx));
    const body = loginBody.safeParse(req.body);
    if (!body.success) return loginPage(req, reply, 400, t('ui.login.failed'));
    const username = body.data.username.toLowerCase();
    const keys = [`user:${username}`];
    const ipKeys = [`ip:${req.ip}`];
    // IT ended this name's lockout from the command line (paperback user unlock).
    if (takeUnlock(ctx.db, username)) {
      limiter.succeed(keys);
      ipLimiter.succeed(ipKeys);
    }
    const wait = limiter.blocked(keys) ?? ipLimiter.blocked(ipKeys);
    if (wait !== null) {
      audit(req, 'login-failed', null, { why: 'locked out' }, username);
      return loginPage(req, reply, 429, t('ui.login.locked', { minutes: Math.ceil(wait / 60) }));
    }
    const r = await authenticate({ config: ctx.config(), db: ctx.db, log: ctx.log }, username, body.data.password);
    if (!r.ok) {
      limiter.fail(keys);
      ipLimiter.fail(ipKeys);
      audit(req, 'login-failed', null, { why: r.why }, username);
      return loginPage(req, reply, 401, t(r.why === 'no-group' ? 'ui.login.noGroup' : 'ui.login.failed'));
    }
    limiter.succeed(keys);
    audit(req, 'login', null, { role: r.role, auth: r.auth, ...(r.note ? { note: r.note } : {}) }, r.actor);
    return start(req, reply, r, safeNext(body.data.next));
  });

  const breakGlassBody = z.object({ name: z.string().max(200), code: z.string().min(1).max(64), next: z.string().max(300).optional(), _csrf: z.string() });

  app.post('/break-glass', async (req, reply) => {
    const t = ctx.pages.t(langOf(req, ctx));
    const body = breakGlassBody.safeParse(req.body);
    const name = body.success ? cleanTypedName(body.data.name) : null;
    if (!body.success || !name) return loginPage(req, reply, 400, t('ui.breakGlass.needName'));
    if (!downtimeActive()) return loginPage(req, reply, 403, t('ui.breakGlass.onlyInDowntime'));
    const keys = [`break-glass-ip:${req.ip}`];
    const wait = limiter.blocked(keys) ?? ipLimiter.blocked(keys) ?? codeLimiter.blocked(['break-glass-box']);
    if (wait !== null) return loginPage(req, reply, 429, t('ui.login.locked', { minutes: Math.ceil(wait / 60) }));
    if (!(await checkBreakGlassCode(ctx.db, body.data.code))) {
      limiter.fail(keys);
      codeLimiter.fail(['break-glass-box']);
      audit(req, 'login-failed', null, { why: 'wrong ward code' }, `break-glass:${name}`);
      return loginPage(req, reply, 401, t('ui.breakGlass.failed'));
    }
    const actor = `break-glass:${name}`;
    audit(req, 'break-glass', null, { downtime: ctx.outage?.status().downtime?.cause ?? null }, actor);
    return start(req, reply, { actor, role: 'nurse', auth: 'break-glass' }, safeNext(body.data.next));
  });

  app.post('/logout', async (req, reply) => {
    if (req.session) audit(req, 'logout', null);
    endSession(ctx.db, (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });
}
