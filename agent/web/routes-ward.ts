import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ageLabel, bedOccupancy, patientKey } from '../model/helpers.js';
import { wardLabel, type Patient } from '../model/ward.js';
import { documentSpec } from '../render/documents.js';
import { formatDate, formatDateTime, type Translate } from '../render/i18n.js';
import { renderHtmlFragment } from '../render/html.js';
import { loadLogo, loadTemplateSettings, standardTimesOf } from '../render/templates.js';
import { allergyShort, markedBedLabel, placementNote, trulyNoneKnown } from '../render/views.js';
import { departureWords } from '../render/entry-words.js';
import { heldCensus } from '../schedule/held-census.js';
import { currentWard, documentTitle, findPatient, searchPatients } from './ward-data.js';
import { bannerFor, freshnessFor, langOf, layoutFor, type WebContext } from './context.js';
import { LIVE_ROUTE } from './auth.js';
import type { SnapshotRow } from '../store/snapshots.js';
import { listAdmissions } from '../outage/admissions.js';
import { activeDowntime } from '../outage/downtime.js';
import { jobHasEntries } from '../store/downtime-entries.js';

const jobParam = z.object({ job: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) });
const patientParam = jobParam.extend({ key: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/) });
const searchQuery = z.object({ q: z.string().max(100).optional(), lang: z.enum(['vi', 'en']).optional() }).loose();

export function notFound(reply: FastifyReply, what = 'not found') {
  return reply.code(404).type('text/plain; charset=utf-8').send(what);
}

const flagsOf = (p: Patient, t: Translate, timeZone: string) => [...p.isolation, allergyShort(p, { t, timeZone }), ...p.flags.map((f) => f.text)].join(' · ');

/** Said on the page when the newest snapshot failed its integrity check and an earlier one is shown. */
const integrityAlert = (cur: { fallbackFrom: { asOf: string | null } | null; snapshot: { asOf: string | null } } | null, t: Translate, tz: string) =>
  cur?.fallbackFrom ? t('ui.integrityFallback', { time: formatDateTime(cur.snapshot.asOf, tz) ?? '?' }) : '';

const liveUrl = (job: string, lang: string) => `/api/live/${job}?lang=${lang}`;

export function registerWardRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get('/', async (req, reply) => {
    const jobs = [...ctx.config().jobs.keys()];
    if (jobs.length === 0) return reply.type('text/plain; charset=utf-8').send('No snapshot jobs are configured on this box.');
    return reply.redirect(`/ward/${jobs[0]}`);
  });

  app.get('/ward/:job', async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    const query = searchQuery.safeParse(req.query);
    if (!params.success || !query.success) return reply.code(400).send('bad request');
    const job = ctx.config().jobs.get(params.data.job);
    if (!job) return notFound(reply, 'no such ward');
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const cur = currentWard(ctx.db, ctx.blobs, job.id);
    const q = query.data.q?.trim() ?? '';
    // What was searched for can be a name: the audit records only that a search happened.
    ctx.audit(req, 'view', `${job.id}/census`, q ? { search: true } : undefined);
    const asOf = cur ? new Date(cur.ward.asOf) : new Date();
    const occupancy = cur ? bedOccupancy(cur.ward) : null;
    const rows = cur
      ? searchPatients(cur.ward, q).map((p) => ({
          bed: [markedBedLabel(cur.ward, p, occupancy!.conflicts), placementNote(cur.ward, p, { t, timeZone: ctx.config().box.timeZone }, occupancy!.conflicts)].filter(Boolean).join(' '),
          name: p.name ?? `(${t('unknown')})`,
          href: `/ward/${job.id}/patient/${encodeURIComponent(patientKey(p))}`,
          mrn: p.mrn ?? t('unknown'),
          ageSex: `${ageLabel(p.birthDate, asOf) ?? '?'} ${p.sex ? t(`sex.${p.sex}`) : ''}`.trim(),
          flags: flagsOf(p, t, ctx.config().box.timeZone),
          alert: !trulyNoneKnown(p) || p.isolation.length > 0,
          codeStatus: p.codeStatus ?? t('unknown'),
          codeAlert: !!p.codeStatus && /DNR|DNI|DNAR/i.test(p.codeStatus),
        }))
      : [];
    const wardDocs = (cur?.documents ?? []).filter((d) => d.address === 'census' || d.address === 'allergies' || d.address === 'handoff').map((d) => ({ title: documentTitle(d, t), view: `/documents/${job.id}/${d.address}.pdf` }));
    const html = ctx.pages.render(
      'census',
      {
        wardName: cur ? wardLabel(cur.ward.ward) : job.title,
        searchAction: `/ward/${job.id}`,
        query: q,
        count: rows.length,
        rows,
        wardDocs,
        formsHref: `/ward/${job.id}/forms`,
        admitHref: activeDowntime(ctx.db) ? `/ward/${job.id}/admit` : '',
        // Once anything was recorded during a downtime: where it stands in going back to the HIS.
        entriesHref: jobHasEntries(ctx.db, job.id) ? `/ward/${job.id}/entries` : '',
        // Patients admitted on this box during a downtime are not on the HIS's census: listed apart, with their numbers.
        // Those the census above does not show yet (the paper is being published again) or any more (mapped).
        admissions: listAdmissions(ctx.db, ctx.blobs)
          .filter((a) => a.ward === job.scope.ward && !cur?.ward.patients.some((p) => p.downtimeAdmission?.number === a.number))
          .map((a) => ({ number: a.number, name: a.name, bed: a.bed ?? '—', mapped: a.hisMrn ? t('ui.admit.mapped', { mrn: a.hisMrn }) : '', labels: `/ward/${job.id}/labels?number=${encodeURIComponent(a.number)}` })),
        // Who left on this box's record: a nurse looking for her finds where she went.
        departures: (cur?.ward.downtimeEntries?.departures ?? []).map((d) => departureWords(d, t, ctx.config().box.timeZone)),
        held: (() => {
          const h = heldCensus(ctx.db, job.id);
          return h ? t('ui.heldCensus', { held: h.held.counts.patients ?? '?', current: h.current?.counts.patients ?? '?' }) : '';
        })(),
        emptyBeds: q || !cur ? '' : cur.ward.beds.filter((b) => !occupancy!.byBed.has(b.id)).map((b) => b.label).join(', '),
      },
      { lang, title: cur ? wardLabel(cur.ward.ward) : job.title, layout: layoutFor(req, ctx, lang, 'census', { freshness: freshnessFor(ctx, lang, cur?.snapshot ?? null, job.maxAgeMinutes), refreshSeconds: cur ? 0 : 10, live: liveUrl(job.id, lang), integrityAlert: integrityAlert(cur, t, ctx.config().box.timeZone) }) },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.get('/ward/:job/patient/:key', async (req, reply) => {
    const params = patientParam.safeParse(req.params);
    if (!params.success) return notFound(reply);
    const job = ctx.config().jobs.get(params.data.job);
    const cur = job ? currentWard(ctx.db, ctx.blobs, job.id) : null;
    const p = cur ? findPatient(cur.ward, params.data.key) : null;
    if (!job || !cur || !p) return notFound(reply, 'no such patient in the current snapshot');
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const cfg = ctx.config();
    const templatesDir = cfg.templatesDir;
    const look = loadTemplateSettings(templatesDir);
    const rctx = { t, templatesDir, timeZone: cfg.box.timeZone, hospital: look.hospitalName ?? cfg.box.site.name, size: look.paper, renderedAt: new Date(cur.snapshot.publishedAt ?? cur.ward.asOf), logo: loadLogo(templatesDir, look), standardTimes: standardTimesOf(look) };
    const key = patientKey(p);
    ctx.audit(req, 'view', `${job.id}/patient/${key}`);
    const docs = cur.documents
      .filter((d) => d.patientKey === key)
      .map((d) => ({ title: documentTitle(d, t), kept: d.asOf && d.asOf !== cur.ward.asOf ? t('ui.unchangedSince', { time: formatDateTime(d.asOf, cfg.box.timeZone) ?? d.asOf }) : null, view: `/documents/${job.id}/${d.address}.pdf`, download: `/documents/${job.id}/${d.address}.pdf?download=1`, print: `/print?doc=${encodeURIComponent(`${job.id}/${d.address}`)}` }));
    const bed = cur.ward.beds.find((b) => b.id === p.bedId)?.label ?? '—';
    const html = ctx.pages.render(
      'patient',
      {
        back: `/ward/${job.id}`,
        name: p.name ?? `(${t('unknown')})`,
        bed,
        mrn: p.mrn ?? t('unknown'),
        labelsHref: p.mrn ? `/ward/${job.id}/labels?patient=${encodeURIComponent(key)}` : '',
        // During a downtime: what was given, taken or done goes here, and on her paper at once.
        recordHref: activeDowntime(ctx.db) || cfg.box.downtimeEntries.practice ? `/ward/${job.id}/patient/${encodeURIComponent(key)}/record` : '',
        birthDate: formatDate(p.birthDate, cfg.box.timeZone) ?? t('unknown'),
        ageSex: `${ageLabel(p.birthDate, new Date(cur.ward.asOf)) ?? '?'} ${p.sex ? t(`sex.${p.sex}`) : ''}`.trim(),
        docs,
        // What must be known before anything else is done, right under the name: allergies and code status.
        safety: {
          allergies: allergyShort(p, { t, timeZone: cfg.box.timeZone }),
          allergyAlert: !trulyNoneKnown(p),
          codeStatus: `${t('census.codeStatus')}: ${p.codeStatus ?? t('unknown')}`,
          codeAlert: !p.codeStatus || /DNR|DNI|DNAR/i.test(p.codeStatus),
        },
        // The same templates as the PDFs, drawn as HTML: screen and paper agree.
        summaryHtml: renderHtmlFragment(documentSpec('summary', cur.ward, p, rctx)),
        marHtml: renderHtmlFragment(documentSpec('mar', cur.ward, p, rctx)),
      },
      { lang, title: p.name ?? key, layout: layoutFor(req, ctx, lang, 'census', { freshness: freshnessFor(ctx, lang, cur.snapshot, job.maxAgeMinutes), live: liveUrl(job.id, lang), integrityAlert: integrityAlert(cur, t, ctx.config().box.timeZone) }) },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  // The banner and the data's age for an open page (templates/web/live.js): the same words the page was drawn with.
  app.get(LIVE_ROUTE, async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    const query = searchQuery.safeParse(req.query);
    if (!params.success || !query.success) return reply.code(400).send({ error: 'bad request' });
    const job = ctx.config().jobs.get(params.data.job);
    if (!job) return reply.code(404).send({ error: 'no such ward' });
    const lang = query.data.lang ?? langOf(req, ctx);
    // The age of the snapshot the page shows: after an integrity fallback that is the earlier one, not the current.
    let shown: SnapshotRow | null = null;
    try {
      shown = currentWard(ctx.db, ctx.blobs, job.id)?.snapshot ?? null;
    } catch {
      shown = null; // no copy reads: the page has nothing current to vouch for
    }
    return reply.header('cache-control', 'no-store').send({ banner: bannerFor(ctx, lang), freshness: freshnessFor(ctx, lang, shown, job.maxAgeMinutes) });
  });

  app.get('/ward/:job/forms', async (req, reply) => {
    const params = jobParam.safeParse(req.params);
    const query = z.object({ patient: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/).optional() }).loose().safeParse(req.query);
    if (!params.success || !query.success) return notFound(reply);
    const job = ctx.config().jobs.get(params.data.job);
    const cur = job ? currentWard(ctx.db, ctx.blobs, job.id) : null;
    if (!job || !cur) return notFound(reply, 'no snapshot yet');
    const lang = langOf(req, ctx);
    const link = (address: string, title: string) => ({ title, view: `/documents/${job.id}/${address}.pdf`, print: `/print?doc=${encodeURIComponent(`${job.id}/${address}`)}` });
    const chosen = query.data.patient ?? null;
    const html = ctx.pages.render(
      'forms',
      {
        back: `/ward/${job.id}`,
        action: `/ward/${job.id}/forms`,
        blank: cur.documents.filter((d) => d.address.startsWith('blank/')).map((d) => link(d.address, d.title)),
        patients: searchPatients(cur.ward, '').map((p) => ({ key: patientKey(p), name: p.name ?? patientKey(p), bed: cur.ward.beds.find((b) => b.id === p.bedId)?.label ?? '—', selected: patientKey(p) === chosen })),
        stamped: chosen ? cur.documents.filter((d) => d.address.startsWith('form/') && d.patientKey === chosen).map((d) => link(d.address, d.title)) : [],
      },
      { lang, title: ctx.pages.t(lang)('ui.forms.title'), layout: layoutFor(req, ctx, lang, 'forms', { freshness: freshnessFor(ctx, lang, cur.snapshot, job.maxAgeMinutes), live: liveUrl(job.id, lang) }) },
    );
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });
}
