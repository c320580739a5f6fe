import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Vitest global setup: every temporary folder of a test run (data folders
 * with keys and rendered sheets, printer spools, LDAP and CUPS state) is made
 * under one folder, removed when the run ends. Before, each run left some 300
 * folders in /tmp. The test processes inherit TMPDIR, and os.tmpdir() reads
 * it. PAPERBACK_KEEP_TEST_DIRS=1 keeps the folder to look at.
 */
export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paperback-tests-'));
  // CUPS runs its filters as lp, which must pass through to its own folder (each folder inside stays 0700).
  fs.chmodSync(root, 0o711);
  process.env.TMPDIR = root;
  return () => {
    if (process.env.PAPERBACK_KEEP_TEST_DIRS) console.log(`test folders kept in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  };
}
