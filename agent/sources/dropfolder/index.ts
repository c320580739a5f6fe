import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { z } from 'zod';
import { SourceError } from '../http.js';
import type { PullRequest, PullResult, Source } from '../types.js';
import { pullClinicalData, withClinicalSystem } from '../clinical.js';
import { assertExportText, censusRow, censusToPatients, ExportFormatError, medicationRow, medicationRowToOrder, parseRows, resultRow, resultRowToResult } from './formats.js';
import { recentResults, type WardSnapshot } from '../../model/ward.js';
import { readInsuranceXml, type InsuranceRecord } from './insurance-xml.js';
import { insuranceToWard, splitByWard } from './insurance-ward.js';

/**
 * A folder the HIS exports into. Files arrive in inbox/ named
 * WARD.census.csv|json, WARD.medications.csv|json, WARD.NAME.pdf (a ready-made
 * report, with an optional WARD.NAME.pdf.json sidecar {"asOf", "title"}), or
 * forms/NAME.pdf, or the insurance XML (any NAME.xml: a GIAMDINHHS envelope,
 * its records sent to wards by department code). A file is taken once it has
 * stopped changing; it is validated, then moved into accepted/WARD/
 * (replacing the previous one) or into quarantine/ with a .reason file beside
 * it. Nothing is half-read or lost.
 */

/** What reading the insurance XML needs: the box's zone and how a department code names a ward. */
export interface InsuranceXmlOptions {
  timeZone: string;
  wardOf: (code: string) => string | null;
}

const sidecarSchema = z.object({ asOf: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time').optional(), title: z.string().min(1).max(200).optional() }).strict();

const NAME = /^(?<ward>[a-z0-9][a-z0-9-]*)\.(?<kind>census|medications|results|[a-z0-9][a-z0-9-]*)\.(?<ext>csv|json|pdf)(?<sidecar>\.json)?$/;

export interface DropFolder {
  inbox: string;
  accepted: string;
  quarantine: string;
}

export function dropFolderPaths(folder: string): DropFolder {
  const p = { inbox: path.join(folder, 'inbox'), accepted: path.join(folder, 'accepted'), quarantine: path.join(folder, 'quarantine') };
  for (const d of Object.values(p)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(p.accepted, 'forms'), { recursive: true });
  return p;
}

function quarantine(f: DropFolder, file: string, reason: string, log: Logger): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = path.join(f.quarantine, `${stamp}-${path.basename(file)}`);
  fs.renameSync(file, target);
  fs.writeFileSync(`${target}.reason`, `${reason}\n`);
  log.warn({ file: path.basename(file), reason }, 'drop-folder file quarantined');
}

/**
 * Largest export read. A ward's census or medication list is kilobytes (a
 * 40-bed ward's medications ~100 KB); 16 MB is room for any real ward and
 * parses in well under a second, so the ward page is never held up by it.
 */
const MAX_EXPORT_BYTES = 16 * 1024 * 1024;
/** A ready-made report or form: pages of print, not a database dump. */
const MAX_PDF_BYTES = 64 * 1024 * 1024;

/** What an insurance XML replaces in a ward's folder: it is that ward's census and medications. */
const REPLACED_BY_INSURANCE_XML = ['census.csv', 'census.json', 'medications.csv', 'medications.json'];

/** Write a file whole or not at all, with the export's own time (the data is as old as the export). */
function writeWhole(target: string, content: string, mtime: Date): void {
  const tmp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content);
  fs.utimesSync(tmp, mtime, mtime);
  fs.renameSync(tmp, target);
}

/**
 * The insurance XML: read whole, split by ward, then each ward's records
 * written as that ward's census (and medications); the original is kept under
 * accepted/insurance-xml/. Every check runs before anything is written.
 */
function ingestInsuranceXml(f: DropFolder, file: string, content: Buffer, xml: InsuranceXmlOptions, log: Logger): void {
  const writtenAt = fs.statSync(file).mtime;
  const exp = readInsuranceXml(assertExportText(content), xml.timeZone);
  const { byWard, otherCodes, discharged } = splitByWard(exp, xml.wardOf, writtenAt);
  for (const [ward, records] of byWard) {
    const dir = path.join(f.accepted, ward);
    fs.mkdirSync(dir, { recursive: true });
    writeWhole(path.join(dir, 'insurance.json'), JSON.stringify({ facility: exp.facility, records }), writtenAt);
    for (const other of REPLACED_BY_INSURANCE_XML) fs.rmSync(path.join(dir, other), { force: true });
  }
  const keep = path.join(f.accepted, 'insurance-xml');
  fs.mkdirSync(keep, { recursive: true });
  fs.renameSync(file, path.join(keep, path.basename(file)));
  log.info({ file: path.basename(file), wards: [...byWard.keys()], records: exp.records.length, discharged, otherDepartments: otherCodes.length }, 'insurance XML accepted');
}

/** Validate one inbox file and move it where it belongs. Returns where it went. */
export function ingestFile(f: DropFolder, file: string, log: Logger, xml?: InsuranceXmlOptions): 'accepted' | 'quarantined' | 'ignored' {
  const base = path.basename(file);
  if (base.startsWith('.') || /\.(tmp|part|partial|crdownload)$/i.test(base) || !fs.existsSync(file)) return 'ignored';
  const inForms = path.basename(path.dirname(file)) === 'forms';
  try {
    // Read only what an export can be: a huge file parsed in one go would stall the ward page while it runs.
    const size = fs.statSync(file).size;
    const limit = /\.pdf$/i.test(base) ? MAX_PDF_BYTES : MAX_EXPORT_BYTES;
    if (size > limit) throw new ExportFormatError(`file of ${Math.round(size / 1048576)} MB is over the ${limit / 1048576} MB an export of this kind may be`);
    const content = fs.readFileSync(file);
    if (inForms) {
      if (!/\.pdf$/i.test(base) || content.subarray(0, 5).toString() !== '%PDF-') throw new ExportFormatError('a form must be a PDF file');
      fs.renameSync(file, path.join(f.accepted, 'forms', base));
      return 'accepted';
    }
    if (/\.xml$/i.test(base)) {
      if (!xml) throw new ExportFormatError('an insurance XML needs the box\'s time zone and wards: this source was started without them');
      ingestInsuranceXml(f, file, content, xml, log);
      return 'accepted';
    }
    const m = NAME.exec(base);
    if (!m?.groups) throw new ExportFormatError('name must be WARD.census.csv|json, WARD.medications.csv|json, WARD.results.csv|json or WARD.NAME.pdf');
    const { ward, kind, ext, sidecar } = m.groups as { ward: string; kind: string; ext: string; sidecar?: string };
    if (sidecar) {
      if (ext !== 'pdf') throw new ExportFormatError('only PDF reports take a .json sidecar');
      let json: unknown;
      try {
        json = JSON.parse(assertExportText(content));
      } catch (err) {
        if (err instanceof ExportFormatError) throw err;
        throw new ExportFormatError('sidecar: not valid JSON');
      }
      const res = sidecarSchema.safeParse(json);
      if (!res.success) throw new ExportFormatError(`sidecar: ${res.error.issues[0]!.path.join('.')} ${res.error.issues[0]!.message}`);
    } else if (ext === 'pdf') {
      if (content.subarray(0, 5).toString() !== '%PDF-') throw new ExportFormatError('not a PDF file (no %PDF- header)');
    } else if (kind === 'census') parseRows(assertExportText(content), ext as 'csv' | 'json', censusRow);
    else if (kind === 'medications') parseRows(assertExportText(content), ext as 'csv' | 'json', medicationRow);
    else if (kind === 'results') parseRows(assertExportText(content), ext as 'csv' | 'json', resultRow);
    else throw new ExportFormatError(`unknown export "${kind}" (census, medications and results are CSV/JSON; reports are PDF)`);
    const dir = path.join(f.accepted, ward);
    fs.mkdirSync(dir, { recursive: true });
    // Keep one of each kind: a new census replaces the older one, whatever its format (the insurance XML's included).
    if (!sidecar && ext !== 'pdf') for (const other of ['csv', 'json']) if (other !== ext) fs.rmSync(path.join(dir, `${kind}.${other}`), { force: true });
    if (kind === 'census') fs.rmSync(path.join(dir, 'insurance.json'), { force: true });
    fs.renameSync(file, path.join(dir, sidecar ? `${kind}.pdf.json` : `${kind}.${ext}`));
    log.info({ file: base, ward, kind }, 'drop-folder file accepted');
    return 'accepted';
  } catch (err) {
    // Our own messages name rows and columns, never the file's text; anything else is reported by its kind only.
    quarantine(f, file, err instanceof ExportFormatError ? err.message : `could not read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`, log);
    return 'quarantined';
  }
}

/**
 * Take a file only once its size and modification time have held still for
 * `stableMs`: an exporter writing in pieces is never read half-way. (Exporters
 * that can should still write NAME.tmp and rename; .tmp/.part files are ignored.)
 */
export function watchInbox(f: DropFolder, log: Logger, stableMs = 700, xml?: InsuranceXmlOptions): { watcher: FSWatcher; ready: Promise<void> } {
  const pending = new Map<string, NodeJS.Timeout>();
  const sig = (file: string) => {
    try {
      const st = fs.statSync(file);
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return null;
    }
  };
  const consider = (file: string, last: string | null) => {
    clearTimeout(pending.get(file));
    pending.set(
      file,
      setTimeout(() => {
        const now = sig(file);
        if (now === null) return void pending.delete(file);
        if (now !== last) return consider(file, now);
        pending.delete(file);
        ingestFile(f, file, log, xml);
      }, stableMs),
    );
  };
  const w = watch(f.inbox, { ignoreInitial: false, depth: 1, usePolling: false });
  w.on('add', (file) => consider(file, sig(file)));
  w.on('change', (file) => consider(file, sig(file)));
  const ready = new Promise<void>((r) => w.once('ready', () => r()));
  const close = w.close.bind(w);
  // Pending stability timers must not fire into a closed folder.
  w.close = async () => {
    pending.forEach((t) => clearTimeout(t));
    pending.clear();
    return close();
  };
  return { watcher: w, ready };
}

/** Printed on every sheet made from the insurance XML alone: what that format cannot say. */
const INSURANCE_WARNINGS: WardSnapshot['warnings'] = [
  { code: 'partial-data', message: 'From the insurance XML: it holds no allergy information (ask the patient and check the paper chart); medications are each patient\'s orders of the latest order day, without dose times or administrations.', say: { key: 'warning.insuranceXml' } },
];

function readOptional(dir: string, kind: string): { text: string; ext: 'csv' | 'json'; mtime: Date } | null {
  for (const ext of ['csv', 'json'] as const) {
    const p = path.join(dir, `${kind}.${ext}`);
    if (fs.existsSync(p)) return { text: fs.readFileSync(p, 'utf8'), ext, mtime: fs.statSync(p).mtime };
  }
  return null;
}

/** A ward's census as the insurance XML gave it, with the time it was written, or null. */
function readInsurance(dir: string): { records: InsuranceRecord[]; mtime: Date } | null {
  const p = path.join(dir, 'insurance.json');
  if (!fs.existsSync(p)) return null;
  return { records: (JSON.parse(fs.readFileSync(p, 'utf8')) as { records: InsuranceRecord[] }).records, mtime: fs.statSync(p).mtime };
}

export function createDropFolderSource(
  cfg: { id: string; name: string; folder: string; wards?: Record<string, string> },
  opts: { configDir: string; log: Logger; watch?: boolean; clinical?: Source; timeZone?: string; wardIds?: () => string[] },
): Source & { folder: DropFolder; ready: Promise<void> } {
  const folder = dropFolderPaths(path.resolve(opts.configDir, cfg.folder));
  const xml: InsuranceXmlOptions | undefined = opts.timeZone && opts.wardIds ? { timeZone: opts.timeZone, wardOf: (code) => cfg.wards?.[code] ?? (opts.wardIds!().includes(code) ? code : null) } : undefined;
  const inbox = opts.watch === false ? null : watchInbox(folder, opts.log.child({ source: cfg.id }), 700, xml);
  const info = { id: cfg.id, system: cfg.name, location: folder.inbox };
  return {
    info,
    folder,
    ready: inbox?.ready ?? Promise.resolve(),
    async pull(req: PullRequest): Promise<PullResult> {
      const dir = path.join(folder.accepted, req.ward.id);
      const census = readOptional(dir, 'census');
      const insurance = census ? null : readInsurance(dir);
      if (!census && !insurance) throw new SourceError(`no census export for ward ${req.ward.id} yet (expected ${req.ward.id}.census.csv or .json, or an insurance XML with its department, in ${folder.inbox})`, { retryable: false, code: 'no-census' });
      const { beds, patients } = census ? censusToPatients(parseRows(census.text, census.ext, censusRow), req.nameOrder) : insuranceToWard(insurance!.records);
      // Census from the export; clinical data per patient from FHIR by MRN when configured, else the medications export.
      const clinical = await pullClinicalData(opts.clinical, req, patients, cfg.name);
      if (!clinical && req.datasets.includes('medications') && census) {
        const meds = readOptional(dir, 'medications');
        if (!meds) throw new SourceError(`no medications export for ward ${req.ward.id} (expected ${req.ward.id}.medications.csv or .json); the job asks for medications`, { retryable: false, code: 'no-medications' });
        const rows = parseRows(meds.text, meds.ext, medicationRow);
        for (const p of patients) {
          p.orders = { status: 'available', items: rows.map((r, i) => ({ r, i })).filter(({ r }) => r.mrn === p.mrn).map(({ r, i }) => medicationRowToOrder(r, i)) };
        }
      }
      // The data is as old as the census export, not as new as this read.
      // Recent results from the results export, when the job asks and the FHIR source (if any) did not give them.
      if (req.datasets.includes('results') && !clinical) {
        const res = readOptional(dir, 'results');
        if (res) {
          const rows = parseRows(res.text, res.ext, resultRow);
          for (const p of patients) p.results = recentResults(rows.filter((r) => r.mrn === p.mrn).map(resultRowToResult), req.now);
        }
      }
      const warnings = [...(clinical?.warnings ?? [])];
      if (insurance && !clinical) warnings.push(...INSURANCE_WARNINGS);
      const snapshot: WardSnapshot = { ward: req.ward, asOf: (census ?? insurance)!.mtime.toISOString(), source: withClinicalSystem(info, opts.clinical), beds, patients: clinical?.patients ?? patients, warnings };
      const reports = fs.existsSync(dir)
        ? fs.readdirSync(dir).filter((n) => n.endsWith('.pdf')).map((n) => {
            const p = path.join(dir, n);
            const side = fs.existsSync(`${p}.json`) ? (JSON.parse(fs.readFileSync(`${p}.json`, 'utf8')) as { asOf?: string; title?: string }) : {};
            return { address: `report/${n.replace(/\.pdf$/, '')}`, title: side.title ?? n.replace(/\.pdf$/, ''), asOf: side.asOf ? new Date(side.asOf).toISOString() : fs.statSync(p).mtime.toISOString(), pdf: fs.readFileSync(p) };
          })
        : [];
      return { snapshot, requests: clinical?.requests ?? 0, reports };
    },
    async probe() {
      fs.accessSync(folder.inbox, fs.constants.W_OK);
    },
    async close() {
      await inbox?.watcher.close();
    },
  };
}
