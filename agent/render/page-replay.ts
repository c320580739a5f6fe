/**
 * A drawing written once and copied onto other pages of the same document:
 * the operators it added to a page's content and the resources (fonts,
 * images) that page gained while it drew. Writing the operators again draws
 * exactly the same marks without measuring, fitting or encoding any text a
 * second time. Fonts stay right because a font's subset is per document: the
 * glyphs were added to it by the first drawing.
 *
 * Only for drawings that set every colour, font and line width they use, so
 * their operators mean the same whatever the page drew before them.
 */
type Doc = PDFKit.PDFDocument;
type Chunk = string | Uint8Array;

interface PageInternals {
  content: { buffer: Chunk[] };
  resources: { data: Record<string, unknown> };
  write(chunk: Chunk): void;
}

/** The page dictionaries a drawing can add to (pdfkit's PDFPage getters: fonts, xobjects, ext_gstates, patterns, colorSpaces). */
const RESOURCE_KINDS = ['Font', 'XObject', 'ExtGState', 'Pattern', 'ColorSpace'] as const;

export interface RecordedDrawing {
  ops: Chunk[];
  resources: Partial<Record<(typeof RESOURCE_KINDS)[number], Record<string, unknown>>>;
}

const pageOf = (doc: Doc) => (doc as unknown as { page: PageInternals }).page;

/** Run `draw` on the current page and keep what it wrote there. */
export function recordDrawing(doc: Doc, draw: () => void): RecordedDrawing {
  const page = pageOf(doc);
  const from = page.content.buffer.length;
  draw();
  const resources: RecordedDrawing['resources'] = {};
  for (const kind of RESOURCE_KINDS) {
    const dict = page.resources.data[kind] as Record<string, unknown> | undefined;
    if (dict) resources[kind] = { ...dict };
  }
  return { ops: page.content.buffer.slice(from), resources };
}

/** Write a recorded drawing onto the current page. */
export function drawAgain(doc: Doc, drawing: RecordedDrawing): void {
  const page = pageOf(doc);
  // streams.ts keeps each operator string with the line end its write() adds: write it back without.
  for (const op of drawing.ops) page.write(typeof op === 'string' ? op.slice(0, -1) : op);
  for (const kind of RESOURCE_KINDS) {
    const from = drawing.resources[kind];
    if (from) page.resources.data[kind] = { ...((page.resources.data[kind] as object | undefined) ?? {}), ...from };
  }
}
