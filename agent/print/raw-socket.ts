import net from 'node:net';
import type { PrinterConfig } from '../config/schema.js';
import { PrintError } from './ipp.js';

/** Host and port of a socket:// printer (port 9100 when not given). */
export function socketAddress(p: Pick<PrinterConfig, 'uri'>): { host: string; port: number } {
  const u = new URL(p.uri);
  return { host: u.hostname, port: u.port ? Number(u.port) : 9100 };
}

/**
 * Send bytes to a raw TCP printer (JetDirect/9100) and wait until the
 * printer has taken them all and closed its side (or, for one that keeps
 * the connection open, 3 s after the last byte left).
 * A raw printer says nothing back: a clean close is as much as anyone
 * learns, so the job is recorded as sent, not as printed. Every failure is
 * retryable (unreachable, refused, cut off): the queue tries again.
 */
export function sendRaw(p: PrinterConfig, bytes: Buffer, timeoutMs = 15_000): Promise<void> {
  const { host, port } = socketAddress(p);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new PrintError(`printer ${p.id} (${host}:${port}) did not take the label within ${timeoutMs / 1000} s`, true, 'timeout')), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => finish(new PrintError(`printer ${p.id} (${host}:${port}) is not reachable: ${err.code ?? err.message}`, true, 'unreachable')));
    socket.on('connect', () => socket.end(bytes));
    // The printer closing its side means it read everything. One that keeps the connection open
    // has had every byte handed to TCP once `end` flushed: sending again would print twice.
    socket.on('finish', () => setTimeout(() => finish(), 3000).unref());
    socket.on('close', (hadError) => (hadError ? undefined : finish()));
    socket.on('data', () => undefined); // some printers answer with a status line; read and ignore it
  });
}

/** Whether the printer accepts a connection now: all a raw printer can say about itself. */
export function probeRaw(p: PrinterConfig, timeoutMs = 3000): Promise<{ reachable: boolean; detail: string }> {
  const { host, port } = socketAddress(p);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (reachable: boolean, detail: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reachable, detail });
    };
    const timer = setTimeout(() => done(false, `no answer from ${host}:${port} within ${timeoutMs / 1000} s`), timeoutMs);
    socket.on('connect', () => done(true, `accepting connections on ${host}:${port}`));
    socket.on('error', (err: NodeJS.ErrnoException) => done(false, `${host}:${port}: ${err.code ?? err.message}`));
  });
}
