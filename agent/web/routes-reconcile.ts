import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FileBackReport } from '../fileback/file-back.js';
import { patientKey } from '../model/helpers.js';
import { wardLabel } from '../model/ward.js';
import { backEntryRows } from '../outage/back-entry.js';
import { hisWardOf } from '../outage/entry-sources.js';
import { entryLine } from '../outage/entry-overlay.js';
import { backEntryCsv, backEntryDocument } from '../render/back-entry.js';
import { entryWords } from '../render/entry-words.js';
import { inThreadRenderer } from '../render/renderer.js';
import { entryCounts, listEntries, moveEntry, type Entry } from '../store/downtime-entries.js';
import { currentSnapshot } from '../store/snapshots.js';
import { csrfToken, langOf, layoutFor, type WebContext } from './context.js';
import { notFound } from './routes-ward.js';

/**
 * The reconciliation view (issue #25): every entry recorded during
 * downtimes, by patient, with its filing state and why it stands there. A
 * charge nurse decides each entry the box gave to a person (entered by hand,
 * or not to be filed, with a reason); IT files back to the HIS; anyone
 * signed in prints the back-entry list.
 */
const jobParam = z.object({ job: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) });
const resolveParams = jobParam.extend({ id: z.coerce.number().int().positive() });
const resolveBody = z.object({ decision: z.enum(['filed', 'rejected']), reason: z.string().trim().min(1).max(300) }).loose();
const resultQuery = z.object({ filed: z.coerce.number().int().min(0), failed: z.coerce.number().int().min(0), rejected: z.coerce.number().int().min(0), needsPerson: z.coerce.number().int().min(0) }).partial().loose();

export function registerReconcileRoutes(app: FastifyInstance, ctx: WebContext, who: (req: FastifyRequest) => string): void {
  const jobOf = (req: FastifyRequest) => {
    const p = jobParam.safeParse(req.params);
    return p.success ? ctx.config().jobs.get(p.data.job) ?? null : null;
  };

  app.get('/ward/:job/entries', async (req, reply) => {
    const job = jobOf(req);
    if (!job) return notFound(reply);
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const tz = ctx.config().box.timeZone;
    const snap = currentSnapshot(ctx.db, job.id);
    const his = snap ? hisWardOf(ctx.db, ctx.blobs, snap.id) : null;
    const entries = listEntries(ctx.db, ctx.blobs, { jobId: job.id });
    const byPatient = new Map<string, Entry[]>();
    for (const e of entries) byPatient.set(e.patient, [...(byPatient.get(e.patient) ?? []), e]);
    const isAdmin = req.session?.role === 'admin';
    const counts = entryCounts(ctx.db);
    const q = resultQuery.safeParse(req.query);
    ctx.audit(req, 'view', `${job.id}/entries`);
    const html = ctx.pages.render(
      'entries',
      {
        back: `/ward/${job.id}`,
        counts: t('ui.entries.counts', { ...counts, needsPerson: counts['needs-person'] }),
        result: q.success && q.data.filed !== undefined ? t('ui.entries.result', { filed: q.data.filed, failed: q.data.failed ?? 0, rejected: q.data.rejected ?? 0, needsPerson: q.data.needsPerson ?? 0 }) : '',
        canFileBack: isAdmin && !!ctx.config().box.fileBack,
        noRoute: !ctx.config().box.fileBack,
        fileBackAction: `/ward/${job.id}/entries/fileback`,
        csrf: csrfToken(req, reply),
        pdf: `/ward/${job.id}/entries/back-entry.pdf`,
        csv: `/ward/${job.id}/entries/back-entry.csv`,
        patients: [...byPatient].map(([key, list]) => {
          const p = his?.patients.find((x) => patientKey(x) === key);
          return {
            key,
            name: p?.name ?? key,
            bed: (p && his?.beds.find((b) => b.id === p.bedId)?.label) ?? '—',
            canFile: isAdmin && !!ctx.config().box.fileBack && list.some((e) => (e.state === 'pending' || e.state === 'failed') && e.correctedBy === null),
            entries: list.map((e) => {
              const w = entryWords(entryLine(e), t, tz);
              return {
                ...w,
                id: e.id,
                corrected: e.correctedBy !== null,
                state: t(`ui.record.state.${e.state}`),
                stateTone: e.state === 'needs-person' || e.state === 'rejected' || e.state === 'failed' ? 'alert' : e.state === 'filed' ? 'ok' : '',
                why: e.lastError ?? (e.filedRef && e.state === 'filed' ? e.filedRef : ''),
                decide: e.state === 'needs-person' ? `/ward/${job.id}/entries/${e.id}/resolve` : '',
              };
            }),
          };
        }),
      },
      { lang, title: t('ui.entries.title'), layout: layoutFor(req, ctx, lang, 'census') },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.post('/ward/:job/entries/fileback', async (req, reply) => {
    const job = jobOf(req);
    if (!job) return notFound(reply);
    if (!ctx.fileBack) return reply.code(503).type('text/plain; charset=utf-8').send('this server does not file back');
    const patient = z.object({ patient: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/).optional() }).loose().safeParse(req.body);
    let r: FileBackReport;
    try {
      r = await ctx.fileBack({ jobId: job.id, patient: patient.success ? patient.data.patient : undefined });
    } catch (err) {
      return reply.code(409).type('text/plain; charset=utf-8').send((err as Error).message);
    }
    ctx.audit(req, 'entries-filed', `${job.id}/entries`, { filed: r.filed, failed: r.failed, rejected: r.rejected, needsPerson: r.needsPerson });
    return reply.redirect(`/ward/${job.id}/entries?filed=${r.filed}&failed=${r.failed}&rejected=${r.rejected}&needsPerson=${r.needsPerson}`, 303);
  });

  app.post('/ward/:job/entries/:id/resolve', async (req, reply) => {
    const params = resolveParams.safeParse(req.params);
    const body = resolveBody.safeParse(req.body);
    const job = jobOf(req);
    if (!params.success || !job) return notFound(reply);
    if (!body.success) return reply.code(400).type('text/plain; charset=utf-8').send('say what was decided, and why');
    const [entry] = listEntries(ctx.db, ctx.blobs, { jobId: job.id, only: (e) => e.id === params.data.id });
    if (!entry) return notFound(reply, 'no such entry');
    const by = who(req);
    const moved = body.data.decision === 'filed'
      ? moveEntry(ctx.db, entry.id, 'resolveFiled', { now: ctx.now?.() ?? new Date(), ref: `by hand, ${by}: ${body.data.reason}` })
      : moveEntry(ctx.db, entry.id, 'resolveRejected', { now: ctx.now?.() ?? new Date(), error: `not filed, ${by}: ${body.data.reason}` });
    if (!moved) return reply.code(409).type('text/plain; charset=utf-8').send('this entry no longer waits for a person');
    ctx.audit(req, 'entry-resolved', `${job.id}/entry/${entry.id}`, { decision: body.data.decision });
    return reply.redirect(`/ward/${job.id}/entries`, 303);
  });

  const backEntry = (req: FastifyRequest, reply: FastifyReply, kind: 'pdf' | 'csv') => {
    const job = jobOf(req);
    if (!job) return notFound(reply);
    const cfg = ctx.config();
    const lang = cfg.box.paperLanguage ?? cfg.box.language;
    const t = ctx.pages.t(lang);
    const rows = backEntryRows(ctx.db, ctx.blobs, { jobId: job.id, ward: job.scope.ward });
    ctx.audit(req, 'download', `${job.id}/entries/back-entry.${kind}`, { rows: rows.length });
    return { job, cfg, t, rows };
  };

  app.get('/ward/:job/entries/back-entry.csv', async (req, reply) => {
    const got = backEntry(req, reply, 'csv');
    if (!('rows' in got)) return got;
    return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store').header('content-disposition', `attachment; filename="back-entry-${got.job.id}.csv"`).send(backEntryCsv(got.rows, got.t, got.cfg.box.timeZone));
  });

  app.get('/ward/:job/entries/back-entry.pdf', async (req, reply) => {
    const got = backEntry(req, reply, 'pdf');
    if (!('rows' in got)) return got;
    const ward = got.cfg.box.wards.find((w) => w.id === got.job.scope.ward);
    const spec = backEntryDocument(got.rows, { t: got.t, timeZone: got.cfg.box.timeZone, hospital: got.cfg.box.site.name, ward: ward ? wardLabel(ward) : got.job.title, renderedAt: ctx.now?.() ?? new Date(), size: 'A4' });
    const { pdf } = await (ctx.renderer ?? inThreadRenderer).pdf(spec);
    return reply.type('application/pdf').header('cache-control', 'no-store').send(pdf);
  });
}
