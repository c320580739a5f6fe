import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { renderSnapshotDocuments } from '../../agent/render/snapshot-documents.js';
import { patientKey } from '../../agent/model/helpers.js';
import { applyEntries } from '../../agent/outage/entry-overlay.js';
import type { Entry } from '../../agent/store/downtime-entries.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { jobYaml, openTestAgent, REPO, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';
import { ADMIN, NURSE, addTestUsers, signIn } from '../support/web.js';

/**
 * One language per sheet: with language vi no wording Paperback itself
 * writes in English appears on paper or page, and the reverse for en. The
 * wording files are the list of what Paperback writes: every phrase of one
 * language that the other does not share is looked for in the other's output.
 * Data from the HIS stays as sent (the test's patients have Vietnamese and
 * English names, and English drug names), so only whole phrases count.
 */
const wording = (lang: string) => JSON.parse(fs.readFileSync(path.join(REPO, 'templates/i18n', `${lang}.json`), 'utf8')) as Record<string, string>;

/** The phrases of one language's wording that the other language never uses: placeholders split them. */
function ownPhrases(lang: 'vi' | 'en'): string[] {
  const mine = wording(lang);
  const other = Object.values(wording(lang === 'vi' ? 'en' : 'vi')).join('\n');
  const phrases = new Set<string>();
  for (const value of Object.values(mine)) {
    for (const piece of value.split(/\{\w+\}/)) {
      const p = piece.replace(/[\s:;,.—·()⚠‼[\]]+$/u, '').replace(/^[\s:;,.—·()⚠‼[\]]+/u, '').trim();
      // Short words ("Bed", "F") can be data; a phrase of three words or 12 letters cannot be by chance.
      if ((p.split(/\s+/).length >= 3 || p.length >= 12) && !other.includes(p)) phrases.add(p);
    }
  }
  return [...phrases];
}

const visibleText = (html: string) =>
  html
    .replace(/<script[^]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

function foreignIn(text: string, lang: 'vi' | 'en'): string[] {
  return ownPhrases(lang === 'vi' ? 'en' : 'vi').filter((p) => text.includes(p));
}

const NOW = new Date('2026-11-22T03:00:00Z');

describe('one language per sheet and page', () => {
  let his: { server: FhirTestServer; hospital: SyntheticHospital };
  let a: TestAgent;
  let dir: string;
  beforeAll(async () => {
    his = await startHis({ patients: 16, now: NOW, seed: 7 });
    dir = writeConfigDir(tmpDir(), {
      baseUrl: his.server.url,
      jobs: { 'ward-1': jobYaml('ward-1').replace('documents: [census, mar]', 'documents: [census, allergies, mar, summary]') },
      // Nobody answers there: a print waits in the queue, with its states on the page.
      printers: { ward: 'id: ward\nname: Ward printer\nuri: ipp://127.0.0.1:9/ipp/print\n' },
    });
    a = openTestAgent(dir);
    expect((await runJob({ ...a, now: () => NOW }, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
  }, 60_000);
  afterAll(async () => {
    a?.db.close();
    await his?.server.close();
  });

  it('has phrases of its own in each language to look for', () => {
    expect(ownPhrases('en').length).toBeGreaterThan(100);
    expect(ownPhrases('vi').length).toBeGreaterThan(100);
    expect(ownPhrases('en')).toContain('No known allergies (NKA) recorded by the source');
  });

  it('prints every document kind in vi with none of its English wording, and in en with none of its Vietnamese', async () => {
    const cur = currentSnapshot(a.db, 'ward-1')!;
    const his = JSON.parse(a.blobs.get(getArtifact(a.db, cur.id, 'data/ward')!.sha256).toString()) as WardSnapshot;
    // With every kind of downtime entry on it, so their wording is checked too.
    const [p1, p2] = his.patients;
    const entry = (id: number, patient: typeof p1, payload: Record<string, unknown>, correction: string | null = null) =>
      ({ id, uid: `u${id}`, downtimeId: 1, jobId: 'ward-1', patient: patientKey(patient!), kind: payload.kind, occurredAt: NOW.toISOString(), enteredAt: NOW.toISOString(), enteredBy: 'lan.nguyen', recordSha256: '', correctsId: null, correctionReason: correction, state: 'pending', attempts: 0, lastError: null, filedAt: null, filedRef: null, payload, correctedBy: null }) as unknown as Entry;
    const ward = applyEntries(his, {
      entries: [
        entry(1, p1, { kind: 'administration', orderId: null, drug: 'Paracetamol 500 mg', outcome: 'refused', reason: 'buồn nôn' }, 'sửa giờ'),
        entry(2, p1, { kind: 'vitals', temperatureC: 38.2, pulse: 96, systolic: 120, diastolic: 80, respiratoryRate: 18, spo2: 97, pain: 3 }),
        entry(3, p1, { kind: 'note', text: 'Gia đình đã được báo' }),
        entry(4, p1, { kind: 'transfer', toBed: 'X9' }),
        entry(5, p2, { kind: 'discharge', destination: 'nhà' }),
      ],
      admissions: [],
    });
    for (const language of ['vi', 'en'] as const) {
      const docs = await renderSnapshotDocuments(ward, { documents: ['census', 'allergies', 'mar', 'summary'], forms: ['vital-signs'], language, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Test', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
      const kinds = new Set<string>();
      for (const d of docs) {
        if (!d.content || d.meta.mediaType !== 'application/pdf' || d.meta.address.startsWith('blank/')) continue;
        kinds.add(d.meta.address.split('/')[0]!);
        const { text } = pdfText(d.content);
        expect(foreignIn(text, language), `${language}:${d.meta.address}`).toEqual([]);
      }
      expect([...kinds].sort()).toEqual(['allergies', 'census', 'form', 'mar', 'summary']);
    }
  }, 120_000);

  it('serves every page in vi with none of its English wording, and in en with none of its Vietnamese', async () => {
    await addTestUsers(a.db);
    const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const mrn = his.hospital.wards[0]!.patients[0]!.mrn!;
      const printed = await (await signIn(base, NURSE)).form('/print', { address: `ward-1/mar/${mrn}`, printer: 'ward', copies: '1' });
      expect(printed.status).toBe(303);
      for (const language of ['vi', 'en'] as const) {
        const nurse = await signIn(base, NURSE);
        const admin = await signIn(base, ADMIN);
        const pages: [typeof nurse, string][] = [
          [nurse, '/ward/ward-1'],
          [nurse, `/ward/ward-1/patient/${mrn}`],
          [nurse, '/ward/ward-1/forms'],
          [nurse, `/ward/ward-1/patient/${mrn}/record`],
          [nurse, `/print?doc=ward-1/mar/${mrn}`],
          [nurse, '/print-jobs'],
          [nurse, printed.headers.get('location')!],
          [admin, '/admin'],
        ];
        for (const [who, url] of pages) {
          const res = await who.fetch(`${url}${url.includes('?') ? '&' : '?'}lang=${language}`);
          expect(res.status, url).toBe(200);
          const text = visibleText(await res.text());
          expect(foreignIn(text, language), `${language}:${url}`).toEqual([]);
          // Labels too short for the phrase scan, which a Vietnamese page must still not show in English.
          if (language === 'vi') expect(text, `vi:${url}`).not.toMatch(/\bMRN\b/);
        }
        const login = await (await fetch(`${base}/login?lang=${language}`, { headers: { cookie: `lang=${language}` } })).text();
        expect(foreignIn(visibleText(login), language), `${language}:/login`).toEqual([]);
      }
    } finally {
      await app.close();
    }
  }, 120_000);
});
