import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DocumentSpec, PatientStamp } from './blocks.js';
import type { DocumentRequest } from './documents.js';
import type { FormDefinition } from './forms.js';
import type { RenderedPdf, Renderer } from './renderer.js';
import { errorFields, PaperbackError } from '../log/errors.js';

export type RenderTask =
  | { kind: 'warm' }
  /** Nothing to draw for a while, but a run is due soon: give back garbage, keep the thread. No answer. */
  | { kind: 'collect' }
  | { kind: 'pdf'; spec: DocumentSpec }
  | { kind: 'document'; req: DocumentRequest }
  | { kind: 'form'; blank: Buffer; def: FormDefinition; patient: PatientStamp; marking: { text: string; asOf: string } };

export class RenderError extends PaperbackError {
  constructor(message: string, cause?: unknown) {
    super('render', message, { cause });
  }
}

/**
 * The worker's built file. Under vitest this module is TypeScript source; the
 * worker still runs the built JavaScript (npm test builds first).
 */
function workerFile(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./render-worker.js', import.meta.url);
  const repo = path.resolve(path.dirname(here), '../..');
  return new URL(`file://${path.join(repo, 'dist/agent/render/render-worker.js')}`);
}

/**
 * The render threads' young generation: semi-spaces of 4 MB. The daemon runs
 * with --max-semi-space-size=2, which keeps the mostly idle main thread small,
 * but V8 applies that flag over a worker's own limits, and render threads
 * allocate fast. Every document of 10 wards through two threads (three
 * interleaved runs each): 7.8-8.0 s of CPU at 2 MB, 6.0-8.0 s at 4 MB,
 * 5.9-7.5 s at 8 MB. At 8 MB the 4,000-patient bench peaked at 354 MB (full)
 * and 384-388 MB (5 % changed) against a 400 MB budget; at 4 MB, 333 and
 * 364 MB, with the agent's CPU per unit of the peer's the same (3.37 vs 3.42).
 * V8 reads the flag when it creates an isolate, so setting it here sizes the
 * threads started from now on and leaves the main thread's heap as it was.
 */
const THREAD_SEMI_SPACE_MB = 4;
function setThreadSemiSpace(): void {
  v8.setFlagsFromString(`--max-semi-space-size=${THREAD_SEMI_SPACE_MB}`);
}

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (r: RenderedPdf) => void; reject: (e: Error) => void }>;
  /** Set while the thread has work: it must answer before this fires, or it is stopped. */
  watchdog: NodeJS.Timeout | null;
  /** Reject everything it holds and drop it from the pool. */
  fail: (err: Error) => void;
}

export interface RenderPoolOptions {
  /** Render threads; default: one per core, at most 4. */
  threads?: number;
  /**
   * Threads end after this long with nothing to do, so an idle box holds no
   * PDF libraries, fonts or render garbage; the next run starts them again
   * (about half a second, overlapping the pull).
   */
  idleMs?: number;
  /**
   * Called once the pool has gone idle (the daemon gives memory back then):
   * `ended` when the threads ended, false when they stay for a run due soon.
   */
  onIdle?: (ended: boolean) => void;
  /**
   * Longest a thread may take over one document before it is stopped and its
   * documents fail (a thread stuck in a loop would otherwise take every later
   * run with it). A ward's largest document takes well under a second.
   */
  taskTimeoutMs?: number;
  log: Logger;
}

/** Worker threads that render documents; started on first use, ended when idle. */
export function createRenderPool(opts: RenderPoolOptions): Renderer {
  const size = Math.max(1, opts.threads ?? Math.min(4, os.availableParallelism()));
  const idleMs = opts.idleMs ?? 60_000;
  const taskTimeoutMs = opts.taskTimeoutMs ?? 60_000;
  const log = opts.log.child({ room: 'render' });
  const threads: Thread[] = [];
  let nextId = 1;
  let idleTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let keepWarm = () => false;
  /** Kept threads are asked to collect once per quiet spell, not every idle period. */
  let collected = false;

  const inFlight = () => threads.reduce((n, t) => n + t.pending.size, 0);

  const stopAll = async () => {
    const all = threads.splice(0);
    await Promise.all(all.map((t) => t.worker.terminate()));
    return all.length;
  };

  const armIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (inFlight() > 0 || threads.length === 0) return;
    idleTimer = setTimeout(() => {
      // A run is due soon: starting the threads again would cost it more than they hold meanwhile.
      if (keepWarm()) {
        if (!collected) {
          collected = true;
          for (const t of threads) t.worker.postMessage({ id: 0, task: { kind: 'collect' } satisfies RenderTask });
          opts.onIdle?.(false);
        }
        return armIdle();
      }
      void stopAll().then((n) => {
        log.debug({ threads: n }, 'render threads stopped while idle');
        opts.onIdle?.(true);
      });
    }, idleMs);
    idleTimer.unref();
  };

  const start = (): Thread => {
    // A heap limit well above need (a heap snapshot mid-hospital found ~31 MB live in a thread) also
    // makes V8 collect before the heap grows past ~1.4× what is live, instead of up to 4× on a machine
    // with RAM to spare: render threads allocate fast, and held 100–125 MB each (bench/README.md).
    setThreadSemiSpace();
    const worker = new Worker(workerFile(), { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    const t: Thread = { worker, pending: new Map(), watchdog: null, fail: () => undefined };
    const failAll = (err: Error) => {
      if (t.watchdog) clearTimeout(t.watchdog);
      t.watchdog = null;
      for (const p of t.pending.values()) p.reject(err);
      t.pending.clear();
      const i = threads.indexOf(t);
      if (i >= 0) threads.splice(i, 1);
    };
    t.fail = failAll;
    worker.on('message', (m: { id: number; pdf?: Uint8Array; pages?: number; error?: { name: string; message: string } }) => {
      const p = t.pending.get(m.id);
      if (!p) return;
      t.pending.delete(m.id);
      rearm(t);
      if (m.error) {
        const e = new RenderError(m.error.message || `${m.error.name || 'Error'} with no message, in a render thread`);
        e.name = m.error.name;
        p.reject(e);
      } else p.resolve({ pdf: Buffer.from(m.pdf!.buffer, m.pdf!.byteOffset, m.pdf!.byteLength), pages: m.pages! });
      armIdle();
    });
    worker.on('error', (err) => {
      const message = err.message || `${err.name || 'Error'} with no message`;
      log.error({ err: { ...errorFields(err), message } }, 'a render thread failed; its documents are reported failed');
      failAll(new RenderError(`render thread failed: ${message}`, err));
    });
    worker.on('exit', (code) => {
      if (t.pending.size) {
        log.error({ code }, 'a render thread exited with documents unfinished; they are reported failed');
        failAll(new RenderError(`render thread exited (code ${code}) with documents unfinished`));
      }
    });
    threads.push(t);
    return t;
  };

  /** (Re)start the thread's watchdog while it has work; each answer gives the next document its full time. */
  const rearm = (t: Thread) => {
    if (t.watchdog) clearTimeout(t.watchdog);
    t.watchdog = null;
    if (t.pending.size === 0) return;
    t.watchdog = setTimeout(() => {
      log.error({ timeoutMs: taskTimeoutMs, documents: t.pending.size }, 'a render thread did not finish a document in time; it is stopped and its documents fail');
      t.fail(new RenderError(`a render thread did not finish a document within ${Math.round(taskTimeoutMs / 1000)} s and was stopped`));
      void t.worker.terminate();
    }, taskTimeoutMs);
    t.watchdog.unref();
  };

  /** The least busy thread, starting another while there are fewer than `size`. */
  const pick = (): Thread => {
    const free = threads.find((t) => t.pending.size === 0);
    if (free) return free;
    if (threads.length < size) return start();
    return threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  };

  const submit = (task: RenderTask): Promise<RenderedPdf> => {
    if (closed) return Promise.reject(new RenderError('the render pool is closed'));
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    collected = false;
    const t = pick();
    const id = nextId++;
    return new Promise<RenderedPdf>((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      if (!t.watchdog) rearm(t);
      t.worker.postMessage({ id, task });
    });
  };

  return {
    parallelism: size,
    warm() {
      if (closed) return;
      while (threads.length < size) {
        const t = start();
        const id = nextId++;
        // A first small document loads the fonts and compiles the drawing code before the real ones arrive.
        t.pending.set(id, { resolve: () => undefined, reject: () => undefined });
        t.worker.postMessage({ id, task: { kind: 'warm' } satisfies RenderTask });
      }
      armIdle();
    },
    keepWarmWhile(wanted) {
      keepWarm = wanted;
    },
    pdf: (spec) => submit({ kind: 'pdf', spec }),
    document: (req) => submit({ kind: 'document', req }),
    form: (blank, def, patient, marking) => submit({ kind: 'form', blank, def, patient, marking }),
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      // What the threads are drawing (a warm-up the run no longer needed) finishes first, briefly: on
      // Node 24 a thread terminated inside a zlib call aborts the whole process ("close before init").
      const until = Date.now() + 5000;
      while (inFlight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await stopAll();
    },
  };
}
