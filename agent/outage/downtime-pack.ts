import os from 'node:os';
import type { LoadedConfig } from '../config/load.js';
import { patientKey } from '../model/helpers.js';
import { wardLabel } from '../model/ward.js';
import { enqueuePrint } from '../print/queue.js';
import { printJobName } from '../print/resolve.js';
import type { DocumentSpec } from '../render/blocks.js';
import { loadTranslations } from '../render/i18n.js';
import { packCoverDocument, type PackCoverData } from '../render/pack-cover.js';
import { blobRows, type BlobStore } from '../store/blobs.js';
import { nowIso, type Db } from '../store/db.js';
import { currentSnapshot, listArtifacts, readSnapshotWard, type ArtifactRow } from '../store/snapshots.js';
import { getDowntime } from './downtime.js';

/** Where a cover says the ward page is: the configured address, else this box's name and port. */
export function wardPageUrl(config: LoadedConfig): string {
  if (config.box.box.pageUrl) return config.box.box.pageUrl;
  const web = config.box.web;
  return `${web.tls ? 'https' : 'http'}://${os.hostname()}:${web.port}/`;
}

interface JobPack {
  jobId: string;
  printerId: string;
  copies: number;
  docs: { a: ArtifactRow; name: string }[];
  cover: { sha256: string; size: number };
}

/** One job's documents for its downtime pack, in print order (ward documents, then each patient by bed), with her bed and name for the cover. */
function packDocuments(db: Db, blobs: BlobStore, job: LoadedConfig['jobs'] extends Map<string, infer J> ? J : never) {
  const cur = currentSnapshot(db, job.id);
  if (!cur) return null;
  const docs = listArtifacts(db, cur.id, 'document').filter((a) => job.downtime.print.some((k) => a.address === k || a.address.startsWith(`${k}/`)));
  const ward = readSnapshotWard(db, blobs, cur.id);
  const detail = (a: ArtifactRow) => {
    const p = a.patientKey && ward ? ward.patients.find((x) => patientKey(x) === a.patientKey) : undefined;
    if (!p || !ward) return null;
    const bed = ward.beds.find((b) => b.id === p.bedId)?.label ?? '—';
    return `${bed} · ${p.name ?? p.mrn ?? ''}`;
  };
  return { snapshot: cur, ward, docs, detail };
}

/**
 * Print every job's downtime pack, once per downtime: a cover first (what the
 * pack holds, page counts, the data's age, the printer, the ward page, whom
 * to call), then the documents in order. The covers are drawn first; then
 * the `printed_at` mark, the covers' blob rows and every queued job are
 * written in one transaction, so a restart, a second tick or a flapping link
 * never prints the pack twice. The print worker sends a pack's jobs for one
 * printer one at a time, in this order (queue.ts dueJobs).
 */
export async function autoPrintForDowntime(db: Db, blobs: BlobStore, config: LoadedConfig, downtimeId: number, now: Date, render: (spec: DocumentSpec) => Promise<{ pdf: Buffer; pages: number }>): Promise<{ queued: number; problems: string[] }> {
  const problems: string[] = [];
  const dt = getDowntime(db, downtimeId);
  if (!dt || dt.printedAt) return { queued: 0, problems };
  const t = loadTranslations(config.templatesDir, config.box.paperLanguage ?? config.box.language);
  const packs: JobPack[] = [];
  for (const job of config.jobs.values()) {
    if (!job.enabled || job.downtime.print.length === 0 || !job.downtime.printer) continue;
    const found = packDocuments(db, blobs, job);
    if (!found) {
      problems.push(`job ${job.id} has no snapshot to print`);
      continue;
    }
    const box = config.box.wards.find((w) => w.id === job.scope.ward);
    const printer = config.printers.get(job.downtime.printer);
    const cover: PackCoverData = {
      ward: found.ward ? wardLabel(found.ward.ward) : box ? wardLabel(box) : job.scope.ward,
      jobTitle: job.title,
      downtime: { id: dt.id, startedAt: dt.startedAt, cause: dt.cause },
      snapshot: { id: found.snapshot.id, asOf: found.snapshot.asOf },
      printer: printer ? `${printer.name}${printer.location && !printer.name.includes(printer.location) ? ` (${printer.location})` : ''}` : job.downtime.printer,
      documents: found.docs.map((a) => ({ title: a.title, detail: found.detail(a), pages: a.pages })),
      pageUrl: wardPageUrl(config),
      contact: config.box.box.contact ?? null,
    };
    const { pdf } = await render(packCoverDocument(cover, { t, timeZone: config.box.timeZone, hospital: config.box.site.name, renderedAt: now, size: 'A4' }));
    // Job names from the ward read once here, not once per document inside the transaction.
    packs.push({ jobId: job.id, printerId: job.downtime.printer, copies: job.downtime.copies, docs: found.docs.map((a) => ({ a, name: printJobName(job.scope.ward, a, found.ward) })), cover: blobs.put(pdf) });
  }
  const queued = db
    .transaction(() => {
      const row = db.prepare('SELECT printed_at FROM downtimes WHERE id = ?').pluck().get(downtimeId);
      if (row !== null) return 0;
      let n = 0;
      for (const p of packs) {
        blobRows(db, now)(p.cover.sha256, p.cover.size);
        enqueuePrint(db, { artifactId: null, sha256: p.cover.sha256, address: `${p.jobId}/pack-cover`, jobName: `${p.jobId} downtime pack cover`, printerId: p.printerId, copies: p.copies, requestedBy: 'paperback:downtime', reason: 'downtime', downtimeId }, now);
        n++;
        for (const { a, name } of p.docs) {
          enqueuePrint(db, { artifactId: a.id, sha256: a.sha256, address: `${p.jobId}/${a.address}`, jobName: name, printerId: p.printerId, copies: p.copies, requestedBy: 'paperback:downtime', reason: 'downtime', downtimeId }, now);
          n++;
        }
      }
      db.prepare('UPDATE downtimes SET printed_at = ? WHERE id = ?').run(nowIso(now), downtimeId);
      return n;
    })
    .immediate();
  return { queued, problems };
}
