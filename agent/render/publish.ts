import type { WardSnapshot } from '../model/ward.js';
import type { NewArtifact } from '../store/snapshots.js';
import { patientStamp, planDocuments, type DocumentKind } from './documents.js';
import { loadForms, readBlankForm, stampForm } from './forms.js';
import { TemplateError } from './markup.js';
import { formatDateTime } from './i18n.js';
import { patientKey, patientsInBedOrder } from '../model/helpers.js';
import { loadTranslations, type Language } from './i18n.js';
import { renderPdf } from './pdf.js';
import { loadLogo, loadTemplateSettings } from './templates.js';

export interface RenderSettings {
  documents: readonly DocumentKind[];
  /** Form ids from templates/forms/forms.yaml. */
  forms?: readonly string[];
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
  const planned = planDocuments(snap, settings.documents, { t, logo: loadLogo(settings.templatesDir, look), templatesDir: settings.templatesDir, timeZone: settings.timeZone, hospital: look.hospitalName ?? settings.hospital, size: settings.size ?? look.paper, renderedAt: opts.renderedAt });
  for (const d of planned) {
    opts.signal?.throwIfAborted();
    const { pdf, pages } = await renderPdf(d.spec);
    out.push({
      meta: { address: d.address, kind: 'document', mediaType: 'application/pdf', title: d.title, patientKey: d.patient ? d.address.split('/')[1]! : null, pages },
      content: pdf,
    });
  }
  if (settings.forms?.length) {
    const defs = loadForms(settings.templatesDir);
    const ctx = { t, templatesDir: settings.templatesDir, timeZone: settings.timeZone, hospital: look.hospitalName ?? settings.hospital, size: settings.size ?? look.paper, renderedAt: opts.renderedAt };
    const asOf = t('asOf', { time: formatDateTime(snap.asOf, settings.timeZone) ?? snap.asOf });
    for (const id of settings.forms) {
      const f = defs.find((d) => d.id === id);
      if (!f) throw new TemplateError('templates/forms/forms.yaml', null, `no form "${id}" (the snapshot job lists it under forms)`);
      const blank = readBlankForm(settings.templatesDir, f);
      out.push({ meta: { address: `blank/${f.id}`, kind: 'document', mediaType: 'application/pdf', title: f.title }, content: blank });
      for (const p of patientsInBedOrder(snap)) {
        opts.signal?.throwIfAborted();
        const { pdf, pages } = await stampForm(blank, f, patientStamp(snap, p, ctx), { text: t('marking'), asOf });
        out.push({ meta: { address: `form/${f.id}/${patientKey(p)}`, kind: 'document', mediaType: 'application/pdf', title: f.title, patientKey: patientKey(p), pages }, content: pdf });
      }
    }
  }
  return out;
}
