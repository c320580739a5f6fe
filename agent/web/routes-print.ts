import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { enqueuePrint, getPrintJob, listPrintJobs, printJobEvents, FINAL_STATES } from '../print/queue.js';
import { AddressError, resolveDocument } from '../print/resolve.js';
import { formatDateTime } from '../render/i18n.js';
import { escapeHtml } from '../render/html.js';
import { csrfToken, langOf, layoutFor, type WebContext } from './context.js';
import { notFound } from './routes-ward.js';
import { documentTitle, printJobWords } from './ward-data.js';

const printBody = z.object({ address: z.string().min(3).max(200), printer: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), copies: z.coerce.number().int().min(1).max(10).default(1), _csrf: z.string().optional() }).strict();

/** The printer a ward's documents go to by default: the job's downtime printer, else the first configured. */
function defaultPrinter(ctx: WebContext, jobId: string): string | undefined {
  const cfg = ctx.config();
  return cfg.jobs.get(jobId)?.downtime.printer ?? [...cfg.printers.keys()][0];
}

export function registerPrintRoutes(app: FastifyInstance, ctx: WebContext, who: (req: FastifyRequest) => string): void {
  app.get('/print', async (req, reply) => {
    const q = z.object({ doc: z.string().min(3).max(200), lang: z.string().optional() }).safeParse(req.query);
    if (!q.success) return notFound(reply);
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    let doc;
    try {
      doc = resolveDocument(ctx.config(), ctx.db, ctx.blobs, q.data.doc);
    } catch (err) {
      if (err instanceof AddressError) return notFound(reply, 'no such document in the current snapshot');
      throw err;
    }
    const chosen = defaultPrinter(ctx, doc.jobId);
    const printers = [...ctx.config().printers.values()].map((p) => {
      const st = ctx.printers?.get(p.id);
      // The state in the page's words; the printer's own reasons as it said them.
      const state = !st ? '' : !st.reachable ? t('ui.printer.unreachable') : `${['idle', 'processing', 'stopped'].includes(st.state) ? t(`ui.readiness.printer.${st.state}`) : st.state}${st.reasons.length ? ` (${st.reasons.join(', ')})` : ''}`;
      return { id: p.id, name: p.name, location: p.location ?? '', selected: p.id === chosen, state };
    });
    const html = ctx.pages.render(
      'print',
      { back: doc.artifact.patientKey ? `/ward/${doc.jobId}/patient/${doc.artifact.patientKey}` : `/ward/${doc.jobId}`, docTitle: documentTitle(doc.artifact, t), patient: doc.artifact.patientKey ? `${t('census.mrn')} ${doc.artifact.patientKey}` : '', address: `${doc.jobId}/${doc.address}`, printers, copies: 1, csrf: csrfToken(req, reply) },
      { lang, title: t('ui.print'), layout: layoutFor(req, ctx, lang, 'census') },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  const submit = (req: FastifyRequest, body: z.infer<typeof printBody>, requestedBy: string): { id: number } | { error: string; status: number } => {
    if (!ctx.config().printers.has(body.printer)) return { error: `no printer "${body.printer}"`, status: 400 };
    let doc;
    try {
      doc = resolveDocument(ctx.config(), ctx.db, ctx.blobs, body.address);
    } catch (err) {
      if (err instanceof AddressError) return { error: err.message, status: 404 };
      throw err;
    }
    const id = enqueuePrint(ctx.db, { artifactId: doc.artifact.id, sha256: doc.artifact.sha256, address: `${doc.jobId}/${doc.address}`, jobName: doc.printJobName, printerId: body.printer, copies: body.copies, requestedBy });
    ctx.audit(req, 'print', `${doc.jobId}/${doc.address}`, { printer: body.printer, copies: body.copies, printJob: id });
    ctx.kickPrinter?.();
    return { id };
  };

  app.post('/print', async (req, reply) => {
    const body = printBody.safeParse(req.body);
    if (!body.success) return reply.code(400).type('text/plain; charset=utf-8').send(`Cannot print: ${body.error.issues[0]!.path.join('.')} ${body.error.issues[0]!.message}`);
    const r = submit(req, body.data, who(req));
    if ('error' in r) return reply.code(r.status).type('text/plain; charset=utf-8').send(r.error);
    return reply.redirect(`/print-jobs/${r.id}`, 303);
  });

  app.post('/api/print', async (req, reply) => {
    const body = printBody.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const r = submit(req, body.data, who(req));
    if ('error' in r) return reply.code(r.status).send({ error: r.error });
    return reply.code(201).send({ id: r.id, url: `/api/print-jobs/${r.id}` });
  });

  const jobView = (id: number) => {
    const j = getPrintJob(ctx.db, id);
    if (!j) return null;
    return { ...j, events: printJobEvents(ctx.db, id) };
  };

  app.get('/api/print-jobs/:id', async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const j = Number.isInteger(id) ? jobView(id) : null;
    return j ? j : reply.code(404).send({ error: 'no such print job' });
  });

  app.get('/print-jobs/:id', async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const j = Number.isInteger(id) && id > 0 ? jobView(id) : null;
    if (!j) return notFound(reply, 'no such print job');
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const tz = ctx.config().box.timeZone;
    const done = FINAL_STATES.includes(j.state);
    const [jobId, ...rest] = j.address.split('/');
    const html = ctx.pages.render(
      'print-job',
      {
        id: j.id,
        ...printJobWords(ctx.db, ctx.blobs, t)(j.address),
        printer: ctx.config().printers.get(j.currentPrinterId)?.name ?? j.currentPrinterId,
        state: j.state,
        stateText: t(`ui.state.${j.state}`),
        error: j.state === 'completed' ? '' : j.error ?? '',
        waiting: !done,
        events: j.events.map((e) => ({ at: formatDateTime(e.at, tz) ?? e.at, state: t(`ui.state.${e.state}`), printer: e.printerId ?? '', detail: e.detail ?? '' })),
        back: rest[0] && ['mar', 'summary', 'form'].includes(rest[0]) ? `/ward/${jobId}/patient/${rest.at(-1)}` : `/ward/${jobId}`,
      },
      // Plain HTML keeps working without JavaScript: the page refreshes itself until the printer has answered.
      { lang, title: `${t('ui.printJob')} #${j.id}`, layout: layoutFor(req, ctx, lang, 'print-jobs', { refreshSeconds: done ? 0 : 2 }) },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.get('/print-jobs', async (req, reply) => {
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const jobs = listPrintJobs(ctx.db, { limit: 50 });
    const words = printJobWords(ctx.db, ctx.blobs, t);
    const printers = ctx.config().printers;
    const items = jobs
      .map((j) => {
        const w = words(j.address);
        const printer = printers.get(j.currentPrinterId)?.name ?? j.currentPrinterId;
        return `<li class="${j.state === 'failed' ? 'alert' : ''}"><a href="/print-jobs/${j.id}"><strong>${escapeHtml(w.title)}</strong>${w.who ? ` — ${escapeHtml(w.who)}` : ''}</a> → ${escapeHtml(printer)}: ${escapeHtml(t(`ui.state.${j.state}`))}${j.error && j.state !== 'completed' ? ` — ${escapeHtml(j.error)}` : ''} <span class="muted">#${j.id}</span></li>`;
      })
      .join('');
    const page = ctx.pages.render('print-job-list', { itemsHtml: items || '<li>—</li>' }, { lang, title: t('ui.printJobs'), layout: layoutFor(req, ctx, lang, 'print-jobs') });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);
  });
}

