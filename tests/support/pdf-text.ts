import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './fixtures.js';

/**
 * What a printed PDF says, read back as a person's tools read it: pdftotext
 * in content order, whitespace folded, whole and page by page. Safety rules
 * are proved on this, never on the view model.
 */
export function pdfText(pdf: Buffer, keepIn?: string): { text: string; pages: string[] } {
  const dir = keepIn ?? tmpDir('pb-pdftext-');
  const file = path.join(dir, `doc-${fs.readdirSync(dir).length}.pdf`);
  fs.writeFileSync(file, pdf);
  const raw = execFileSync('pdftotext', ['-raw', file, '-']).toString();
  if (!keepIn) fs.rmSync(dir, { recursive: true, force: true });
  return { text: raw.replace(/\s+/g, ' '), pages: raw.split('\f').filter((p) => p.trim()).map((p) => p.replace(/\s+/g, ' ')) };
}
