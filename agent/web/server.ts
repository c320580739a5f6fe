import fs from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BlobIntegrityError } from '../store/blobs.js';
import { listArtifacts, currentSnapshot } from '../store/snapshots.js';
import { jobStatuses } from '../schedule/status.js';
import { listPrintJobs } from '../print/queue.js';
import { DOCUMENT_CSS } from '../render/html.js';
import { getDowntime } from '../outage/downtime.js';
import { metricsRegistry } from './metrics.js';
import { pageRenderer } from './pages.js';
import type { WebContext, WebDeps } from './context.js';
import { registerWardRoutes } from './routes-ward.js';
import { registerPrintRoutes } from './routes-print.js';
import { registerLabelRoutes } from './routes-labels.js';
import { registerEntryRoutes } from './routes-entries.js';
import { registerReconcileRoutes } from './routes-reconcile.js';
import { registerAdminRoutes } from './routes-admin.js';
import { registerApiRoutes } from './routes-api.js';
import { auditFor, registerAuth } from './auth.js';
import { heldAudit } from '../audit/held.js';
import { isDiskFull } from '../store/disk-space.js';
import { registerAuditRoutes } from './routes-audit.js';
import { readableDocument } from './ward-data.js';
import { errorFields } from '../log/errors.js';

export type { WebDeps } from './context.js';

const ADDRESS = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){0,3}$/;

/**
 * The ward box's web server: pages for nurses and IT, the JSON API, documents,
 * health and metrics. Request logs carry the route pattern, never the URL
 * (which can hold an MRN or a search for a name).
 */
/** Every route the server registered (method and pattern), for the test that each has its rules in route-rules.ts. */
export const registeredRoutes = (app: FastifyInstance): { method: string; url: string }[] => (app as unknown as { registeredRoutes: { method: string; url: string }[] }).registeredRoutes;

export async function buildWebServer(deps: WebDeps): Promise<FastifyInstance> {
  const tlsFiles = deps.config().box.web.tls;
  const https = tlsFiles
    ? { cert: fs.readFileSync(path.resolve(deps.config().dir, tlsFiles.certFile)), key: fs.readFileSync(path.resolve(deps.config().dir, tlsFiles.keyFile)), minVersion: 'TLSv1.2' as const }
    : null;
  const app = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: deps.log.child({ room: 'web' }) as unknown as FastifyBaseLogger,
    // Fastify's own request lines carry the URL, which can hold an MRN: off; we log the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
  }) as unknown as FastifyInstance;
  const registered: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) registered.push({ method, url: r.url });
  });
  app.decorate('registeredRoutes', registered);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  const templatesDir = deps.config().templatesDir;
  // Looked at no more than once a second: a statfs is cheap, but the page can take hundreds of requests a second.
  let reserveLookedAt = 0;
  const lookAtDisk = () => {
    if (!deps.reserve || Date.now() - reserveLookedAt < 1000) return;
    reserveLookedAt = Date.now();
    deps.reserve.check();
  };
  const held = heldAudit(deps.db, { log: deps.log, beforeWrite: lookAtDisk, onFull: () => deps.reserve?.check() });
  const ctx: WebContext = { ...deps, pages: pageRenderer(templatesDir), audit: auditFor(deps, (e, at) => held.append(e, at)), auditHeld: () => held.held() };
  // Rows held while the disk was full are written as soon as there is room, not only with the next audited request.
  app.addHook('onRequest', async () => {
    lookAtDisk();
    held.retry();
  });
  const who = (req: FastifyRequest) => req.session?.actor ?? 'anonymous';
  const tls = !!deps.config().box.web.tls;

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    // One script of our own (live.js, the banner of an open page) and its polls to this box; nothing else.
    reply.header('content-security-policy', "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (tls) reply.header('strict-transport-security', 'max-age=31536000');
    // Nothing this box serves may sit in a shared or browser cache unless it says so itself (the static files).
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((e, req, reply) => {
    const err = e as Error & { statusCode?: number };
    if (isDiskFull(err)) {
      req.log.error({ route: req.routeOptions.url }, 'request refused: the data disk is full');
      deps.reserve?.check();
      return reply.code(507).type('text/plain; charset=utf-8').send('The box’s disk is full, so this cannot be saved now (sign-in, print requests). Pages and PDFs already here still open: print a PDF from the browser. Tell IT to free space on the box.');
    }
    req.log.error({ err: errorFields(err), route: req.routeOptions.url }, 'request failed');
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).type('text/plain; charset=utf-8').send(status === 500 ? 'Something went wrong on this box. The error is in the log; the printed copies and PDFs are unaffected.' : err.message);
  });

  registerAuth(app, ctx);
  app.get('/healthz', async () => ({ ok: true }));

  const css = `${fs.readFileSync(path.join(templatesDir, 'web', 'style.css'), 'utf8')}\n${DOCUMENT_CSS}`;
  app.get('/static/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(css));
  const liveJs = fs.readFileSync(path.join(templatesDir, 'web', 'live.js'), 'utf8');
  app.get('/static/live.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(liveJs));

  // Public for monitoring: without a session it says that a downtime runs and since when, not who declared it or why.
  app.get('/api/status', async (req) => {
    const outage = deps.outage?.status() ?? null;
    const shown = outage && !req.session && outage.downtime ? { ...outage, downtime: { id: outage.downtime.id, kind: outage.downtime.kind, startedAt: outage.downtime.startedAt, endedAt: outage.downtime.endedAt } } : outage;
    return { box: deps.config().box.box.id, jobs: jobStatuses(deps.config(), deps.db), outage: shown, readiness: deps.outage?.readiness() ?? null };
  });
  app.get('/api/readiness', async (_req, reply) => {
    if (!deps.outage) return reply.code(503).send({ error: 'the outage monitor is not running' });
    const r = deps.outage.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get('/api/print-jobs', async () => ({ jobs: listPrintJobs(deps.db, { limit: 100 }) }));
  app.get<{ Params: { job: string } }>('/api/jobs/:job/documents', async (req, reply) => {
    const job = deps.config().jobs.get(req.params.job);
    if (!job) return reply.code(404).send({ error: `no job "${req.params.job}"` });
    const cur = currentSnapshot(deps.db, job.id);
    if (!cur) return reply.code(404).send({ error: `job "${job.id}" has no snapshot yet` });
    return {
      job: job.id,
      snapshotId: cur.id,
      asOf: cur.asOf,
      documents: listArtifacts(deps.db, cur.id, 'document').map((a) => ({ address: `${job.id}/${a.address}`, title: a.title, pages: a.pages, size: a.size, url: `/documents/${job.id}/${a.address}.pdf` })),
    };
  });
  app.post<{ Params: { job: string } }>('/api/jobs/:job/run', async (req, reply) => {
    if (!deps.runNow) return reply.code(503).send({ error: 'this server does not run jobs' });
    if (!deps.config().jobs.has(req.params.job)) return reply.code(404).send({ error: `no job "${req.params.job}"` });
    ctx.audit(req, 'job-run', req.params.job, { api: true });
    return deps.runNow(req.params.job);
  });

  const registry = metricsRegistry({ config: deps.config, db: deps.db, outage: deps.outage ? () => deps.outage!.status() : undefined, readiness: deps.outage ? () => deps.outage!.readiness() : undefined, printers: deps.printers, auditHeld: () => held.held(), reserve: deps.reserve });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

  app.get<{ Params: { job: string; '*': string }; Querystring: { download?: string } }>('/documents/:job/*', async (req, reply) => {
    const job = deps.config().jobs.get(req.params.job);
    const address = req.params['*'].replace(/\.pdf$/, '');
    // Addresses are a fixed shape; anything else (.., %2f, absolute paths) is simply not a document.
    if (!job || !ADDRESS.test(address) || address.split('/').includes('..')) return reply.code(404).type('text/plain; charset=utf-8').send('no such document');
    try {
      const doc = readableDocument(deps.db, deps.blobs, job.id, address);
      if (!doc) return reply.code(404).type('text/plain; charset=utf-8').send('no such document');
      if (doc.fallback) req.log.error({ artifact: doc.artifact.id }, 'the current copy failed its integrity check; an earlier snapshot\'s copy is served');
      const disposition = req.query.download ? 'attachment' : 'inline';
      ctx.audit(req, req.query.download ? 'download' : 'view', `${job.id}/${address}`, { snapshot: doc.snapshot.id, ...(doc.fallback ? { integrityFallback: true } : {}) });
      return reply.type('application/pdf').header('content-disposition', `${disposition}; filename="${job.id}-${address.replace(/\//g, '-')}.pdf"`).header('cache-control', 'no-store').send(doc.pdf);
    } catch (err) {
      if (err instanceof BlobIntegrityError) {
        req.log.error({ job: job.id }, 'document failed its integrity check in every snapshot kept; not served');
        return reply.code(500).type('text/plain; charset=utf-8').send('This document failed its integrity check and is not served. Run `paperback verify` and take a new snapshot.');
      }
      throw err;
    }
  });

  app.get('/downtimes/:id/summary.pdf', async (req, reply) => {
    const id = z.coerce.number().int().positive().safeParse((req.params as { id: string }).id);
    const dt = id.success ? getDowntime(deps.db, id.data) : null;
    if (!dt?.summarySha256) return reply.code(404).type('text/plain; charset=utf-8').send('no summary for this downtime (yet)');
    ctx.audit(req, 'view', `downtime/${dt.id}/summary`);
    return reply.type('application/pdf').header('cache-control', 'no-store').send(deps.blobs.get(dt.summarySha256));
  });

  registerWardRoutes(app, ctx);
  registerPrintRoutes(app, ctx, who);
  registerLabelRoutes(app, ctx, who);
  registerEntryRoutes(app, ctx, who);
  registerReconcileRoutes(app, ctx, who);
  registerAdminRoutes(app, ctx, who);
  registerApiRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  return app;
}
