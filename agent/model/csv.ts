/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line
 * break, and never read as a formula by a spreadsheet: a leading = + - @
 * (or tab, CR) gets a quote in front (OWASP CSV injection). Every export a
 * person opens in Excel (the audit log, downtime numbers, downtimes) uses it.
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
