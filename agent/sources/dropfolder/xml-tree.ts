import { SaxesParser } from 'saxes';
import { ExportFormatError } from './formats.js';

/**
 * A small element tree read from an export's XML with saxes (strict, no
 * external entities, no DTD expansion). Exports are data, not documents:
 * attributes, comments and mixed content are not needed, so an element is
 * its name, its text and its children. A DOCTYPE is refused outright, and
 * nesting is bounded, so a hostile file cannot make the reader do much work.
 */
export interface XmlElement {
  name: string;
  text: string;
  children: XmlElement[];
}

const MAX_DEPTH = 32;

export function readXmlTree(xml: string, what: string): XmlElement {
  const parser = new SaxesParser();
  const root: XmlElement = { name: '#root', text: '', children: [] };
  const open: XmlElement[] = [root];
  parser.on('doctype', () => {
    throw new ExportFormatError(`${what}: a DOCTYPE is not allowed in an export`);
  });
  parser.on('opentag', (n) => {
    if (open.length > MAX_DEPTH) throw new ExportFormatError(`${what}: elements nested deeper than ${MAX_DEPTH}`);
    const el: XmlElement = { name: n.name, text: '', children: [] };
    open[open.length - 1]!.children.push(el);
    open.push(el);
  });
  parser.on('closetag', () => void open.pop());
  const text = (t: string) => void (open[open.length - 1]!.text += t);
  parser.on('text', text);
  parser.on('cdata', text);
  try {
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof ExportFormatError) throw err;
    // saxes says where and what ("3:14: unexpected close tag"), never the file's text.
    throw new ExportFormatError(`${what}: not well-formed XML (${(err as Error).message.replace(/\.$/, '')})`);
  }
  const top = root.children.filter((c) => c.name);
  if (top.length !== 1) throw new ExportFormatError(`${what}: no root element`);
  return top[0]!;
}

/** The first child of that name, or null. */
export const child = (el: XmlElement, name: string): XmlElement | null => el.children.find((c) => c.name === name) ?? null;

/** Every element of that name at any depth below el (tables sit in wrappers whose names vary between exporters). */
export function descendants(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name === name) out.push(c);
      else walk(c);
    }
  };
  walk(el);
  return out;
}

/** An element's leaf fields as NAME → trimmed text (empty → absent). */
export function fields(el: XmlElement): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of el.children) {
    const v = c.text.trim();
    if (c.children.length === 0 && v !== '') m.set(c.name.toUpperCase(), v);
  }
  return m;
}
