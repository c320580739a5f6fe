import type { WardSnapshot } from '../model/ward.js';
import type { NewArtifact } from '../store/snapshots.js';
import { planDocuments, type DocumentKind } from './documents.js';
import { loadTranslations, type Language } from './i18n.js';
import { renderPdf } from './pdf.js';
import { loadTemplateSettings } from './templates.js';

export interface RenderSettings {
  documents: readonly DocumentKind[];
  language: Language;
  timeZone: string;
  hospital: string;
  templatesDir: string;
  size?: 'A4' | 'LETTER';
}

export interface RenderedArtifact {
  meta: NewArtifact;
  content: Buffer;
}

/**
 * Everything a snapshot publishes: the normalized ward as data (for the ward
 * page and later reuse) and one PDF per planned document.
 */
export async function renderSnapshotDocuments(snap: WardSnapshot, settings: RenderSettings, opts: { renderedAt: Date; signal?: AbortSignal }): Promise<RenderedArtifact[]> {
  const t = loadTranslations(settings.templatesDir, settings.language);
  const look = loadTemplateSettings(settings.templatesDir);
  const out: RenderedArtifact[] = [
    { meta: { address: 'data/ward', kind: 'data', mediaType: 'application/json', title: 'Normalized ward data' }, content: Buffer.from(JSON.stringify(snap)) },
  ];
  const planned = planDocuments(snap, settings.documents, { t, templatesDir: settings.templatesDir, timeZone: settings.timeZone, hospital: look.hospitalName ?? settings.hospital, size: settings.size ?? look.paper, renderedAt: opts.renderedAt });
  for (const d of planned) {
    opts.signal?.throwIfAborted();
    const { pdf, pages } = await renderPdf(d.spec);
    out.push({
      meta: { address: d.address, kind: 'document', mediaType: 'application/pdf', title: d.title, patientKey: d.patient ? d.address.split('/')[1]! : null, pages },
      content: pdf,
    });
  }
  return out;
}
