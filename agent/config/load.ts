import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { ZodType } from 'zod';
import {
  boxConfigSchema,
  printerSchema,
  snapshotJobSchema,
  type BoxConfig,
  type PrinterConfig,
  type SnapshotJob,
} from './schema.js';
import { PaperbackError } from '../log/errors.js';

/** One problem in one configuration file, phrased for the IT person who edits it. */
export interface ConfigProblem {
  file: string;
  /** Dotted path of the field, e.g. "schedule.cron"; "" for the whole file. */
  field: string;
  line: number | null;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

export class ConfigError extends PaperbackError {
  constructor(readonly problems: ConfigProblem[]) {
    super('config', problems.map(formatProblem).join('\n'));
  }
}

export interface LoadedConfig {
  dir: string;
  box: BoxConfig;
  /** Absolute data directory. */
  dataDir: string;
  /** Absolute path of the data key file, or null for the systemd credential. */
  keyFile: string | null;
  /** Where the audit chain's anchor is written (audit.anchorFile, else audit-anchor.json in the data folder). */
  auditAnchorFile: string;
  /** The templates: the config folder's own templates/, else the ones shipped with Paperback. */
  templatesDir: string;
  /** Where audit rows older than history.keepDays are archived (audit.archiveDir, else audit-archive/ in the data folder). */
  auditArchiveDir: string;
  jobs: Map<string, SnapshotJob & { file: string }>;
  /** `demo: true` marks a "demo" printer, already resolved to ipp or folder. */
  printers: Map<string, PrinterConfig & { file: string; demo?: boolean }>;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

/** Parse one YAML or JSON file against a schema, with line numbers for every problem. */
export function parseConfigFile<T>(file: string, schema: ZodType<T>, displayName = file): Parsed<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file: displayName, field: '', line: null, message: `cannot read: ${(err as Error).message}` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file: displayName,
        field: '',
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
        message: `not valid YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  let data: unknown;
  try {
    // The yaml library refuses documents whose aliases would expand without bound (a "billion laughs").
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, problems: [{ file: displayName, field: '', line: null, message: `not valid YAML: ${(err as Error).message}` }] };
  }
  if (data === null || data === undefined) {
    return { ok: false, problems: [{ file: displayName, field: '', line: null, message: 'file is empty' }] };
  }
  const res = schema.safeParse(data);
  if (res.success) return { ok: true, value: res.data };
  return {
    ok: false,
    problems: res.error.issues.map((issue) => {
      const segs = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      // Point at the deepest node that exists: a missing field is reported on its parent's line.
      let line: number | null = null;
      for (let n = segs.length; n >= 0 && line === null; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
        if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
      }
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = 'is required';
      return { file: displayName, field: segs.join('.'), line, message };
    }),
  };
}

function listYaml(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function boxConfigFile(dir: string): string | null {
  for (const name of ['paperback.yaml', 'paperback.yml', 'paperback.json']) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

export function loadJob(dir: string, file: string): Parsed<SnapshotJob> {
  return parseConfigFile(file, snapshotJobSchema, path.relative(dir, file));
}

export function loadPrinter(dir: string, file: string): Parsed<PrinterConfig> {
  return parseConfigFile(file, printerSchema, path.relative(dir, file));
}

/** Problems that span paperback.yaml and the job files: sources, wards, HL7 ward maps and clinical sources (printer references: printerChecks). */
export function crossCheck(box: BoxConfig, jobs: Iterable<SnapshotJob & { file: string }>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const sourceIds = new Set(box.sources.map((s) => s.id));
  const wardIds = new Set(box.wards.map((w) => w.id));
  for (const job of jobs) {
    const at = (field: string, message: string) => problems.push({ file: job.file, field, line: null, message });
    if (!sourceIds.has(job.source)) at('source', `no source "${job.source}" in paperback.yaml (have: ${[...sourceIds].join(', ')})`);
    if (!wardIds.has(job.scope.ward)) at('scope.ward', `no ward "${job.scope.ward}" in paperback.yaml (have: ${[...wardIds].join(', ')})`);
  }
  for (const [i, s] of box.sources.entries()) {
    if (s.kind === 'hl7' || s.kind === 'dropfolder') {
      for (const [poc, ward] of Object.entries(s.wards)) {
        if (!wardIds.has(ward)) problems.push({ file: 'paperback.yaml', field: `sources.${i}.wards.${poc}`, line: null, message: `no ward "${ward}" in wards (have: ${[...wardIds].join(', ')})` });
      }
    }
    if ((s.kind !== 'hl7' && s.kind !== 'dropfolder') || !s.clinical) continue;
    const target = box.sources.find((x) => x.id === s.clinical);
    if (!target || (target.kind !== 'fhir' && target.kind !== 'demo')) {
      problems.push({ file: 'paperback.yaml', field: `sources.${i}.clinical`, line: null, message: `"${s.clinical}" must be the id of a FHIR source in sources` });
    }
  }
  const fb = box.fileBack;
  if (fb?.to === 'fhir') {
    const target = box.sources.find((x) => x.id === fb.source);
    if (!target || (target.kind !== 'fhir' && target.kind !== 'demo')) problems.push({ file: 'paperback.yaml', field: 'fileBack.source', line: null, message: `"${fb.source}" must be the id of a FHIR source in sources` });
  }
  return problems;
}

/** Jobs' and printers' references to printers, and files printers name: none of it needs paperback.yaml. */
function printerChecks(dir: string, jobs: Iterable<SnapshotJob & { file: string }>, printers: Map<string, PrinterConfig & { file: string }>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const job of jobs) {
    const at = (field: string, message: string) => problems.push({ file: job.file, field, line: null, message });
    if (job.downtime.printer && !printers.has(job.downtime.printer)) at('downtime.printer', `no printer "${job.downtime.printer}" in printers/ (have: ${[...printers.keys()].join(', ') || 'none'})`);
    if (job.downtime.print.length > 0 && !job.downtime.printer) at('downtime.printer', 'is required when downtime.print names documents');
    for (const d of job.downtime.print) if (!job.documents.includes(d)) at('downtime.print', `"${d}" is not among this job's documents`);
  }
  for (const p of printers.values()) {
    if ('caFile' in p && p.caFile && !fs.existsSync(path.resolve(dir, p.caFile))) problems.push({ file: p.file, field: 'caFile', line: null, message: `file not found: ${path.resolve(dir, p.caFile)}` });
    if (p.fallback && !printers.has(p.fallback)) problems.push({ file: p.file, field: 'fallback', line: null, message: `no printer "${p.fallback}" in printers/` });
    if (p.fallback === p.id) problems.push({ file: p.file, field: 'fallback', line: null, message: 'a printer cannot be its own fallback' });
    else if (p.fallback) {
      // A → B → A: a failing job would be passed round the loop instead of reported.
      const seen = [p.id];
      let next = printers.get(p.fallback);
      while (next && !seen.includes(next.id)) {
        seen.push(next.id);
        next = next.fallback ? printers.get(next.fallback) : undefined;
      }
      if (next && next.id === p.id) problems.push({ file: p.file, field: 'fallback', line: null, message: `the fallbacks go round in a loop: ${[...seen, p.id].join(' → ')}` });
    }
  }
  return problems;
}

/**
 * What the files a configuration names must be: there (TLS certificates and
 * keys, CA files), and the data key outside the data folder (a copy of the data
 * with its key in it is no protection). Forms a job lists must exist.
 */
function checkFiles(dir: string, box: BoxConfig, dataDir: string, jobs: Iterable<SnapshotJob & { file: string }>, templatesDir: string | null): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const must = (field: string, file: string | undefined) => {
    if (!file) return;
    const f = path.resolve(dir, file);
    if (!fs.existsSync(f)) return void problems.push({ file: 'paperback.yaml', field, line: null, message: `file not found: ${f}` });
    try {
      fs.accessSync(f, fs.constants.R_OK);
    } catch {
      problems.push({ file: 'paperback.yaml', field, line: null, message: `cannot be read by this user: ${f}` });
    }
  };
  // The data key is made on first start only when createKey says so; otherwise it must be there and readable.
  if (box.encryption.keyFile && !box.encryption.createKey) must('encryption.keyFile', box.encryption.keyFile);
  must('web.tls.certFile', box.web.tls?.certFile);
  must('web.tls.keyFile', box.web.tls?.keyFile);
  box.sources.forEach((s, i) => {
    if ('tls' in s && s.tls) {
      must(`sources.${i}.tls.certFile`, s.tls.certFile);
      must(`sources.${i}.tls.keyFile`, s.tls.keyFile);
      must(`sources.${i}.tls.caFile`, s.tls.caFile);
    }
    if ('caFile' in s) must(`sources.${i}.caFile`, s.caFile);
    if (s.kind === 'sql') {
      must(`sources.${i}.connection.passwordFile`, s.connection.passwordFile);
      must(`sources.${i}.connection.tls.caFile`, s.connection.tls?.caFile);
    }
  });
  if (box.encryption.keyFile) {
    const key = path.resolve(dir, box.encryption.keyFile);
    const rel = path.relative(dataDir, key);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) problems.push({ file: 'paperback.yaml', field: 'encryption.keyFile', line: null, message: `the data key must be outside the data folder (${dataDir}): a copy of the data would carry its own key` });
  }
  const formsFile = path.join(templatesDir ?? path.join(dir, 'templates'), 'forms', 'forms.yaml');
  const formIds = new Set<string>();
  if (fs.existsSync(formsFile)) {
    try {
      const parsed = parseDocument(fs.readFileSync(formsFile, 'utf8')).toJS() as { forms?: { id?: string }[] } | { id?: string }[] | null;
      for (const f of (Array.isArray(parsed) ? parsed : parsed?.forms) ?? []) if (f?.id) formIds.add(f.id);
    } catch {
      // The render step reports a broken forms.yaml with its line; here only ids are wanted.
    }
  }
  for (const job of jobs) {
    job.forms.forEach((id, i) => {
      if (!formIds.has(id)) problems.push({ file: job.file, field: `forms.${i}`, line: null, message: `no form "${id}" in templates/forms/forms.yaml (have: ${[...formIds].join(', ') || 'none'})` });
    });
  }
  return problems;
}

function collect<T extends { id: string }>(
  dir: string,
  sub: string,
  load: (dir: string, file: string) => Parsed<T>,
  problems: ConfigProblem[],
): Map<string, T & { file: string }> {
  const out = new Map<string, T & { file: string }>();
  for (const file of listYaml(path.join(dir, sub))) {
    const rel = path.relative(dir, file);
    const res = load(dir, file);
    if (!res.ok) {
      problems.push(...res.problems);
      continue;
    }
    const prev = out.get(res.value.id);
    if (prev) {
      problems.push({ file: rel, field: 'id', line: null, message: `id "${res.value.id}" is already used by ${prev.file}` });
      continue;
    }
    out.set(res.value.id, { ...res.value, file: rel });
  }
  return out;
}

/** The templates that ship with Paperback (the release's templates/), for a config folder without its own. */
export const SHIPPED_TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', ...(fileURLToPath(import.meta.url).endsWith('.js') ? ['..'] : []), 'templates');

/**
 * A config folder's own templates/ if it has one (IT edits those), else the
 * shipped ones: a copied demo folder, or one made from scratch, still works.
 */
function templatesOf(dir: string): { dir: string } | ConfigProblem {
  const own = path.join(dir, 'templates');
  if (fs.existsSync(own)) return fs.existsSync(path.join(own, 'documents')) ? { dir: own } : { file: 'templates/', field: '', line: null, message: `${own} has no documents/ folder: copy templates/ from the release, or remove the folder to use the shipped templates` };
  if (fs.existsSync(path.join(SHIPPED_TEMPLATES, 'documents'))) return { dir: SHIPPED_TEMPLATES };
  return { file: 'templates/', field: '', line: null, message: `no templates/ beside paperback.yaml and none shipped at ${SHIPPED_TEMPLATES}: copy templates/ from the release` };
}

/** Load and validate the whole configuration folder; throws ConfigError listing every problem. */
export function loadConfig(dir: string, opts: { dataDir?: string } = {}): LoadedConfig {
  const absDir = path.resolve(dir);
  const problems: ConfigProblem[] = [];
  const boxFile = boxConfigFile(absDir);
  if (!boxFile) {
    throw new ConfigError([{ file: path.join(absDir, 'paperback.yaml'), field: '', line: null, message: 'not found: is --config the folder that holds paperback.yaml?' }]);
  }
  const boxRes = parseConfigFile(boxFile, boxConfigSchema, path.basename(boxFile));
  if (!boxRes.ok) problems.push(...boxRes.problems);
  const jobs = collect(absDir, 'snapshots', loadJob, problems);
  const printers = collect(absDir, 'printers', loadPrinter, problems);
  // Everything that does not need a valid paperback.yaml is checked even when it is not: one pass shows every problem.
  problems.push(...printerChecks(absDir, jobs.values(), printers));
  const templates = templatesOf(absDir);
  if ('message' in templates) problems.push(templates);
  if (boxRes.ok) problems.push(...crossCheck(boxRes.value, jobs.values()));
  if (boxRes.ok) problems.push(...checkFiles(absDir, boxRes.value, path.resolve(absDir, opts.dataDir ?? process.env.PAPERBACK_DATA ?? boxRes.value.dataDir), jobs.values(), 'dir' in templates ? templates.dir : null));
  if (problems.length > 0 || !boxRes.ok) throw new ConfigError(problems);
  const box = boxRes.value;
  const dataDir = path.resolve(absDir, opts.dataDir ?? process.env.PAPERBACK_DATA ?? box.dataDir);
  const keyFile = box.encryption.keyFile ? path.resolve(absDir, box.encryption.keyFile) : null;
  for (const [id, p] of printers) if (p.kind === 'demo') printers.set(id, resolveDemoPrinter(p));
  const auditAnchorFile = box.audit.anchorFile ? path.resolve(absDir, box.audit.anchorFile) : path.join(dataDir, 'audit-anchor.json');
  const auditArchiveDir = box.audit.archiveDir ? path.resolve(absDir, box.audit.archiveDir) : path.join(dataDir, 'audit-archive');
  return { dir: absDir, box, dataDir, keyFile, auditAnchorFile, auditArchiveDir, templatesDir: (templates as { dir: string }).dir, jobs, printers };
}

/**
 * The demo printers this process has started (id → ipp:// URI). A "demo"
 * printer is that IPP printer when it runs, else a folder: every load and
 * reload resolves it the same way, so the rest of the agent sees only ipp
 * and folder printers.
 */
export const runningDemoPrinters = new Map<string, string>();

function resolveDemoPrinter<P extends PrinterConfig>(p: P): P & { demo: true } {
  const uri = runningDemoPrinters.get(p.id);
  return uri ? { ...p, kind: 'ipp', uri, demo: true } : { ...p, kind: 'folder', demo: true };
}
