import zlib from 'node:zlib';

/**
 * Two costs of pdfkit's stream objects (PDFReference), changed once per
 * process on its prototype:
 *
 * - Every drawing operator (a colour, a rectangle, each line of text) became
 *   its own small Buffer as it was written: a census wrote some 4,000 of them.
 *   Operators are now kept as strings and turned into bytes once, when the
 *   stream is finished; fonts and images still arrive as bytes and keep their
 *   place between them.
 * - pdfkit deflates every stream at zlib's default level (6). Level 1 is about
 *   three times faster for pages and font programs that come out some 8 %
 *   larger: worth it for a box that renders a hospital on two cores. With
 *   memLevel 9 (a larger hash table than the default 8) the font programs of
 *   a census and a MAR (14-19 kB each) deflate in 0.18-0.19 ms instead of
 *   0.21 ms, no larger; page streams take the same time either way.
 *
 * The bytes written are the same operators in the same order as pdfkit's own
 * (pdfkit is pinned to 0.17.x; tests/render checks extracted text, embedded
 * fonts and every page's picture against what pdfkit draws).
 */
/** A number as pdfkit writes it into content streams (PDFObject.number), for operators written directly. */
export const pdfNumber = (n: number) => Math.round(n * 1e6) / 1e6;

const DEFLATE: zlib.ZlibOptions = { level: 1, memLevel: 9 };

type Chunk = string | Uint8Array;
interface StreamRef {
  compress: boolean;
  buffer: Chunk[];
  data: { Length?: number; Filter?: string };
}
interface StreamProto {
  write(this: StreamRef, chunk: Chunk): void;
  finalize(this: StreamRef): void;
  __paperbackStreams?: boolean;
}

/** Runs of operator strings joined and encoded once; bytes kept as they are. */
function toBytes(chunks: Chunk[]): Buffer {
  const parts: Uint8Array[] = [];
  let text = '';
  for (const c of chunks) {
    if (typeof c === 'string') {
      text += c;
      continue;
    }
    if (text) parts.push(Buffer.from(text, 'binary'));
    text = '';
    parts.push(c);
  }
  if (text) parts.push(Buffer.from(text, 'binary'));
  return Buffer.concat(parts);
}

/** Patch the stream prototype behind `anyRef` (any document's `ref()`); idempotent. */
export function patchStreams(anyRef: object): void {
  const proto = Object.getPrototypeOf(anyRef) as StreamProto;
  if (proto.__paperbackStreams) return;
  const finalize = proto.finalize;
  proto.write = function write(this: StreamRef, chunk: Chunk) {
    // As pdfkit's: a string is one line of the stream. Length is set in finalize.
    this.buffer.push(chunk instanceof Uint8Array ? chunk : `${chunk}\n`);
    if (this.data.Length == null) this.data.Length = 0;
    if (this.compress) this.data.Filter = 'FlateDecode';
  };
  proto.finalize = function (this: StreamRef) {
    if (this.buffer.length) {
      const bytes = toBytes(this.buffer);
      this.buffer = [this.compress ? zlib.deflateSync(bytes, DEFLATE) : bytes];
      // Filter /FlateDecode is already in the dictionary; pdfkit's finalize must not deflate again.
      this.compress = false;
    }
    finalize.call(this);
  };
  proto.__paperbackStreams = true;
}
