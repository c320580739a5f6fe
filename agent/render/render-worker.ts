/**
 * A render thread: receives documents from render-pool.ts, answers with PDF
 * bytes (transferred, not copied). One document at a time, in arrival order.
 */
import { parentPort } from 'node:worker_threads';
import type { DocumentSpec } from './blocks.js';
import type { RenderedPdf } from './renderer.js';
import type { RenderTask } from './render-pool.js';
import { buildDocument } from './documents.js';
import { renderPdf } from './pdf.js';

/** Structured cloning turns Buffers into plain Uint8Arrays; pdfkit tells images apart by Buffer.isBuffer. */
const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const WARM_UP: DocumentSpec = {
  size: 'A4',
  orientation: 'landscape',
  patient: { name: 'Nguyễn Thị Hồng', mrn: '0000000', birthDate: '1950-01-01', bed: '1', barcode: '0000000' },
  metaTitle: 'warm-up',
  stamp: { marking: 'BẢN DỰ PHÒNG', documentTitle: 'warm-up', hospital: 'Bệnh viện', ward: 'Khoa', footer: ['as of'], pageLabel: '{page}/{pages}', banner: null },
  blocks: [{ type: 'table', columns: [{ label: 'Thuốc', width: 3 }, { label: 'Liều', width: 1, align: 'right' }], rows: [{ cells: [{ text: 'Paracetamol 500 mg viên nén, uống sau ăn, không quá 4 g mỗi ngày' }, { text: '1 viên', tone: 'strong' }] }] }],
};

/**
 * A fault for the tests of a failing thread (PAPERBACK_RENDER_FAULT): `hang`
 * loops forever, `throw-empty` throws an error with no message, `exit` ends
 * the thread. Inert in production: Paperback never sets it.
 */
const fault = process.env.PAPERBACK_RENDER_FAULT ?? null;

async function run(task: Exclude<RenderTask, { kind: 'collect' }>): Promise<RenderedPdf> {
  if (task.kind === 'warm') return renderPdf(WARM_UP);
  if (fault === 'hang') for (;;);
  if (fault === 'throw-empty') throw new Error();
  if (fault === 'exit') process.exit(3);
  if (task.kind === 'document') {
    const { context } = task.req;
    return renderPdf(buildDocument(context.logo ? { ...task.req, context: { ...context, logo: asBuffer(context.logo) } } : task.req));
  }
  if (task.kind === 'pdf') {
    const spec: DocumentSpec = task.spec.stamp.logo ? { ...task.spec, stamp: { ...task.spec.stamp, logo: asBuffer(task.spec.stamp.logo) } } : task.spec;
    return renderPdf(spec);
  }
  // pdf-lib loads with the first form: most threads never stamp one, and it is a third of a thread's start.
  const { stampForm } = await import('./form-stamp.js');
  return stampForm(asBuffer(task.blank), task.def, task.patient, task.marking);
}

/** Never an empty message: an error thrown without one still says what and where (its first stack line). */
function describeError(err: unknown): { name: string; message: string } {
  if (!(err instanceof Error)) return { name: 'Error', message: `a render thread threw ${typeof err}: ${String(err).slice(0, 200) || '(empty)'}` };
  const at = err.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim() ?? 'no stack';
  return { name: err.name || 'Error', message: err.message || `${err.name || 'Error'} with no message, ${at}` };
}

parentPort!.on('message', (msg: { id: number; task: RenderTask }) => {
  if (msg.task.kind === 'collect') {
    // Available when the daemon runs with --expose-gc (npm start, the systemd unit).
    (globalThis as { gc?: () => void }).gc?.();
    return;
  }
  run(msg.task)
    .then(({ pdf, pages }) => postPdf(msg.id, pdf, pages))
    // A failure to answer is reported like a failed render: the pool must never wait on a document forever.
    .catch((err: unknown) => parentPort!.postMessage({ id: msg.id, error: describeError(err) }));
});

/**
 * Hand the bytes over without a copy where the runtime allows it. Node 24
 * refuses to transfer the memory of a Node Buffer (DataCloneError: it marks
 * Buffer memory untransferable); there, and for a Buffer that sits in a
 * shared pool, the bytes are copied once into plain memory, which transfers.
 */
function postPdf(id: number, pdf: Buffer, pages: number): void {
  if (pdf.byteOffset === 0 && pdf.byteLength === pdf.buffer.byteLength) {
    try {
      parentPort!.postMessage({ id, pdf, pages }, [pdf.buffer as ArrayBuffer]);
      return;
    } catch (err) {
      if ((err as Error).name !== 'DataCloneError') throw err;
    }
  }
  const bytes = new Uint8Array(pdf.byteLength);
  bytes.set(pdf);
  parentPort!.postMessage({ id, pdf: bytes, pages }, [bytes.buffer]);
}
