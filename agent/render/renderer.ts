import type { DocumentSpec, PatientStamp } from './blocks.js';
import type { DocumentRequest } from './documents.js';
import type { FormDefinition } from './forms.js';

export interface RenderedPdf {
  pdf: Buffer;
  pages: number;
}

/**
 * What turns a document into PDF bytes. In the daemon a pool of worker
 * threads does it (render-pool.ts): the PDF libraries then never load into
 * the long-lived main thread, and a hospital's documents use every core. A
 * one-shot command renders in its own thread.
 */
export interface Renderer {
  /** A document drawn from blocks (downtime summary, IT page test prints). */
  pdf(spec: DocumentSpec): Promise<RenderedPdf>;
  /** A snapshot document (census, MAR, summary, allergy list) built from its data through its template, then drawn. */
  document(req: DocumentRequest): Promise<RenderedPdf>;
  /** A ward's own PDF form with a patient label and the downtime marking. */
  form(blank: Buffer, def: FormDefinition, patient: PatientStamp, marking: { text: string; asOf: string }): Promise<RenderedPdf>;
  /** How many documents are worth handing over at once. */
  readonly parallelism: number;
  /** Get ready to draw (start threads, load fonts) while the caller does something else, e.g. pulls. */
  warm(): void;
  /** Keep what warm() started, past its idle time, while `wanted()` says so (the next run is near). */
  keepWarmWhile(wanted: () => boolean): void;
  close(): Promise<void>;
}

/** Render in the calling thread; the PDF libraries load on first use, not at startup. */
export const inThreadRenderer: Renderer = {
  parallelism: 1,
  warm() {},
  keepWarmWhile() {},
  async pdf(spec) {
    const { renderPdf } = await import('./pdf.js');
    return renderPdf(spec);
  },
  async document(req) {
    const [{ renderPdf }, { buildDocument }] = await Promise.all([import('./pdf.js'), import('./documents.js')]);
    return renderPdf(buildDocument(req));
  },
  async form(blank, def, patient, marking) {
    const { stampForm } = await import('./form-stamp.js');
    return stampForm(blank, def, patient, marking);
  },
  async close() {},
};
