import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { declareDowntime, endDeclaration, listDowntimes } from '../outage/downtime.js';
import { enqueuePrint, listPrintJobs } from '../print/queue.js';
import { inThreadRenderer, type Renderer } from '../render/renderer.js';
import { formatDateTime } from '../render/i18n.js';
import { jobStatuses, formatAge } from '../schedule/status.js';
import { csrfToken, langOf, layoutFor, type WebContext } from './context.js';
import { printJobWords } from './ward-data.js';
import { listAudit, verifyAuditChain, type AuditCheckpoint } from '../audit/log.js';
import type { Db } from '../store/db.js';
import { acceptanceDetail, acceptHeldCensus } from '../schedule/held-census.js';
import { blobRows } from '../store/blobs.js';

/**
 * Per store: where the IT page's last audit check ended well, and when the
 * last whole walk was. A row edited in place before the checkpoint is found
 * by the next whole walk: at least hourly here, always by `paperback verify`.
 */
const checkpoints = new WeakMap<Db, { checkpoint: AuditCheckpoint; wholeAt: number }>();
const WHOLE_WALK_MS = 60 * 60_000;

/** A one-page PDF that says which printer and box it came from, for testing a printer. */
async function testPage(renderer: Renderer, printerId: string, box: string, now: Date): Promise<Buffer> {
  const { pdf } = await renderer.pdf({
    size: 'A4',
    orientation: 'portrait',
    patient: null,
    metaTitle: `Test page ${printerId}`,
    stamp: { marking: 'PAPERBACK TEST PAGE', documentTitle: printerId, hospital: box, ward: printerId, footer: [`Printed ${now.toISOString()}`, 'No patient data on this page.'], pageLabel: 'Page {page} of {pages}', banner: null },
    blocks: [
      { type: 'heading', level: 1, text: `Test page for printer ${printerId}` },
      { type: 'text', text: 'If you can read this page, Paperback can print here. Vietnamese check: Nguyễn Thị Hồng · Bệnh viện Bạch Mai · ạ ễ ị ồ ặ ữ ư.' },
    ],
  });
  return pdf;
}

const seconds = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(1);

export function registerAdminRoutes(app: FastifyInstance, ctx: WebContext, who: (req: FastifyRequest) => string): void {
  const view = (req: FastifyRequest, csrf: string) => {
    const cfg = ctx.config();
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const tz = cfg.box.timeZone;
    const at = (iso: string | null | undefined) => (iso ? formatDateTime(iso, tz) ?? iso : '—');
    const runStatus = (s: string) => (['succeeded', 'failed', 'running', 'interrupted', 'held'].includes(s) ? t(`ui.admin.run.${s}`) : s);
    const st = ctx.outage?.status();
    const readiness = ctx.outage?.readiness();
    const transitions = ctx.db.prepare('SELECT at, scope, from_state AS "from", to_state AS "to", cause FROM outage_events ORDER BY id DESC LIMIT 15').all() as { at: string; scope: string; from: string; to: string; cause: string }[];
    return {
      csrf,
      ready: readiness?.ready ?? false,
      readyText: readiness ? t(readiness.ready ? 'ui.admin.ready' : 'ui.admin.notReady') : '—',
      checks: (readiness?.checks ?? []).map((c) => ({ name: c.name, ok: c.ok, text: t(c.say.key, { ...c.say.vars, ...Object.fromEntries(Object.entries(c.say.words ?? {}).map(([k, key]) => [k, t(key)])) }) })),
      downtime: st?.downtime ? `${at(st.downtime.startedAt)} · ${st.downtime.kind}: ${st.downtime.cause}` : '',
      declared: st?.downtime?.kind === 'declared',
      windows: cfg.box.outage.windows.map((w) => ('cron' in w ? `${w.title ?? w.id}: cron "${w.cron}" for ${w.durationMinutes} min` : `${w.title ?? w.id}: ${at(w.start)} – ${at(w.end)}`)),
      jobs: jobStatuses(cfg, ctx.db).map((j) => ({
        id: j.id,
        title: j.title,
        schedule: j.schedule,
        lastRun: j.lastRun ? `${runStatus(j.lastRun.status)} ${at(j.lastRun.endedAt ?? j.lastRun.startedAt)}${j.lastRun.error ? ` — ${j.lastRun.error}` : ''}` : '—',
        failed: j.lastRun?.status === 'failed' || j.lastRun?.status === 'held',
        held: j.held && { snapshot: j.held.snapshotId, text: t('ui.admin.heldBody', { snapshot: j.held.snapshotId, patients: j.held.patients ?? '?', asOf: at(j.held.asOf), reason: j.held.reason, current: j.current?.counts.patients ?? '?' }) },
        current: j.current ? `#${j.current.snapshotId}, ${at(j.current.asOf)} (${formatAge(j.current.ageSeconds)})` : '—',
        // Where the current snapshot's run spent its time, for IT deciding on schedules and hardware.
        cost: j.current?.counts.pullMs !== undefined ? `${t('ui.admin.runCost', { pull: seconds(j.current.counts.pullMs), render: seconds(j.current.counts.renderMs), store: seconds(j.current.counts.storeMs), rendered: j.current.counts.rendered ?? 0, documents: j.current.counts.documents ?? 0 })}${j.current.counts.pulledChangesOnly ? ` · ${t('ui.admin.changesOnly')}` : ''}` : null,
        stale: !j.current || j.current.stale,
        running: j.running,
        next: at(j.nextRun),
      })),
      printers: [...cfg.printers.values()].map((p) => {
        const s = ctx.printers?.get(p.id);
        return { id: p.id, name: p.name, uri: p.uri, state: !s ? '—' : !s.reachable ? s.error ?? 'unreachable' : `${s.state}${s.reasons.length ? `: ${s.reasons.join(', ')}` : ''}`, problem: !!s && (!s.reachable || s.state === 'stopped' || s.reasons.length > 0) };
      }),
      queue: (() => {
        const words = printJobWords(ctx.db, ctx.blobs, t);
        return listPrintJobs(ctx.db, { limit: 15 }).map((j) => {
          const w = words(j.address);
          return { id: j.id, title: w.title, who: w.who ?? '', printer: cfg.printers.get(j.currentPrinterId)?.name ?? j.currentPrinterId, state: t(`ui.state.${j.state}`), error: j.state === 'completed' ? '' : j.error ?? '', failed: j.state === 'failed' };
        });
      })(),
      sources: Object.entries(st?.sources ?? {}).map(([id, l]) => ({ id, state: l.state, error: l.state === 'online' ? '' : l.lastError ?? '' })),
      transitions: transitions.map((e) => ({ ...e, at: at(e.at) })),
      // Every downtime with its summary, newest first: what the insurance office and the ward need afterwards.
      downtimes: listDowntimes(ctx.db, 50).map((d) => ({ id: d.id, start: at(d.startedAt), end: d.endedAt ? at(d.endedAt) : t('ui.admin.ongoing'), kind: t(`downtime.kind.${d.kind}`), cause: d.cause, summary: d.summarySha256 ? `/downtimes/${d.id}/summary.pdf` : null })),
      demo: ctx.demoOutage ? { down: ctx.demoOutage.down() } : null,
      audit: (() => {
        // From the last good check: the page walks only rows added since (the CLI's verify walks them all).
        const last = checkpoints.get(ctx.db);
        const fresh = last && Date.now() - last.wholeAt < WHOLE_WALK_MS ? last : undefined;
        const chain = verifyAuditChain(ctx.db, { anchorFile: ctx.config().auditAnchorFile, archiveDir: ctx.config().auditArchiveDir, from: fresh?.checkpoint });
        if (chain.checkpoint) checkpoints.set(ctx.db, { checkpoint: chain.checkpoint, wholeAt: fresh?.wholeAt ?? Date.now() });
        else checkpoints.delete(ctx.db);
        const errors = chain.problems.filter((p) => p.severity === 'error');
        return {
          ok: errors.length === 0,
          status: errors.length === 0 ? [t('ui.admin.auditOk', { rows: chain.checked }), ...chain.problems.map((p) => p.what)].join('; ') : errors.map((p) => p.what).join('; '),
          rows: listAudit(ctx.db, { limit: 20 }).reverse().map((r) => ({ at: at(r.at), actor: r.actor, action: r.action, subject: r.subject ?? '', flagged: r.action === 'break-glass' || r.action === 'login-failed' || r.actor.startsWith('break-glass:') })),
        };
      })(),
    };
  };

  app.get('/admin', async (req, reply) => {
    const lang = langOf(req, ctx);
    const v = view(req, csrfToken(req, reply));
    // After "run now" (?run=JOB&at=ms), and while any job runs, the page refreshes itself: it shows the run
    // in progress, then its result. A run asked for but not started yet counts as running.
    const q = z.object({ run: z.string().max(100).optional(), at: z.coerce.number().optional() }).loose().safeParse(req.query);
    const asked = q.success && q.data.run && q.data.at ? { job: q.data.run, at: q.data.at } : null;
    const askedRow = asked ? v.jobs.find((j) => j.id === asked.job) : undefined;
    if (askedRow && asked) {
      const last = jobStatuses(ctx.config(), ctx.db).find((x) => x.id === asked.job)?.lastRun;
      if (!last || Date.parse(last.startedAt) < asked.at - 1000) askedRow.running = true;
    }
    const running = v.jobs.some((j) => j.running);
    const html = ctx.pages.render('admin', v, { lang, title: ctx.pages.t(lang)('ui.admin.title'), layout: layoutFor(req, ctx, lang, 'admin', running ? { refreshSeconds: 3 } : {}) });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.get('/api/admin', async (req, reply) => ({ ...view(req, ''), csrf: undefined }));

  app.post('/admin/jobs/:job/run', async (req, reply) => {
    const job = z.object({ job: z.string() }).parse(req.params).job;
    if (!ctx.config().jobs.has(job)) return reply.code(404).send('no such job');
    if (!ctx.runNow) return reply.code(503).send('this server does not run jobs');
    ctx.audit(req, 'job-run', job);
    // Started, not awaited: a snapshot takes seconds to minutes, and the page shows it running, then its result.
    const at = Date.now();
    void ctx.runNow(job).catch(() => undefined);
    // No #fragment: a meta refresh to a URL with one is a jump within the page, not a reload.
    return reply.redirect(`/admin?run=${encodeURIComponent(job)}&at=${at}`, 303);
  });

  app.post('/admin/jobs/:job/accept-census', async (req, reply) => {
    const job = z.object({ job: z.string() }).parse(req.params).job;
    const body = z.object({ snapshot: z.coerce.number().int().positive(), _csrf: z.string() }).safeParse(req.body);
    if (!ctx.config().jobs.has(job)) return reply.code(404).send('no such job');
    if (!body.success) return reply.code(400).send('which held snapshot to accept is missing');
    try {
      const accepted = acceptHeldCensus(ctx.db, job, { snapshotId: body.data.snapshot });
      ctx.audit(req, 'census-accepted', job, acceptanceDetail(accepted));
    } catch (err) {
      // Another run held or published a newer census since the page was drawn: show the page again.
      return reply.code(409).type('text/plain; charset=utf-8').send(`Not accepted: ${(err as Error).message}. Go back and reload the page.`);
    }
    return reply.redirect('/admin', 303);
  });

  app.post('/admin/printers/:id/test', async (req, reply) => {
    const id = z.object({ id: z.string() }).parse(req.params).id;
    if (!ctx.config().printers.has(id)) return reply.code(404).send('no such printer');
    const now = new Date();
    const pdf = await testPage(ctx.renderer ?? inThreadRenderer, id, ctx.config().box.box.id, now);
    const { sha256, size } = ctx.blobs.put(pdf);
    blobRows(ctx.db, now)(sha256, size);
    const jobId = enqueuePrint(ctx.db, { artifactId: null, sha256, address: `test/${id}`, jobName: `Paperback test page ${id}`, printerId: id, copies: 1, requestedBy: who(req), reason: 'test' });
    ctx.audit(req, 'printer-test', id, { printJob: jobId });
    ctx.kickPrinter?.();
    return reply.redirect(`/print-jobs/${jobId}`, 303);
  });

  app.post('/admin/downtime/start', async (req, reply) => {
    const body = z.object({ reason: z.string().trim().min(3).max(200), _csrf: z.string() }).safeParse(req.body);
    if (!body.success) return reply.code(400).send('Give a reason of 3 to 200 characters.');
    declareDowntime(ctx.db, who(req), body.data.reason, new Date());
    ctx.audit(req, 'downtime-declared', null, { reason: body.data.reason });
    await ctx.outage?.tick();
    return reply.redirect('/admin', 303);
  });

  app.post('/admin/demo/outage', async (req, reply) => {
    if (!ctx.demoOutage) return reply.code(404).send('there is no demo HIS on this box');
    const body = z.object({ down: z.enum(['0', '1']), _csrf: z.string() }).safeParse(req.body);
    if (!body.success) return reply.code(400).send('down must be 0 or 1');
    ctx.demoOutage.set(body.data.down === '1');
    ctx.audit(req, 'demo-outage', null, { down: body.data.down === '1' });
    return reply.redirect('/admin', 303);
  });

  app.post('/admin/downtime/end', async (req, reply) => {
    endDeclaration(ctx.db, who(req), new Date());
    ctx.audit(req, 'downtime-ended', null);
    await ctx.outage?.tick();
    return reply.redirect('/admin', 303);
  });
}
