import * as fontkit from 'fontkit';
import { FONT_FILES } from './font-files.js';

/**
 * Text drawn into a 1-bit picture, for printers whose own fonts lack
 * Vietnamese (a thermal printer's resident fonts draw "Nguyễn" as
 * "Nguy?n"). DejaVu's outlines, shaped by fontkit (so stacked diacritics sit
 * where the font puts them), filled by a small scanline rasterizer with the
 * nonzero rule. No canvas, no native code: the same on every box.
 */
export interface Bitmap {
  width: number;
  height: number;
  /** Rows top to bottom, each `bytesPerRow` bytes, the leftmost dot in the high bit; 1 = black. */
  data: Uint8Array;
  bytesPerRow: number;
}

const fonts = new Map<'body' | 'bold', fontkit.Font>();
const fontOf = (w: 'body' | 'bold') => fonts.get(w) ?? fonts.set(w, fontkit.create(FONT_FILES[w])).get(w)!;

type Edge = { x0: number; y0: number; x1: number; y1: number; dir: 1 | -1 };

/** A glyph outline's contours as straight edges, curves split into short segments, in dots (y down). */
function outlineEdges(commands: fontkit.PathCommand[], map: (x: number, y: number) => [number, number], edges: Edge[]): void {
  let start: [number, number] | null = null;
  let at: [number, number] = [0, 0];
  const line = (to: [number, number]) => {
    if (to[1] !== at[1]) edges.push(at[1] < to[1] ? { x0: at[0], y0: at[1], x1: to[0], y1: to[1], dir: 1 } : { x0: to[0], y0: to[1], x1: at[0], y1: at[1], dir: -1 });
    at = to;
  };
  const STEPS = 8;
  for (const c of commands) {
    const a = c.args;
    if (c.command === 'moveTo') {
      if (start) line(start);
      at = start = map(a[0]!, a[1]!);
    } else if (c.command === 'lineTo') line(map(a[0]!, a[1]!));
    else if (c.command === 'quadraticCurveTo') {
      const p0 = at;
      const p1 = map(a[0]!, a[1]!);
      const p2 = map(a[2]!, a[3]!);
      for (let i = 1; i <= STEPS; i++) {
        const t = i / STEPS;
        const u = 1 - t;
        line([u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0], u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1]]);
      }
    } else if (c.command === 'bezierCurveTo') {
      const p0 = at;
      const p1 = map(a[0]!, a[1]!);
      const p2 = map(a[2]!, a[3]!);
      const p3 = map(a[4]!, a[5]!);
      for (let i = 1; i <= STEPS; i++) {
        const t = i / STEPS;
        const u = 1 - t;
        line([u ** 3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t ** 3 * p3[0], u ** 3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t ** 3 * p3[1]]);
      }
    } else if (c.command === 'closePath' && start) {
      line(start);
      start = null;
    }
  }
  if (start) line(start);
}

/** The width in dots `text` takes at `heightDots` (ascent to descent). */
export function textWidth(text: string, heightDots: number, weight: 'body' | 'bold' = 'body'): number {
  const font = fontOf(weight);
  const scale = heightDots / (font.ascent - font.descent);
  return Math.ceil(font.layout(text.normalize('NFC')).positions.reduce((s, p) => s + p.xAdvance, 0) * scale);
}

/**
 * `text` in black on white, `heightDots` tall; when `maxWidthDots` is given
 * the text is drawn smaller (never below 60 %) and then cut with "…" so it
 * fits, since a label's width is fixed.
 */
export function textBitmap(text: string, o: { heightDots: number; weight?: 'body' | 'bold'; maxWidthDots?: number }): Bitmap {
  const weight = o.weight ?? 'body';
  const font = fontOf(weight);
  let s = text.normalize('NFC');
  let height = o.heightDots;
  if (o.maxWidthDots) {
    while (height > o.heightDots * 0.6 && textWidth(s, height, weight) > o.maxWidthDots) height -= 1;
    while (s.length > 1 && textWidth(s, height, weight) > o.maxWidthDots) s = `${s.slice(0, -2)}…`;
  }
  const scale = height / (font.ascent - font.descent);
  const baseline = font.ascent * scale + (o.heightDots - height);
  const run = font.layout(s);
  const edges: Edge[] = [];
  let pen = 0;
  run.glyphs.forEach((g, i) => {
    const p = run.positions[i]!;
    const ox = pen + p.xOffset * scale;
    const oy = p.yOffset * scale;
    outlineEdges(g.path.commands, (x, y) => [ox + x * scale, baseline - oy - y * scale], edges);
    pen += p.xAdvance * scale;
  });
  const width = Math.max(1, Math.ceil(pen));
  const bytesPerRow = Math.ceil(width / 8);
  const data = new Uint8Array(bytesPerRow * o.heightDots);
  for (let row = 0; row < o.heightDots; row++) {
    const y = row + 0.5;
    const crossings: { x: number; dir: number }[] = [];
    for (const e of edges) if (y >= e.y0 && y < e.y1) crossings.push({ x: e.x0 + ((y - e.y0) / (e.y1 - e.y0)) * (e.x1 - e.x0), dir: e.dir });
    crossings.sort((a, b) => a.x - b.x);
    let winding = 0;
    for (let i = 0; i < crossings.length - 1; i++) {
      winding += crossings[i]!.dir;
      if (winding === 0) continue;
      // Dots whose centres fall inside the span.
      const from = Math.max(0, Math.ceil(crossings[i]!.x - 0.5));
      const to = Math.min(width - 1, Math.floor(crossings[i + 1]!.x - 0.5));
      for (let x = from; x <= to; x++) data[row * bytesPerRow + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return { width, height: o.heightDots, data, bytesPerRow };
}

/** The picture turned a quarter clockwise: text that reads along a wristband, printed across the head. */
export function rotateClockwise(b: Bitmap): Bitmap {
  const width = b.height;
  const height = b.width;
  const bytesPerRow = Math.ceil(width / 8);
  const data = new Uint8Array(bytesPerRow * height);
  for (let y = 0; y < b.height; y++) {
    for (let x = 0; x < b.width; x++) {
      if (!(b.data[y * b.bytesPerRow + (x >> 3)]! & (0x80 >> (x & 7)))) continue;
      // (x, y) → (height-1-y, x)
      const nx = b.height - 1 - y;
      data[x * bytesPerRow + (nx >> 3)]! |= 0x80 >> (nx & 7);
    }
  }
  return { width, height, data, bytesPerRow };
}
