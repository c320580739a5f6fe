import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/fixtures.js';

/**
 * The README's Layout is the map a newcomer reads first: every folder it
 * names is in the repository, and every folder of the repository (and of
 * agent/) is on it.
 */
function mapOf(readme: string): { top: string[]; agent: string[] } {
  const block = /## Layout\s+```\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no Layout block');
  const top = [...block.matchAll(/^([a-z][\w.-]*)\/\s/gm)].map((m) => m[1]!);
  const agent = [...block.matchAll(/^ {2}([a-z][\w.-]*)\/\s/gm)].map((m) => m[1]!);
  return { top, agent };
}

describe('the README layout map', () => {
  const map = mapOf(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
  // What a clean checkout has: the files git tracks (an empty folder is not in a clone).
  const tracked = execFileSync('git', ['ls-files'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
  const foldersUnder = (prefix: string) => [...new Set(tracked.filter((f) => f.startsWith(prefix) && f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length).split('/')[0]!))].filter((d) => !d.startsWith('.')).sort();

  it('names every top-level folder of a checkout, and only those', () => {
    expect(map.top.length).toBeGreaterThan(5);
    expect([...map.top].sort()).toEqual(foldersUnder(''));
  });

  it("names every folder of agent/, and only those", () => {
    expect(map.agent.length).toBeGreaterThan(5);
    expect([...map.agent].sort()).toEqual(foldersUnder('agent/'));
  });
});
