import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { patientKey } from '../model/helpers.js';
import { currentWard, findPatient, searchPatients } from './ward-data.js';
import type { WebContext } from './context.js';

/** JSON for fleet tooling: what the pages show, with the same rules. */
export function registerApiRoutes(app: FastifyInstance, ctx: WebContext): void {
  const jobParam = z.object({ job: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) });

  app.get('/api/wards/:job/census', async (req, reply) => {
    const p = jobParam.safeParse(req.params);
    const q = z.object({ q: z.string().max(100).optional() }).loose().safeParse(req.query);
    if (!p.success || !q.success) return reply.code(400).send({ error: 'bad request' });
    const cur = ctx.config().jobs.has(p.data.job) ? currentWard(ctx.db, ctx.blobs, p.data.job) : null;
    if (!cur) return reply.code(404).send({ error: 'no such ward or no snapshot yet' });
    const patients = searchPatients(cur.ward, q.data.q ?? '');
    ctx.audit(req, 'view', `${p.data.job}/census`, { api: true, ...(q.data.q ? { search: true } : {}) });
    return {
      job: p.data.job,
      snapshotId: cur.snapshot.id,
      asOf: cur.ward.asOf,
      source: cur.ward.source,
      warnings: cur.ward.warnings,
      beds: cur.ward.beds,
      patients: patients.map((x) => ({ key: patientKey(x), mrn: x.mrn, name: x.name, bedId: x.bedId, codeStatus: x.codeStatus, isolation: x.isolation, allergies: x.allergies })),
    };
  });

  app.get('/api/wards/:job/patients/:key', async (req, reply) => {
    const p = jobParam.extend({ key: z.string().regex(/^[A-Za-z0-9._-]{1,80}$/) }).safeParse(req.params);
    if (!p.success) return reply.code(404).send({ error: 'no such patient' });
    const cur = ctx.config().jobs.has(p.data.job) ? currentWard(ctx.db, ctx.blobs, p.data.job) : null;
    const patient = cur ? findPatient(cur.ward, p.data.key) : null;
    if (!cur || !patient) return reply.code(404).send({ error: 'no such patient in the current snapshot' });
    ctx.audit(req, 'view', `${p.data.job}/patient/${p.data.key}`, { api: true });
    return {
      asOf: cur.ward.asOf,
      patient,
      documents: cur.documents.filter((d) => d.patientKey === p.data.key).map((d) => ({ address: `${p.data.job}/${d.address}`, title: d.title, url: `/documents/${p.data.job}/${d.address}.pdf` })),
    };
  });

  app.get('/api/printers', async () => ({
    printers: [...ctx.config().printers.values()].map((p) => ({ id: p.id, name: p.name, kind: p.kind, location: p.location ?? null, fallback: p.fallback ?? null, status: ctx.printers?.get(p.id) ?? null })),
  }));

  app.get('/api/outage', async () => ctx.outage?.status() ?? { error: 'the outage monitor is not running' });
}
