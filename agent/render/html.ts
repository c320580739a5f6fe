import type { Block, DocumentSpec, Tone } from './blocks.js';

/** Escape for HTML text and attribute values: data from the HIS is never markup. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const lines = (s: string) => s.split('\n').map(escapeHtml).join('<br>');
/** The class attribute for a tone, and any other class the element needs (a nowrap column's cells). */
const cls = (tone: Tone | undefined, extra: string | null = null) => {
  const names = [tone && tone !== 'normal' ? `tone-${tone}` : null, extra].filter(Boolean);
  return names.length ? ` class="${names.join(' ')}"` : '';
};

function block(b: Block): string {
  switch (b.type) {
    case 'heading':
      return `<h${b.level + 1}>${escapeHtml(b.text)}</h${b.level + 1}>`;
    case 'text':
      return `<p${cls(b.tone)}>${lines(b.text)}</p>`;
    case 'notice':
      return `<section class="notice notice-${b.tone}" role="${b.tone === 'alert' ? 'alert' : 'note'}"><h4>${escapeHtml(b.title)}</h4>${b.lines.map((l) => `<p>${lines(l)}</p>`).join('')}</section>`;
    case 'fields':
      return `<dl class="fields">${b.items.map((f) => `<div><dt>${escapeHtml(f.label)}</dt><dd${cls(f.tone)}>${lines(f.value)}</dd></div>`).join('')}</dl>`;
    case 'table': {
      const head = `<thead><tr>${b.columns.map((c) => `<th scope="col"${c.align && c.align !== 'left' ? ` style="text-align:${c.align}"` : ''}>${escapeHtml(c.label)}</th>`).join('')}</tr></thead>`;
      const rows = b.rows.length
        ? b.rows.map((r) => `<tr${cls(r.tone)}>${r.cells.map((c, i) => `<td${cls(c.tone, b.columns[i]?.nowrap ? 'nowrap' : null)}${b.columns[i]?.align === 'center' ? ' style="text-align:center"' : ''}>${lines(c.text)}</td>`).join('')}</tr>`).join('')
        : `<tr><td colspan="${b.columns.length}" class="tone-strong">${escapeHtml(b.empty ?? '')}</td></tr>`;
      // A table wider than a phone scrolls in its own box: focusable and named, so a keyboard can scroll it too.
      return `<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(b.columns.map((c) => c.label).filter(Boolean).slice(0, 3).join(', '))}"><table>${head}<tbody>${rows}</tbody></table></div>`;
    }
    case 'page-break':
      return '<hr class="page-break">';
  }
}

/**
 * The same document the PDF shows, as an HTML fragment for the ward page.
 * The stamp becomes a header: screens can be mistaken for live data too.
 */
export function renderHtmlFragment(spec: DocumentSpec): string {
  const s = spec.stamp;
  const p = spec.patient;
  return [
    `<article class="doc doc-${spec.orientation}">`,
    `<header class="doc-stamp"><strong>${escapeHtml(s.marking)} — ${escapeHtml(s.documentTitle)}</strong><span>${escapeHtml(s.hospital)} · ${escapeHtml(s.ward)}</span></header>`,
    `<p class="doc-asof">${s.footer.map(escapeHtml).join('<br>')}</p>`,
    s.banner ? `<p class="doc-banner" role="alert">⚠ ${escapeHtml(s.banner)}</p>` : '',
    p ? `<div class="doc-patient"><strong>${escapeHtml(p.name)}</strong> <span>${escapeHtml(p.mrnLabel ?? 'MRN')} ${escapeHtml(p.mrn)} · ${escapeHtml(p.birthDate)} · ${escapeHtml(p.bed)}${p.ids ? ` · ${escapeHtml(p.ids)}` : ''}</span>${p.alert ? `<br><span class="doc-alert">${escapeHtml(p.alert)}</span>` : ''}</div>` : '',
    ...spec.blocks.map(block),
    '</article>',
  ].join('\n');
}

export const DOCUMENT_CSS = `
.doc{font-family:"DejaVu Sans","Noto Sans",Arial,sans-serif;font-size:14px;color:#000}
.doc-stamp{display:flex;justify-content:space-between;gap:1em;background:#000;color:#fff;padding:.4em .6em}
.doc-asof{font-size:.85em;margin:.3em 0}
.doc-banner{border:2px solid #b00000;color:#b00000;font-weight:bold;padding:.3em}
.doc-patient{border:2px solid #000;padding:.4em;margin:.4em 0}
.doc-alert{color:#b00000;font-weight:bold}
.notice{border:1px solid #000;padding:.3em .6em;margin:.5em 0}.notice-alert{border:3px solid #000}
.notice h4{margin:.2em 0}.notice-alert h4,.notice-alert p{color:#b00000;font-weight:bold}
.fields{display:grid;grid-template-columns:repeat(auto-fit,minmax(16em,1fr));gap:.2em 1em}.fields dt{font-size:.8em;color:#333}.fields dd{margin:0 0 .3em}
.table-wrap{overflow-x:auto}td.nowrap{white-space:nowrap}table{border-collapse:collapse;width:100%;margin:.3em 0 .8em}th{background:#d9d9d9;text-align:left}
th,td{border:1px solid #000;padding:.25em .35em;vertical-align:top}
.tone-alert{color:#b00000;font-weight:bold}.tone-strong{font-weight:bold}.tone-muted{color:#444}
`;

/** A whole HTML page for one document (the Chromium comparison in bench/ prints this). */
export function renderHtmlPage(spec: DocumentSpec, lang: string): string {
  const size = `${spec.size === 'LETTER' ? 'letter' : 'A4'} ${spec.orientation}`;
  return `<!doctype html><html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><title>${escapeHtml(spec.stamp.documentTitle)}</title><style>@page{size:${size};margin:10mm}${DOCUMENT_CSS}</style></head><body>${renderHtmlFragment(spec)}</body></html>`;
}
