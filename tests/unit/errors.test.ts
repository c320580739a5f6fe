import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { errorFields, PaperbackError } from '../../agent/log/errors.js';
import { createLogger } from '../../agent/log/logger.js';
import { ConfigError } from '../../agent/config/load.js';
import { PrintError } from '../../agent/print/ipp.js';
import { SourceError } from '../../agent/sources/http.js';
import { JobBusyError, UnknownJobError } from '../../agent/schedule/run.js';
import { BlobIntegrityError } from '../../agent/store/blobs.js';
import { AdtError } from '../../agent/sources/hl7/adt.js';
import { REPO } from '../support/fixtures.js';

describe('errors', () => {
  it('every error class under agent/ is a PaperbackError, so each has a code and says whether to retry', () => {
    const strays: string[] = [];
    let classes = 0;
    for (const e of fs.readdirSync(path.join(REPO, 'agent'), { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts')) continue;
      const file = path.join(e.parentPath, e.name);
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/class (\w+) extends (\w+)/g)) {
        if (!/Error$/.test(m[2]!)) continue;
        classes++;
        if (m[2] === 'Error' && m[1] !== 'PaperbackError') strays.push(`${path.relative(REPO, file)}: ${m[1]} extends Error`);
      }
    }
    expect(classes).toBeGreaterThan(15);
    expect(strays).toEqual([]);
  });

  it('carries the code and retry decision each kind of failure had before', () => {
    const busy = new JobBusyError('ward-1', { pid: 1, host: 'box', acquiredAt: '2026-12-05T00:00:00Z' } as never);
    expect([busy.code, busy.retryable, busy.name, busy instanceof PaperbackError]).toEqual(['job-busy', true, 'JobBusyError', true]);
    const unknown = new UnknownJobError('x', ['ward-1']);
    expect([unknown.code, unknown.retryable]).toEqual(['unknown-job', false]);
    expect([new PrintError('printer busy', true, 'busy').code, new PrintError('no PDF support', false, 'format').retryable]).toEqual(['busy', false]);
    const down = new SourceError('his.example unreachable', { url: 'https://his.example/fhir', retryable: true });
    const refused = new SourceError('HTTP 404', { status: 404, retryable: false });
    const timeout = new SourceError('too slow', { code: 'timeout', retryable: true });
    expect([down.code, down.retryable, refused.code, refused.retryable, timeout.code]).toEqual(['source', true, 'http-404', false, 'timeout']);
    const blob = new BlobIntegrityError('a'.repeat(64), 'unreadable');
    expect([blob.code, blob.name, blob.context]).toEqual(['blob-integrity', 'BlobIntegrityError', { sha256: 'a'.repeat(64), actual: 'unreadable' }]);
    expect(new ConfigError([{ file: 'paperback.yaml', field: 'box.id', line: null, message: 'is required' }]).code).toBe('config');
    expect(new AdtError('AE', { code: 102, location: null, text: 'bad date' }).code).toBe('hl7-102');
  });

  it('logs every error in one shape: name, code, retryable and a bounded message, nothing else of the object', () => {
    const lines: string[] = [];
    const log = createLogger({ destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) as never });
    const src = new SourceError(`his.example answered ${'x'.repeat(1000)}`, { url: 'https://his.example/fhir/Patient?name=Nguyen', status: 503, retryable: true });
    const errno = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC', path: '/var/lib/paperback/blobs/ab' });
    log.error({ err: errorFields(src) }, 'pull failed');
    log.error({ err: errorFields(errno) }, 'write failed');
    log.error({ err: errorFields('a string was thrown') }, 'odd');
    const errs = lines.map((l) => JSON.parse(l).err);
    expect(errs[0]).toEqual({ name: 'SourceError', code: 'http-503', retryable: true, message: expect.stringMatching(/^his\.example answered x+$/) });
    expect(errs[0].message).toHaveLength(300);
    // The URL (which can name a patient in a search) stays out of the log line.
    expect(lines[0]).not.toContain('Nguyen');
    expect(errs[1]).toEqual({ name: 'Error', code: 'ENOSPC', message: 'ENOSPC: no space left on device' });
    expect(errs[2]).toEqual({ name: 'NonError', message: 'a string was thrown' });
    // An Error handed to the logger as it is gets the same shape: no stack, no extra fields.
    log.error({ err: Object.assign(new Error('insert failed'), { row: { patientName: 'Nguyễn Văn A' } }) }, 'raw');
    expect(JSON.parse(lines[3]!).err).toEqual({ name: 'Error', message: 'insert failed' });
    expect(lines[3]).not.toContain('Nguyễn');
  });
});
