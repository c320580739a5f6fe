import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { auditCsv, listAudit, verifyAuditChain } from '../audit/log.js';
import { auditRowsWithArchives } from '../audit/archive.js';
import type { WebContext } from './context.js';

const range = z
  .object({
    since: z.string().date().optional(),
    until: z.string().date().optional(),
  })
  .strict();

/** The audit log for the privacy officer (admins only: see isAdminRoute in auth.ts). */
export function registerAuditRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get('/audit.csv', async (req, reply) => {
    const q = range.safeParse(req.query);
    if (!q.success) return reply.code(400).type('text/plain; charset=utf-8').send('since and until are dates like 2026-11-01');
    const rows = auditRowsWithArchives(ctx.db, ctx.config().auditArchiveDir, { since: q.data.since, until: q.data.until ? new Date(Date.parse(q.data.until) + 86_400_000).toISOString() : undefined });
    ctx.audit(req, 'audit-export', null, { rows: rows.length, ...q.data });
    const name = `paperback-audit-${ctx.config().box.box.id}-${q.data.since ?? 'all'}.csv`;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store').send(auditCsv(rows));
  });

  app.get('/api/audit', async (req, reply) => {
    const q = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict().safeParse(req.query);
    if (!q.success) return reply.code(400).send({ error: 'limit is a number from 1 to 1000' });
    const chain = verifyAuditChain(ctx.db, { anchorFile: ctx.config().auditAnchorFile });
    return { chain: { rows: chain.checked, ok: !chain.problems.some((p) => p.severity === 'error'), problems: chain.problems.map((p) => p.what) }, rows: listAudit(ctx.db, { limit: q.data.limit }) };
  });
}
