import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');

/** DejaVu Sans (full Vietnamese), read once per thread; both PDF engines embed subsets of it. */
export const FONT_FILES = {
  body: fs.readFileSync(path.join(FONT_DIR, 'DejaVuSans.ttf')),
  bold: fs.readFileSync(path.join(FONT_DIR, 'DejaVuSans-Bold.ttf')),
};

/**
 * Fonts for the scripts DejaVu lacks, from Debian's packages when installed
 * (fonts-droid-fallback: Chinese, Japanese, Korean; fonts-tlwg-loma-ttf: Thai).
 * Tried in this order for a character the sheet's font cannot draw; absent
 * ones are skipped, and what none can draw is marked (coverage.ts).
 */
const FALLBACK_PATHS = [
  '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
  '/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf',
  '/usr/share/fonts/truetype/tlwg/Loma.ttf',
];

export const FALLBACK_FILES: { name: string; file: Buffer }[] = (process.env.PAPERBACK_NO_FALLBACK_FONTS ? [] : FALLBACK_PATHS)
  .filter((p, i, all) => fs.existsSync(p) && !(p.includes('DroidSansFallback.ttf') && fs.existsSync(all[0]!)))
  .map((p, i) => ({ name: `fallback${i}`, file: fs.readFileSync(p) }));
