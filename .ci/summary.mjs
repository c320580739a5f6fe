// Print vitest's totals as one plain line ("N passed, N failed, N skipped") for CI logs.
import fs from 'node:fs';
const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.log('0 passed, 1 failed (no test results were written)');
  process.exit(0);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`);
