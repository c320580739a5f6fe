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
