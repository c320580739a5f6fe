import path from 'node:path';
import type { Logger } from 'pino';
import { runningDemoPrinters } from '../config/load.js';
import type { PrinterConfig } from '../config/schema.js';
import { haveIppEvePrinter, startIppPrinter, type IppPrinterHandle } from './ipp-printer.js';
import { errorFields } from '../log/errors.js';

/**
 * Start a real IPP Everywhere printer (ippeveprinter) for each "demo" printer
 * file, keeping what it prints in the folder the file names, so a newcomer
 * sees a real IPP conversation. Without cups-ipp-utils (or without the
 * rights to start avahi) the printer stays a folder printer.
 */
export async function startDemoPrinters(configDir: string, printers: Iterable<PrinterConfig & { demo?: boolean }>, log: Logger): Promise<IppPrinterHandle[]> {
  const handles: IppPrinterHandle[] = [];
  const demo = [...printers].filter((p) => p.demo && p.kind === 'folder');
  if (demo.length === 0) return handles;
  if (!haveIppEvePrinter()) {
    log.info({ printers: demo.map((p) => p.id) }, 'ippeveprinter is not installed (Debian: cups-ipp-utils); the demo printer writes PDFs to a folder');
    return handles;
  }
  for (const p of demo) {
    try {
      const h = await startIppPrinter({ name: `Paperback demo printer (${p.id})`, command: '/bin/true', spool: path.resolve(configDir, p.uri) });
      runningDemoPrinters.set(p.id, h.uri);
      handles.push(h);
      log.info({ printer: p.id, uri: h.uri }, 'demo IPP printer (ippeveprinter) started on loopback');
    } catch (err) {
      log.warn({ printer: p.id, err: errorFields(err) }, 'demo IPP printer did not start; it writes PDFs to a folder instead');
    }
  }
  return handles;
}

