import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(new URL(import.meta.url).pathname);
export const REPO = path.resolve(here, '../..');

const made: string[] = [];
let removeOnExit = false;

/**
 * A throwaway folder, removed when this process exits: a hospital snapshot
 * leaves some 300 MB of PDFs and a database behind, and a few bench runs
 * filled /tmp. BENCH_KEEP_DIRS=1 keeps them to look at.
 */
export function benchTmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  if (!removeOnExit && !process.env.BENCH_KEEP_DIRS) {
    removeOnExit = true;
    process.on('exit', () => {
      for (const d of made) fs.rmSync(d, { recursive: true, force: true });
    });
    // Stopped by hand (Ctrl-C), too: 'exit' is not emitted for a signal.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  }
  return dir;
}

/** A throwaway configuration folder for a benchmark: paperback.yaml, jobs, the repo's templates. */
export function benchConfigDir(prefix: string, paperbackYaml: string, jobs: Record<string, string>): string {
  const dir = benchTmpDir(prefix);
  fs.mkdirSync(path.join(dir, 'snapshots'));
  fs.mkdirSync(path.join(dir, 'printers'));
  fs.symlinkSync(path.join(REPO, 'templates'), path.join(dir, 'templates'));
  fs.writeFileSync(path.join(dir, 'paperback.yaml'), paperbackYaml);
  for (const [id, text] of Object.entries(jobs)) fs.writeFileSync(path.join(dir, 'snapshots', `${id}.yaml`), text);
  return dir;
}

/**
 * Whether the module at `moduleUrl` (its import.meta.url) is the script node
 * was started with, rather than imported by another bench. By real path, so a
 * checkout under a symlink or a folder with spaces in its name still counts.
 */
export function startedDirectly(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
