import type { PDFFont } from 'pdf-lib';

/** `text` as it fits `width` at `size` in a pdf-lib font: whole, or cut and ended with "…". */
export function fitText(font: PDFFont, text: string, size: number, width: number): string {
  if (font.widthOfTextAtSize(text, size) <= width) return text;
  let t = text;
  while (t.length > 1 && font.widthOfTextAtSize(`${t}…`, size) > width) t = t.slice(0, -1);
  return `${t}…`;
}
