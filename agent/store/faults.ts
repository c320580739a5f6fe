/**
 * Named pause points for crash tests. When PAPERBACK_FAULT_PAUSE names a point,
 * the process announces it on stderr and freezes there (blocking the event
 * loop, as a hung disk would) so a test can SIGKILL it mid-write. Inert in
 * production: the variable is never set by Paperback itself.
 */
const target = process.env.PAPERBACK_FAULT_PAUSE ?? null;

export function faultPoint(name: string): void {
  if (target === null || target !== name) return;
  process.stderr.write(`PAPERBACK_FAULT_PAUSED ${name}\n`);
  const lock = new Int32Array(new SharedArrayBuffer(4));
  // Freeze for up to a minute; the test kills us long before.
  Atomics.wait(lock, 0, 0, 60_000);
}
