import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/fixtures.js';

/**
 * The one-way flow of data between the rooms under agent/, as a test: a new
 * import that runs against it fails here, naming the file. The rules are
 * those of docs/architecture.md (sources → model → render → store →
 * print/web; schedule and outage orchestrate; web and cli only wire).
 */
const AGENT = path.join(REPO, 'agent');

/** Every import between rooms: [from file, from room, to room], type-only imports included. */
function roomImports(): { file: string; from: string; to: string }[] {
  const out: { file: string; from: string; to: string }[] = [];
  for (const e of fs.readdirSync(AGENT, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const file = path.join(e.parentPath, e.name);
    const from = path.relative(AGENT, file).split(path.sep)[0]!;
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gm)) {
      const rel = path.relative(AGENT, path.resolve(path.dirname(file), m[1]!));
      if (rel.startsWith('..')) continue;
      const to = rel.split(path.sep)[0]!;
      if (to !== from) out.push({ file: path.relative(REPO, file), from, to });
    }
  }
  return out;
}

const RULES: { room: string; never: string[]; why: string }[] = [
  { room: 'model', never: ['*'], why: 'the normalized ward is plain data and pure helpers' },
  { room: 'config', never: ['*', '!model', '!log'], why: 'configuration is validated with no knowledge of what uses it (log holds the base error every room throws)' },
  { room: 'sources', never: ['render', 'web', 'schedule', 'outage', 'print', 'cli'], why: 'a source pulls and validates; it never knows about PDFs or who schedules it' },
  { room: 'render', never: ['sources', 'web', 'schedule', 'outage', 'print', 'cli'], why: 'rendering turns the model into documents, whoever pulled it' },
  { room: 'store', never: ['sources', 'render', 'web', 'schedule', 'outage', 'print', 'cli', 'auth', 'audit'], why: 'the store never knows about FHIR, PDFs or pages' },
  { room: 'fileback', never: ['render', 'schedule', 'print', 'auth', 'audit'], why: 'file-back sends what the store holds to the HIS; it draws, schedules and prints nothing' },
  { room: '*', never: ['web', 'cli'], why: 'web and cli only wire: nothing is built on them' },
];

describe('the rooms under agent/', () => {
  it('import only in the direction data flows', () => {
    const imports = roomImports();
    expect(imports.length).toBeGreaterThan(100);
    const broken: string[] = [];
    for (const i of imports) {
      for (const r of RULES) {
        if (r.room !== '*' && r.room !== i.from) continue;
        if (r.room === '*' && (i.from === 'cli' || (i.from === 'web' && i.to === 'web'))) continue;
        const allowed = r.never.filter((n) => n.startsWith('!')).map((n) => n.slice(1));
        const forbidden = r.never.includes('*') ? !allowed.includes(i.to) : r.never.includes(i.to);
        if (forbidden) broken.push(`${i.file}: ${i.from} → ${i.to} (${r.why})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('has no room missing from the rules’ map of the house', () => {
    const rooms = fs.readdirSync(AGENT, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(rooms).toEqual(['audit', 'auth', 'cli', 'config', 'demo', 'fileback', 'log', 'model', 'outage', 'print', 'render', 'schedule', 'sources', 'store', 'types', 'web']);
  });
});
