import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
export const REPO = path.resolve(here, '../..');

/** A throwaway configuration folder for a benchmark: paperback.yaml, jobs, the repo's templates. */
export function benchConfigDir(prefix: string, paperbackYaml: string, jobs: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.mkdirSync(path.join(dir, 'snapshots'));
  fs.mkdirSync(path.join(dir, 'printers'));
  fs.symlinkSync(path.join(REPO, 'templates'), path.join(dir, 'templates'));
  fs.writeFileSync(path.join(dir, 'paperback.yaml'), paperbackYaml);
  for (const [id, text] of Object.entries(jobs)) fs.writeFileSync(path.join(dir, 'snapshots', `${id}.yaml`), text);
  return dir;
}
