/**
 * MLLP framing (HL7 v2.5.1 appendix C): <VT> message <FS><CR>. A pure reader
 * over the bytes of one connection, so its rules are tested without sockets:
 * - a start byte inside an unfinished frame discards the partial frame and
 *   starts a new one (the sender restarted; two messages are never merged);
 * - a frame over the limit keeps only its first bytes (enough to read MSH and
 *   answer) and is reported as oversize, and the connection goes on;
 * - bytes outside any frame are reported, so the listener can close a peer
 *   that is not speaking MLLP. CR and LF between frames are tolerated.
 */
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

export type FrameEvent =
  | { kind: 'message'; bytes: Buffer }
  | { kind: 'oversize'; head: Buffer; size: number }
  | { kind: 'discarded-partial'; size: number; bytes: Buffer }
  | { kind: 'unframed'; size: number };

export interface FrameReader {
  push(chunk: Buffer): FrameEvent[];
  /** True while bytes outside a frame were seen and no frame has started since. */
  readonly unframed: boolean;
}

/** Bytes of an oversize frame kept to answer and quarantine it: the header and the start of the body. */
const OVERSIZE_HEAD = 64 * 1024;

export function frameReader(maxMessageBytes: number): FrameReader {
  let inFrame = false;
  let parts: Buffer[] = [];
  let size = 0;
  let kept = 0;
  let skipCr = false;
  let unframed = false;
  const append = (b: Buffer) => {
    size += b.length;
    // Never hold more than the limit: the rest of an oversize frame is counted, not kept.
    const room = maxMessageBytes - kept;
    if (room > 0) {
      const take = b.subarray(0, room);
      parts.push(take);
      kept += take.length;
    }
  };
  const start = () => {
    inFrame = true;
    parts = [];
    size = 0;
    kept = 0;
    unframed = false;
  };
  return {
    get unframed() {
      return unframed;
    },
    push(chunk) {
      const out: FrameEvent[] = [];
      let pos = 0;
      if (skipCr && chunk.length > 0) {
        if (chunk[0] === CR) pos = 1;
        skipCr = false;
      }
      while (pos < chunk.length) {
        if (!inFrame) {
          const vt = chunk.indexOf(VT, pos);
          const gap = chunk.subarray(pos, vt < 0 ? chunk.length : vt);
          const junk = gap.filter((x) => x !== CR && x !== 0x0a).length;
          if (junk > 0) {
            out.push({ kind: 'unframed', size: junk });
            unframed = true;
          }
          if (vt < 0) break;
          start();
          pos = vt + 1;
          continue;
        }
        const fs = chunk.indexOf(FS, pos);
        const vt = chunk.indexOf(VT, pos);
        if (vt >= 0 && (fs < 0 || vt < fs)) {
          append(chunk.subarray(pos, vt));
          out.push({ kind: 'discarded-partial', size, bytes: Buffer.concat(parts) });
          start();
          pos = vt + 1;
          continue;
        }
        if (fs < 0) {
          append(chunk.subarray(pos));
          break;
        }
        append(chunk.subarray(pos, fs));
        const bytes = Buffer.concat(parts);
        out.push(size > maxMessageBytes ? { kind: 'oversize', head: bytes.subarray(0, OVERSIZE_HEAD), size } : { kind: 'message', bytes });
        inFrame = false;
        parts = [];
        pos = fs + 1;
        if (pos < chunk.length) {
          if (chunk[pos] === CR) pos++;
        } else skipCr = true;
      }
      return out;
    },
  };
}
