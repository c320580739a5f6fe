/**
 * A render thread: receives documents from render-pool.ts, answers with PDF
 * bytes (transferred, not copied). One document at a time, in arrival order.
 */
import { parentPort } from 'node:worker_threads';
import type { DocumentSpec } from './blocks.js';
import type { RenderedPdf } from './renderer.js';
import type { RenderTask } from './render-pool.js';
import { renderPdf } from './pdf.js';
import { stampForm } from './form-stamp.js';

/** Structured cloning turns Buffers into plain Uint8Arrays; pdfkit tells images apart by Buffer.isBuffer. */
const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function run(task: RenderTask): Promise<RenderedPdf> {
  if (task.kind === 'pdf') {
    const spec: DocumentSpec = task.spec.stamp.logo ? { ...task.spec, stamp: { ...task.spec.stamp, logo: asBuffer(task.spec.stamp.logo) } } : task.spec;
    return renderPdf(spec);
  }
  return stampForm(asBuffer(task.blank), task.def, task.patient, task.marking);
}

parentPort!.on('message', (msg: { id: number; task: RenderTask }) => {
  run(msg.task).then(
    ({ pdf, pages }) => {
      // Hand over the bytes without a copy when they own their memory; copy once when they sit in a shared pool.
      const bytes = pdf.byteOffset === 0 && pdf.byteLength === pdf.buffer.byteLength ? pdf : Buffer.from(pdf);
      parentPort!.postMessage({ id: msg.id, pdf: bytes, pages }, [bytes.buffer as ArrayBuffer]);
    },
    (err: unknown) => parentPort!.postMessage({ id: msg.id, error: { name: (err as Error).name ?? 'Error', message: (err as Error).message ?? String(err) } }),
  );
});
