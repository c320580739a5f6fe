import type { PrinterConfig } from '../config/schema.js';
import { labelsPdf, wristbandPdf } from '../render/label-pdf.js';
import type { LabelRequest } from '../render/labels.js';
import { labelsZpl, wristbandZpl } from '../render/zpl.js';
import { PrintError } from './ipp.js';

/**
 * A label request drawn for the printer that is to print it: ZPL for a
 * thermal printer, else a PDF at the printer's label or band size, else an
 * A4 sheet (3 × 8 labels, or a band strip to cut out). Drawn at send time,
 * so a job that fails over to another kind of printer still prints.
 */
export async function labelForPrinter(req: LabelRequest, p: PrinterConfig): Promise<{ format: 'zpl' | 'pdf'; bytes: Buffer }> {
  if (p.kind === 'zpl') {
    if (req.what === 'wristband') {
      if (!p.wristband) throw new PrintError(`printer ${p.id} has labels loaded, not wristbands`, false, 'wrong-stock');
      return { format: 'zpl', bytes: wristbandZpl(req, p.wristband) };
    }
    if (!p.label) throw new PrintError(`printer ${p.id} has wristbands loaded, not labels`, false, 'wrong-stock');
    return { format: 'zpl', bytes: labelsZpl(req, p.label) };
  }
  const drawn = req.what === 'wristband' ? await wristbandPdf(req, p.wristband ?? 'a4') : await labelsPdf(req, p.label ? { kind: 'label', ...p.label } : { kind: 'a4' });
  return { format: 'pdf', bytes: drawn.pdf };
}
