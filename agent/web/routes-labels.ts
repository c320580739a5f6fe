import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { activeDowntime } from '../outage/downtime.js';
import { admissionInput, admissionLabel, admitDuringDowntime, AdmissionError, findAdmission } from '../outage/admissions.js';
import { enqueuePrint } from '../print/queue.js';
import { loadTranslations } from '../render/i18n.js';
import { LABEL_MEDIA_TYPE, labelFromPatient, labelLines, type LabelRequest, type PatientLabel } from '../render/labels.js';
import { blobRows } from '../store/blobs.js';
import { DowntimeNumberError } from '../store/downtime-numbers.js';
import { defaultNameOrder } from '../model/names.js';
import { patientKey } from '../model/helpers.js';
import { csrfToken, langOf, layoutFor, type WebContext } from './context.js';
import { notFound } from './routes-ward.js';
import { currentWard, findPatient } from './ward-data.js';

/**
 * Wristbands and labels for a patient on the census or a downtime admission,
 * and the downtime admission itself. A label request goes through the same
 * durable print queue as documents; it is drawn for the printer that sends
 * it (render/labels.ts), in the paper's language.
 */

const jobParam = z.object({ job: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) });
const whoseLabel = z.object({ patient: z.string().min(1).max(200).optional(), number: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$/).optional() });
const labelBody = whoseLabel
  .extend({
    what: z.enum(['wristband', 'labels']),
    count: z.coerce.number().int().min(1).max(48),
    printer: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    _csrf: z.string().optional(),
  })
  .strict();

const text = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/plain; charset=utf-8').send(body);

export function registerLabelRoutes(app: FastifyInstance, ctx: WebContext, who: (req: FastifyRequest) => string): void {
  /** The label of whoever the query names: a patient of the job's current census, or one of this box's downtime admissions. */
  const labelOf = (jobId: string, q: z.infer<typeof whoseLabel>): { label: PatientLabel; subject: string } | null => {
    const job = ctx.config().jobs.get(jobId);
    const ward = job && ctx.config().box.wards.find((w) => w.id === job.scope.ward);
    if (!job || !ward) return null;
    if (q.number) {
      const a = findAdmission(ctx.db, ctx.blobs, q.number);
      return a && a.ward === ward.id ? { label: admissionLabel(a, ward.name), subject: `${jobId}/admission/${a.number}` } : null;
    }
    const cur = q.patient ? currentWard(ctx.db, ctx.blobs, jobId) : null;
    const p = cur && q.patient ? findPatient(cur.ward, q.patient) : null;
    const label = cur && p ? labelFromPatient(cur.ward, p) : null;
    return label && p ? { label, subject: `${jobId}/patient/${patientKey(p)}` } : null;
  };

  /** Printers in the page's order: those with the right stock loaded first (answering before not), and the first of them chosen. */
  const printerChoices = (what: 'wristband' | 'labels', lang: 'vi' | 'en') => {
    const t = ctx.pages.t(lang);
    const all = [...ctx.config().printers.values()];
    const fits = (p: (typeof all)[number]) => (what === 'wristband' ? !!p.wristband : !!p.label);
    const usable = all.filter((p) => p.kind !== 'zpl' || fits(p));
    // A printer known to be down goes after the others of its kind.
    const down = (p: (typeof all)[number]) => ctx.printers?.get(p.id)?.reachable === false;
    const ordered = [...usable.filter((p) => fits(p) && !down(p)), ...usable.filter((p) => fits(p) && down(p)), ...usable.filter((p) => !fits(p))];
    return ordered.map((p, i) => ({ id: p.id, name: p.name, selected: i === 0, note: fits(p) ? t(what === 'wristband' ? 'ui.labels.bandStock' : 'ui.labels.labelStock') : t(what === 'wristband' ? 'ui.labels.onA4Band' : 'ui.labels.onA4Sheet') }));
  };

  app.get('/ward/:job/labels', async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    const q = whoseLabel.safeParse(req.query);
    const found = params.success && q.success ? labelOf(params.data.job, q.data) : null;
    if (!found || !params.success || !q.success) return notFound(reply, 'no such patient');
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const lines = labelLines(found.label, t, ctx.config().box.timeZone);
    ctx.audit(req, 'view', `${found.subject}/labels`);
    const html = ctx.pages.render(
      'labels',
      { back: q.data.number ? `/ward/${params.data.job}` : `/ward/${params.data.job}/patient/${encodeURIComponent(q.data.patient!)}`, lines, patient: q.data.patient ?? '', number: q.data.number ?? '', bandPrinters: printerChoices('wristband', lang), labelPrinters: printerChoices('labels', lang), csrf: csrfToken(req, reply), action: `/ward/${params.data.job}/labels` },
      { lang, title: t('ui.labels.title'), layout: layoutFor(req, ctx, lang, 'census') },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.post('/ward/:job/labels', async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    const body = labelBody.safeParse(req.body);
    if (!params.success) return notFound(reply);
    if (!body.success) return text(reply, 400, `Cannot print: ${body.error.issues[0]!.path.join('.')} ${body.error.issues[0]!.message}`);
    const found = labelOf(params.data.job, body.data);
    if (!found) return notFound(reply, 'no such patient');
    const printer = ctx.config().printers.get(body.data.printer);
    if (!printer) return text(reply, 400, `no printer "${body.data.printer}"`);
    // The words in the paper's language, fixed now: the label prints the same whichever printer takes it.
    const box = ctx.config().box;
    const t = loadTranslations(ctx.config().templatesDir, box.paperLanguage ?? box.language);
    const request: LabelRequest = { what: body.data.what, count: body.data.count, id: found.label.id, lines: labelLines(found.label, t, box.timeZone) };
    const now = ctx.now?.() ?? new Date();
    const { sha256, size } = ctx.blobs.put(Buffer.from(JSON.stringify(request)));
    blobRows(ctx.db, now)(sha256, size);
    const initials = found.label.name.split(/\s+/).map((w) => w[0] ?? '').join('').slice(0, 4);
    const id = enqueuePrint(ctx.db, { artifactId: null, sha256, address: `${found.subject}/${body.data.what}`, jobName: `${body.data.what === 'wristband' ? 'Wristband' : 'Labels'} ${initials}`, printerId: printer.id, copies: 1, requestedBy: who(req), reason: 'label', mediaType: LABEL_MEDIA_TYPE }, now);
    ctx.audit(req, 'label-print', found.subject, { what: body.data.what, count: body.data.count, printer: printer.id, printJob: id });
    ctx.kickPrinter?.();
    return reply.redirect(`/print-jobs/${id}`, 303);
  });

  const admitPage = (req: FastifyRequest, reply: FastifyReply, jobId: string, status: number, problem: string | null, values: Record<string, string> = {}) => {
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const downtime = activeDowntime(ctx.db);
    const html = ctx.pages.render('admit', { back: `/ward/${jobId}`, action: `/ward/${jobId}/admit`, csrf: csrfToken(req, reply), problem, noDowntime: !downtime, values }, { lang, title: t('ui.admit.title'), layout: layoutFor(req, ctx, lang, 'census') });
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };

  app.get('/ward/:job/admit', async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    if (!params.success || !ctx.config().jobs.has(params.data.job)) return notFound(reply);
    return admitPage(req, reply, params.data.job, 200, null);
  });

  app.post('/ward/:job/admit', async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    const job = params.success ? ctx.config().jobs.get(params.data.job) : undefined;
    if (!params.success || !job) return notFound(reply);
    const t = ctx.pages.t(langOf(req, ctx));
    const raw = { ...(req.body as Record<string, string>) };
    delete raw._csrf;
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v).slice(0, 100)]));
    // Only while a downtime runs: otherwise the patient is registered in the HIS, which gives the real number.
    if (!activeDowntime(ctx.db)) return admitPage(req, reply, job.id, 409, t('ui.admit.noDowntime'), values);
    const input = admissionInput.safeParse(raw);
    if (!input.success) {
      const i = input.error.issues[0]!;
      return admitPage(req, reply, job.id, 400, `${t(`ui.admit.field.${String(i.path[0])}`)}: ${i.message}`, values);
    }
    const box = ctx.config().box;
    try {
      const a = admitDuringDowntime(ctx.db, ctx.blobs, input.data, { ward: job.scope.ward, by: who(req), nameOrder: box.names.order ?? defaultNameOrder(box.language), capitals: box.names.capitals, now: ctx.now?.() ?? new Date() });
      ctx.audit(req, 'downtime-admission', `${job.id}/admission/${a.number}`, { number: a.number });
      // She joins the printed census at once, under her number.
      ctx.applyEntries?.(job.id);
      return reply.redirect(`/ward/${job.id}/labels?number=${encodeURIComponent(a.number)}`, 303);
    } catch (err) {
      if (err instanceof DowntimeNumberError && err.code === 'numbers-exhausted') return admitPage(req, reply, job.id, 409, t('ui.admit.exhausted'), values);
      if (err instanceof AdmissionError || err instanceof DowntimeNumberError) return admitPage(req, reply, job.id, err instanceof DowntimeNumberError ? 409 : 400, err.message, values);
      throw err;
    }
  });
}
