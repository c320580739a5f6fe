import { SaxesParser } from 'saxes';
import type { Block, Cell, Column, Tone } from './blocks.js';
import { PaperbackError } from '../log/errors.js';

/**
 * Paperback's document markup: what a Handlebars template in templates/documents
 * produces. A small, fixed vocabulary that both renderers (PDF and HTML)
 * understand, so a template cannot ask for something one of them cannot draw:
 *
 *   <document orientation="landscape|portrait">
 *     <heading level="1|2|3">…</heading>
 *     <text tone="normal|alert|muted|strong">…</text>
 *     <notice title="…" tone="alert|normal"><line>…</line>…</notice>
 *     <fields><field label="…" tone="…">…</field>…</fields>
 *     <table empty="…"><column width="6" align="left|center|right">Label</column>…
 *       <row tone="…" min-height="24"><cell tone="…">…</cell>…</row>…</table>
 *     <column nowrap="true"> keeps each line of its cells whole (shrunk to fit, never broken): bed labels.
 *     <page-break/>
 *   </document>
 *
 * Handlebars' {{…}} escapes every value from the HIS, so data can never become
 * markup here, and the PDF and HTML renderers escape again for their own targets.
 */

export class TemplateError extends PaperbackError {
  constructor(readonly file: string, readonly line: number | null, problem: string) {
    super('template', `${file}${line ? `:${line}` : ''}: ${problem}`);
  }
}

/** An element of the markup, or a run of its text. */
interface Node {
  tag: string;
  attrs: Record<string, string>;
  children: Node[];
  text?: string;
  /** Output line where the element opened, for errors. */
  line?: number;
}

/**
 * HTML names a template author may reach for (&nbsp; &mdash; …), beyond XML's
 * five; an unknown name is an error, as in XML.
 */
const HTML_ENTITIES: Record<string, string> = {
  nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae', trade: '\u2122', mdash: '\u2014', ndash: '\u2013', hellip: '\u2026',
  laquo: '\u00ab', raquo: '\u00bb', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d', bull: '\u2022',
  para: '\u00b6', sect: '\u00a7', deg: '\u00b0', frac12: '\u00bd', frac14: '\u00bc', frac34: '\u00be', middot: '\u00b7',
  times: '\u00d7', plusmn: '\u00b1', micro: '\u00b5', cent: '\u00a2', pound: '\u00a3', yen: '\u00a5', euro: '\u20ac',
};

/**
 * The template's output as a tree, checked to be well-formed XML in the same
 * single pass (saxes: a strict parser, about ten times faster here than
 * validating and then parsing, which was an eighth of a render thread's time).
 */
function parseTree(xml: string, file: string): Node[] {
  const parser = new SaxesParser();
  Object.assign(parser.ENTITIES, HTML_ENTITIES);
  const top: Node = { tag: '#root', attrs: {}, children: [] };
  const open: Node[] = [top];
  const text = (t: string) => open[open.length - 1]!.children.push({ tag: '#text', attrs: {}, children: [], text: t });
  parser.on('opentag', (n) => {
    const el: Node = { tag: n.name, attrs: n.attributes as Record<string, string>, children: [], line: parser.line };
    open[open.length - 1]!.children.push(el);
    open.push(el);
  });
  // On a mismatched end tag saxes closes the inner element, then fails: remember which one it was.
  let lastClosed: Node | null = null;
  parser.on('closetag', () => void (lastClosed = open.pop() ?? null));
  parser.on('text', text);
  parser.on('cdata', text);
  try {
    parser.write(xml).close();
  } catch (err) {
    const line = parser.line;
    const msg = (err as Error).message.replace(/^\d+:\d+: /, '').replace(/\.$/, '');
    // The usual slip in a template is a tag left open: name it and where it opened.
    const unclosed = msg.startsWith('unexpected close tag') ? lastClosed : msg.startsWith('unclosed tag') && open.length > 1 ? open[open.length - 1]! : null;
    const where = unclosed ? `; <${unclosed.tag}> opened at output line ${unclosed.line} is not closed` : '';
    throw new TemplateError(file, null, `produced invalid markup at output line ${line}: ${msg}${where}`);
  }
  return top.children;
}

const TONES = new Set(['normal', 'alert', 'muted', 'strong']);

/** Text of a node: lines trimmed (template indentation is not content), blank lines dropped. */
function textOf(n: Node): string {
  const raw = n.children
    .map((c) => c.text ?? '')
    .join('');
  return raw
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
}

export interface ParsedDocument {
  orientation: 'portrait' | 'landscape';
  blocks: Block[];
}

export function parseMarkup(xml: string, file: string): ParsedDocument {
  const roots = parseTree(xml, file).filter((n) => n.tag !== '#text');
  const root = roots[0];
  if (!root || root.tag !== 'document' || roots.length !== 1) throw new TemplateError(file, null, 'the template must produce exactly one <document> element');
  const fail = (what: string): never => {
    throw new TemplateError(file, null, what);
  };
  const tone = (n: Node, where: string): Tone | undefined => {
    const t = n.attrs.tone;
    if (t === undefined || t === '') return undefined;
    if (!TONES.has(t)) fail(`<${where}> tone="${t}" is not one of normal, alert, muted, strong`);
    return t as Tone;
  };
  const num = (v: string | undefined, where: string, dflt?: number): number | undefined => {
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) fail(`${where} must be a number, not "${v}"`);
    return n;
  };
  const blocks: Block[] = [];
  for (const n of root.children) {
    const tag = n.tag;
    if (tag === '#text') {
      if (n.text!.trim()) fail(`text outside an element: "${n.text!.trim().slice(0, 40)}"`);
      continue;
    }
    const kids = n.children.filter((c) => c.tag !== '#text');
    switch (tag) {
      case 'heading': {
        const level = Number(n.attrs.level ?? 2);
        if (![1, 2, 3].includes(level)) fail('<heading> level must be 1, 2 or 3');
        blocks.push({ type: 'heading', level: level as 1 | 2 | 3, text: textOf(n) });
        break;
      }
      case 'text':
        blocks.push({ type: 'text', text: textOf(n), tone: tone(n, 'text') });
        break;
      case 'notice': {
        const t = n.attrs.tone ?? 'normal';
        if (t !== 'alert' && t !== 'normal') fail('<notice> tone must be alert or normal');
        blocks.push({ type: 'notice', title: n.attrs.title ?? '', tone: t as 'alert' | 'normal', lines: kids.filter((k) => k.tag === 'line').map(textOf).filter(Boolean) });
        break;
      }
      case 'fields':
        blocks.push({ type: 'fields', items: kids.map((k) => (k.tag === 'field' ? { label: k.attrs.label ?? '', value: textOf(k), tone: tone(k, 'field') } : fail(`<fields> may only hold <field>, not <${k.tag}>`))) });
        break;
      case 'table': {
        const columns: Column[] = [];
        const rows: { cells: Cell[]; tone?: Tone; minHeight?: number }[] = [];
        for (const k of kids) {
          if (k.tag === 'column') {
            const align = k.attrs.align;
            if (align && !['left', 'center', 'right'].includes(align)) fail(`<column> align="${align}" must be left, center or right`);
            const nowrap = k.attrs.nowrap;
            if (nowrap && nowrap !== 'true' && nowrap !== 'false') fail(`<column> nowrap="${nowrap}" must be true or false`);
            columns.push({ label: textOf(k), width: num(k.attrs.width, '<column> width', 1)!, align: align as Column['align'], nowrap: nowrap === 'true' });
          } else if (k.tag === 'row') {
            const cells = k.children
              .filter((c) => c.tag !== '#text')
              .map((c) => (c.tag === 'cell' ? { text: textOf(c), tone: tone(c, 'cell') } : fail(`<row> may only hold <cell>, not <${c.tag}>`)));
            rows.push({ cells, tone: tone(k, 'row'), minHeight: num(k.attrs['min-height'], '<row> min-height') });
          } else fail(`<table> may only hold <column> and <row>, not <${k.tag}>`);
        }
        if (columns.length === 0) fail('<table> needs at least one <column>');
        rows.forEach((r, i) => {
          if (r.cells.length !== columns.length) fail(`a <row> (number ${i + 1}) has ${r.cells.length} cells for ${columns.length} columns`);
        });
        blocks.push({ type: 'table', columns, rows, empty: n.attrs.empty });
        break;
      }
      case 'page-break':
        blocks.push({ type: 'page-break' });
        break;
      default:
        fail(`unknown element <${tag}> (use heading, text, notice, fields, table, page-break)`);
    }
  }
  const orientation = root.attrs.orientation ?? 'portrait';
  if (orientation !== 'portrait' && orientation !== 'landscape') fail('<document> orientation must be portrait or landscape');
  return { orientation: orientation as ParsedDocument['orientation'], blocks };
}
