import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Patient, WardSnapshot } from '../model/ward.js';
import { isoToLocalInput, localInputToIso } from '../model/wall-clock.js';
import { activeDowntime } from '../outage/downtime.js';
import { hisWardOf } from '../outage/entry-sources.js';
import { entryLine } from '../outage/entry-overlay.js';
import { entryWords } from '../render/entry-words.js';
import { checkEntry, EntryError, listEntries, recordEntry, type Entry } from '../store/downtime-entries.js';
import { csrfToken, langOf, layoutFor, type WebContext } from './context.js';
import { currentWard, findPatient } from './ward-data.js';
import { notFound } from './routes-ward.js';

/**
 * Recording during a downtime (issue #25), one page per patient: a dose
 * against her MAR's orders, vital signs, a note, a move, a discharge; and
 * what was recorded for her so far, each with its filing state, and a way to
 * correct one (a new entry that names it, with a reason: nothing is erased).
 * The paper is published again with the entries at once (scheduler
 * applyEntries); the page says when it has caught up.
 */
const params = z.object({ job: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), key: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/) });
const query = z.object({ corrects: z.coerce.number().int().positive().optional(), saved: z.coerce.number().int().positive().optional(), lang: z.enum(['vi', 'en']).optional() }).loose();
const KINDS = ['administration', 'vitals', 'note', 'transfer', 'discharge'] as const;

/** Form fields are strings: an empty one is absent, a number field must be a number. */
function numberField(v: string | undefined, field: string): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim().replace(',', '.'));
  if (!Number.isFinite(n)) throw new EntryError(`${field}: not a number`);
  return n;
}
const textField = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);

/** The entry a form describes, before the store's checks (model/downtime-entry.ts) */
function payloadOf(body: Record<string, string>, p: Patient): unknown {
  switch (body.kind) {
    case 'administration': {
      const order = body.order ? p.orders.items.find((o) => o.id === body.order) : undefined;
      if (body.order && !order) throw new EntryError('that order is not on her MAR');
      return { kind: 'administration', orderId: order?.id ?? null, drug: order?.drug ?? body.drug ?? '', outcome: body.outcome, reason: textField(body.reason), dose: textField(body.dose), route: textField(body.route), prnReason: textField(body.prnReason) };
    }
    case 'vitals': {
      const v = { kind: 'vitals', temperatureC: numberField(body.temperatureC, 'temperature'), pulse: numberField(body.pulse, 'pulse'), systolic: numberField(body.systolic, 'systolic'), diastolic: numberField(body.diastolic, 'diastolic'), respiratoryRate: numberField(body.respiratoryRate, 'respiratoryRate'), spo2: numberField(body.spo2, 'spo2'), pain: numberField(body.pain, 'pain') };
      return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
    }
    case 'note':
      return { kind: 'note', text: body.text ?? '' };
    case 'transfer':
      return { kind: 'transfer', toBed: textField(body.toBed), toWard: textField(body.toWard) };
    case 'discharge':
      return { kind: 'discharge', destination: textField(body.destination) };
    default:
      throw new EntryError('choose what to record');
  }
}

/** She is on the current census, or left it on this box's record (a wrong discharge must be correctable). */
function patientFor(cur: { ward: WardSnapshot; snapshot: { id: number } }, ctx: WebContext, key: string): { p: Patient; gone: boolean } | null {
  const here = findPatient(cur.ward, key);
  if (here) return { p: here, gone: false };
  const his = hisWardOf(ctx.db, ctx.blobs, cur.snapshot.id);
  const left = his ? findPatient(his, key) : null;
  return left && (cur.ward.downtimeEntries?.departures ?? []).some((d) => d.mrn === left.mrn) ? { p: left, gone: true } : null;
}

export function registerEntryRoutes(app: FastifyInstance, ctx: WebContext, who: (req: FastifyRequest) => string): void {
  const page = (req: FastifyRequest, reply: FastifyReply, o: { jobId: string; key: string; status: number; problem?: string | null; values?: Record<string, string>; corrects?: number; saved?: number; practiced?: string }) => {
    const job = ctx.config().jobs.get(o.jobId)!;
    const cur = currentWard(ctx.db, ctx.blobs, job.id);
    const found = cur ? patientFor(cur, ctx, o.key) : null;
    if (!cur || !found) return notFound(reply, 'no such patient in the current snapshot');
    const { p, gone } = found;
    const lang = langOf(req, ctx);
    const t = ctx.pages.t(lang);
    const tz = ctx.config().box.timeZone;
    const downtime = activeDowntime(ctx.db);
    const entries = listEntries(ctx.db, ctx.blobs, { jobId: job.id, patient: o.key });
    const corrected = o.corrects ? entries.find((e) => e.id === o.corrects) ?? null : null;
    const line = (e: Entry) => entryWords(entryLine(e), t, tz);
    // The paper has caught up when the current snapshot was made with every entry entered so far.
    const newest = entries.reduce((m, e) => (e.enteredAt > m ? e.enteredAt : m), '');
    const paperCurrent = !newest || (cur.ward.downtimeEntries?.through ?? '') >= newest;
    const values = o.values ?? (corrected ? valuesOf(corrected) : {});
    const html = ctx.pages.render(
      'record',
      {
        back: `/ward/${job.id}/patient/${encodeURIComponent(o.key)}`,
        action: `/ward/${job.id}/patient/${encodeURIComponent(o.key)}/record`,
        csrf: csrfToken(req, reply),
        name: p.name ?? `(${t('unknown')})`,
        bed: cur.ward.beds.find((b) => b.id === p.bedId)?.label ?? '—',
        mrn: p.mrn ?? t('unknown'),
        gone,
        practice: !downtime && ctx.config().box.downtimeEntries.practice,
        practiced: o.practiced ?? '',
        noDowntime: !downtime && !ctx.config().box.downtimeEntries.practice,
        problem: o.problem ?? null,
        saved: o.saved ? t('ui.record.saved') : '',
        paper: newest ? (paperCurrent ? t('ui.record.paperCurrent') : t('ui.record.paperUpdating')) : '',
        now: values.at ?? isoToLocalInput(new Date(), tz),
        isKind: Object.fromEntries(KINDS.map((k) => [k, (values.kind ?? 'administration') === k])),
        values,
        corrects: corrected ? { id: corrected.id, what: line(corrected).what } : null,
        orders: p.orders.items.map((ord) => ({ id: ord.id, label: `${ord.drug}${ord.dose ? ` · ${ord.dose}` : ''}${ord.prn ? ' (PRN)' : ''}`, selected: values.order === ord.id })),
        emptyBeds: cur.ward.beds.filter((b) => !b.patientId).map((b) => b.label),
        entries: [...entries].reverse().map((e) => ({ ...line(e), state: t(`ui.record.state.${e.state}`), corrected: e.correctedBy !== null, correctHref: `?corrects=${e.id}` })),
      },
      { lang, title: `${t('ui.record.title')} · ${p.name ?? o.key}`, layout: layoutFor(req, ctx, lang, 'census', paperCurrent ? {} : { refreshSeconds: 3 }) },
    );
    return reply.code(o.status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };

  app.get('/ward/:job/patient/:key/record', async (req, reply) => {
    const pp = params.safeParse(req.params);
    const q = query.safeParse(req.query);
    if (!pp.success || !q.success || !ctx.config().jobs.has(pp.data.job)) return notFound(reply);
    ctx.audit(req, 'view', `${pp.data.job}/patient/${pp.data.key}/record`);
    return page(req, reply, { jobId: pp.data.job, key: pp.data.key, status: 200, corrects: q.data.corrects, saved: q.data.saved });
  });

  app.post('/ward/:job/patient/:key/record', async (req, reply) => {
    const pp = params.safeParse(req.params);
    const job = pp.success ? ctx.config().jobs.get(pp.data.job) : undefined;
    if (!pp.success || !job) return notFound(reply);
    const key = pp.data.key;
    const t = ctx.pages.t(langOf(req, ctx));
    const body = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v).slice(0, 4000)]));
    delete body._csrf;
    const again = (status: number, problem: string) => page(req, reply, { jobId: job.id, key, status, problem, values: body, corrects: Number(body.corrects) || undefined });
    const downtime = activeDowntime(ctx.db);
    const practice = !downtime && ctx.config().box.downtimeEntries.practice;
    // Only while a downtime runs (or in a drill): otherwise it goes in the HIS.
    if (!downtime && !practice) return again(409, t('ui.record.noDowntime'));
    const cur = currentWard(ctx.db, ctx.blobs, job.id);
    const found = cur ? patientFor(cur, ctx, key) : null;
    if (!found) return notFound(reply, 'no such patient in the current snapshot');
    const tz = ctx.config().box.timeZone;
    const now = ctx.now?.() ?? new Date();
    const marginMinutes = ctx.config().box.downtimeEntries.marginMinutes;
    try {
      const occurredAt = localInputToIso(body.at ?? '', tz);
      if (!occurredAt) throw new EntryError(t('ui.record.badTime'));
      if (!downtime) {
        // A drill (practice mode): every check an entry gets, and the line paper would print; nothing is saved, printed or filed.
        const ok = checkEntry({ occurredAt, payload: payloadOf(body, found.p) }, { downtime: { startedAt: new Date(now.getTime() - 24 * 3_600_000).toISOString(), endedAt: null }, marginMinutes, now });
        const w = entryWords({ kind: ok.payload.kind, at: ok.occurredAt, enteredAt: now.toISOString(), by: who(req), payload: ok.payload as unknown as Record<string, unknown>, correction: null, filed: false }, t, tz);
        ctx.audit(req, 'downtime-entry', `${job.id}/patient/${key}/practice`, { kind: ok.payload.kind, practice: true });
        return page(req, reply, { jobId: job.id, key, status: 200, practiced: `${w.at} · ${w.what} · ${w.who}` });
      }
      // Someone who left the ward can only have an entry corrected (a discharge recorded by mistake).
      if (found.gone && !body.corrects) throw new EntryError(t('ui.record.gone'));
      const corrects = body.corrects ? { id: Number(body.corrects), reason: body.correctionReason ?? '' } : undefined;
      const row = recordEntry(ctx.db, ctx.blobs, { jobId: job.id, patient: key, occurredAt, payload: payloadOf(body, found.p), ...(corrects ? { corrects } : {}) }, { downtime, by: who(req), marginMinutes, now });
      ctx.audit(req, 'downtime-entry', `${job.id}/patient/${key}/entry/${row.id}`, { kind: row.kind, ...(corrects ? { corrects: corrects.id } : {}) });
      ctx.applyEntries?.(job.id);
      return reply.redirect(`/ward/${job.id}/patient/${encodeURIComponent(key)}/record?saved=${row.id}`, 303);
    } catch (err) {
      if (err instanceof EntryError) return again(400, err.message);
      throw err;
    }
  });
}

/** A recorded entry as the form's values, to correct it. */
function valuesOf(e: Entry): Record<string, string> {
  const p = e.payload as unknown as Record<string, unknown>;
  const v: Record<string, string> = { kind: e.kind };
  for (const [k, x] of Object.entries(p)) if (x !== null && x !== undefined && k !== 'kind') v[k === 'orderId' ? 'order' : k] = String(x);
  return v;
}
