import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { BlobStore } from '../store/blobs.js';
import { BlobIntegrityError } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { currentSnapshot, getArtifact, listArtifacts } from '../store/snapshots.js';
import { jobStatuses, formatAge } from '../schedule/status.js';
import type { OutageMonitor } from '../outage/monitor.js';
import type { PrinterStatusCache } from '../print/status-cache.js';
import { listPrintJobs } from '../print/queue.js';
import { metricsRegistry } from './metrics.js';

export interface WebDeps {
  config: () => LoadedConfig;
  db: Db;
  blobs: BlobStore;
  log: Logger;
  runNow?: (jobId: string) => Promise<unknown>;
  outage?: OutageMonitor;
  printers?: PrinterStatusCache;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The ward box's web server. Routes never take patient data in the URL beyond
 * the document address (MRN-keyed), and request logs carry no query strings.
 */
export async function buildWebServer(deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ room: 'web' }) as unknown as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: 64 * 1024,
  });
  app.addHook('onResponse', async (req, reply) => {
    // Method, route pattern and status only: never the URL, which can hold an MRN.
    req.log.info({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/api/status', async () => ({ box: deps.config().box.box.id, jobs: jobStatuses(deps.config(), deps.db), outage: deps.outage?.status() ?? null, readiness: deps.outage?.readiness() ?? null }));

  app.get('/api/readiness', async (_req, reply) => {
    if (!deps.outage) return reply.code(503).send({ error: 'the outage monitor is not running' });
    const r = deps.outage.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });

  app.get('/api/print-jobs', async () => ({ jobs: listPrintJobs(deps.db, { limit: 100 }) }));

  const registry = metricsRegistry({ config: deps.config, db: deps.db, outage: deps.outage ? () => deps.outage!.status() : undefined, readiness: deps.outage ? () => deps.outage!.readiness() : undefined, printers: deps.printers });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

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
    const outcome = await deps.runNow(req.params.job);
    return outcome;
  });

  app.get<{ Params: { job: string; '*': string } }>('/documents/:job/*', async (req, reply) => {
    const job = deps.config().jobs.get(req.params.job);
    const address = req.params['*'].replace(/\.pdf$/, '');
    if (!job || !/^[A-Za-z0-9._/-]+$/.test(address) || address.includes('..')) return reply.code(404).send({ error: 'no such document' });
    const cur = currentSnapshot(deps.db, job.id);
    const art = cur ? getArtifact(deps.db, cur.id, address) : null;
    if (!art || art.kind !== 'document') return reply.code(404).send({ error: 'no such document' });
    try {
      const pdf = deps.blobs.get(art.sha256);
      return reply.type('application/pdf').header('content-disposition', `inline; filename="${job.id}-${address.replace(/\//g, '-')}.pdf"`).header('cache-control', 'no-store').send(pdf);
    } catch (err) {
      if (err instanceof BlobIntegrityError) {
        req.log.error({ artifact: art.id }, 'artifact failed its integrity check; not served');
        return reply.code(500).send({ error: 'this document failed its integrity check and is not served; run `paperback verify` and take a new snapshot' });
      }
      throw err;
    }
  });

  // A plain landing page until the ward page (issue 7) replaces it.
  app.get('/', async (_req, reply) => {
    const cfg = deps.config();
    const rows = jobStatuses(cfg, deps.db)
      .map((j) => {
        const docs = j.current ? listArtifacts(deps.db, j.current.snapshotId, 'document') : [];
        const links = docs.map((d) => `<li><a href="/documents/${esc(j.id)}/${esc(d.address)}.pdf">${esc(d.title)} ${d.patientKey ? esc(d.patientKey) : ''}</a></li>`).join('');
        return `<section><h2>${esc(j.title)}</h2><p>Data as of ${esc(j.current?.asOf ?? 'never')} (${esc(formatAge(j.current?.ageSeconds ?? null))} old)${j.current?.stale ? ' — <strong>STALE</strong>' : ''}</p><ul>${links}</ul></section>`;
      })
      .join('');
    const st = deps.outage?.status();
    const banner = st?.downtime
      ? `<p style="background:#b00000;color:#fff;padding:1em;font-size:1.3em"><strong>HIS DOWN since ${esc(st.downtime.startedAt)}</strong> — ${esc(st.downtime.cause)}. Work from the printed downtime copies.</p>`
      : st
        ? `<p>HIS: <strong>${esc(st.box)}</strong></p>`
        : '';
    const failed = listPrintJobs(deps.db, { states: ['failed'], limit: 20 });
    const failedHtml = failed.length ? `<section><h2>Print jobs that failed</h2><ul>${failed.map((f) => `<li>${esc(f.address)} on ${esc(f.currentPrinterId)}: ${esc(f.error ?? '')}</li>`).join('')}</ul></section>` : '';
    return reply.type('text/html; charset=utf-8').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Paperback — ${esc(cfg.box.site.name)}</title></head><body><h1>Paperback — ${esc(cfg.box.site.name)}</h1>${banner}${rows}${failedHtml}</body></html>`);
  });

  return app;
}
