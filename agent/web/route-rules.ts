import type { AuditAction } from '../audit/log.js';

/**
 * Every route's rules in one table: who may use it, and for a request that
 * changes state, the audit action it leaves and how a refused CSRF token is
 * answered. The hooks in auth.ts apply them to every request; a test lists
 * every route fastify registered and fails on one missing here, so a new
 * route cannot slip in without deciding its rules.
 */
export type Access = 'public' | 'signed-in' | 'admin';

export interface RouteRule {
  access: Access;
  /** State-changing routes: what the audit log records (the route's own row, or the hook's if the route wrote none). */
  audit?: AuditAction;
  /** How a state-changing request without a valid CSRF token is refused: the login page again, JSON, or a plain page. */
  refusal?: 'login-page' | 'json' | 'text';
}

const GET = (access: Access): RouteRule => ({ access });

export const ROUTES: Readonly<Record<string, RouteRule>> = {
  // Health and monitoring without patient data, the login page, and the open page's banner poll.
  'GET /healthz': GET('public'),
  'GET /metrics': GET('public'),
  'GET /api/readiness': GET('public'),
  'GET /api/status': GET('public'),
  'GET /api/live/:job': GET('public'),
  'GET /static/style.css': GET('public'),
  'GET /static/live.js': GET('public'),
  'GET /login': GET('public'),
  'POST /login': { access: 'public', audit: 'login', refusal: 'login-page' },
  'POST /break-glass': { access: 'public', audit: 'break-glass', refusal: 'login-page' },
  'POST /logout': { access: 'signed-in', audit: 'logout', refusal: 'text' },
  // Ward staff.
  'GET /': GET('signed-in'),
  'GET /ward/:job': GET('signed-in'),
  'GET /ward/:job/forms': GET('signed-in'),
  'GET /ward/:job/patient/:key': GET('signed-in'),
  'GET /documents/:job/*': GET('signed-in'),
  'GET /downtimes/:id/summary.pdf': GET('signed-in'),
  'GET /print': GET('signed-in'),
  'POST /print': { access: 'signed-in', audit: 'print', refusal: 'text' },
  'GET /print-jobs': GET('signed-in'),
  'GET /print-jobs/:id': GET('signed-in'),
  'GET /api/wards/:job/census': GET('signed-in'),
  'GET /api/wards/:job/patients/:key': GET('signed-in'),
  'GET /api/jobs/:job/documents': GET('signed-in'),
  'GET /api/outage': GET('signed-in'),
  'GET /api/print-jobs': GET('signed-in'),
  'GET /api/print-jobs/:id': GET('signed-in'),
  'GET /api/printers': GET('signed-in'),
  'POST /api/print': { access: 'signed-in', audit: 'print', refusal: 'json' },
  'GET /ward/:job/labels': GET('signed-in'),
  'POST /ward/:job/labels': { access: 'signed-in', audit: 'label-print', refusal: 'text' },
  'GET /ward/:job/admit': GET('signed-in'),
  'POST /ward/:job/admit': { access: 'signed-in', audit: 'downtime-admission', refusal: 'text' },
  'GET /ward/:job/patient/:key/record': GET('signed-in'),
  'POST /ward/:job/patient/:key/record': { access: 'signed-in', audit: 'downtime-entry', refusal: 'text' },
  'GET /ward/:job/entries': GET('signed-in'),
  'GET /ward/:job/entries/back-entry.pdf': GET('signed-in'),
  'GET /ward/:job/entries/back-entry.csv': GET('signed-in'),
  'POST /ward/:job/entries/:id/resolve': { access: 'signed-in', audit: 'entry-resolved', refusal: 'text' },
  'POST /ward/:job/entries/fileback': { access: 'admin', audit: 'entries-filed', refusal: 'text' },
  // IT administrators.
  'GET /admin': GET('admin'),
  'GET /api/admin': GET('admin'),
  'GET /audit.csv': GET('admin'),
  'GET /api/audit': GET('admin'),
  'POST /admin/jobs/:job/run': { access: 'admin', audit: 'job-run', refusal: 'text' },
  'POST /api/jobs/:job/run': { access: 'admin', audit: 'job-run', refusal: 'json' },
  'POST /admin/jobs/:job/accept-census': { access: 'admin', audit: 'census-accepted', refusal: 'text' },
  'POST /admin/printers/:id/test': { access: 'admin', audit: 'printer-test', refusal: 'text' },
  'POST /admin/downtime/start': { access: 'admin', audit: 'downtime-declared', refusal: 'text' },
  'POST /admin/downtime/end': { access: 'admin', audit: 'downtime-ended', refusal: 'text' },
  'POST /admin/demo/outage': { access: 'admin', audit: 'demo-outage', refusal: 'text' },
};

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The rule for a registered route; HEAD follows its GET. Unknown routes (404s) need a session, like the rest. */
export function ruleFor(method: string, url: string | undefined): RouteRule {
  if (!url) return { access: 'signed-in' };
  return ROUTES[`${method === 'HEAD' ? 'GET' : method} ${url}`] ?? { access: 'signed-in' };
}
