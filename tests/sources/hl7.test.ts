import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import tls from 'node:tls';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgent, type Agent } from '../../agent/cli/boot.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { freePort } from '../../agent/demo/ipp-printer.js';
import { frame } from '../../agent/sources/hl7/mllp.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { memoryLogger, runCli, spawnUntil, startHis, tmpDir } from '../support/fixtures.js';
import { HAVE_MLLP_SEND, adt, hl7ConfigDir, send } from '../support/hl7.js';

const configDir = hl7ConfigDir;

const census = async (a: Agent) => {
  const r = await a.sources.get('adt')!.pull({ ward: { id: 'ward-3a', name: 'Ward 3A' }, location: '3A', datasets: ['census', 'allergies', 'conditions'], now: new Date(), signal: AbortSignal.timeout(10_000) });
  return r.snapshot.patients.map((p) => ({ mrn: p.mrn, name: p.name, bed: p.bedId?.replace(/^bed-/, '') ?? null, allergies: p.allergies.items.map((x) => x.substance) }));
};

describe.skipIf(!HAVE_MLLP_SEND)('census from an HL7 v2 ADT feed over MLLP', () => {
  let a: Agent;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    a = await openAgent({ configDir: configDir({ port }), log: memoryLogger().log, withSources: true, listenHl7: true });
  });
  afterAll(async () => {
    await a?.close();
  });

  it('admits, transfers, discharges and cancels, acknowledging each message only once it is stored', async () => {
    let r = await send(port, [adt({ id: 'M1', type: 'A01', minute: 0, mrn: 'BV100', bed: '3A^301^1', al1: ['PEN^Penicillin'] })]);
    expect(r.acks).toMatchObject([{ code: 'AA', controlId: 'M1', text: '' }]);
    expect(await census(a)).toEqual([{ mrn: 'BV100', name: 'Nguyễn Thị Hồng', bed: '301-1', allergies: ['Penicillin'] }]);

    r = await send(port, [
      adt({ id: 'M2', type: 'A01', minute: 1, mrn: 'BV200', name: 'Smith^John', bed: '3A^302^2' }),
      adt({ id: 'M3', type: 'A02', minute: 5, mrn: 'BV100', bed: '3A^305^1', prior: '3A^301^1' }),
    ]);
    expect(r.acks.map((x) => x.code)).toEqual(['AA', 'AA']);
    expect((await census(a)).map((p) => [p.mrn, p.bed])).toEqual([['BV200', '302-2'], ['BV100', '305-1']].sort((x, y) => x[1]!.localeCompare(y[1]!)));

    // Transfer to another ward: off this census. Cancel transfer: back.
    await send(port, [adt({ id: 'M4', type: 'A02', minute: 10, mrn: 'BV100', bed: '5B^501^1', prior: '3A^305^1' })]);
    expect((await census(a)).map((p) => p.mrn)).toEqual(['BV200']);
    await send(port, [adt({ id: 'M5', type: 'A12', minute: 12, mrn: 'BV100', bed: '3A^305^1' })]);
    expect((await census(a)).find((p) => p.mrn === 'BV100')?.bed).toBe('305-1');

    // Discharge, then cancel the discharge.
    await send(port, [adt({ id: 'M6', type: 'A03', minute: 20, mrn: 'BV200', bed: '3A^302^2' })]);
    expect((await census(a)).map((p) => p.mrn)).toEqual(['BV100']);
    await send(port, [adt({ id: 'M7', type: 'A13', minute: 22, mrn: 'BV200', bed: '3A^302^2' })]);
    expect((await census(a)).map((p) => p.mrn).sort()).toEqual(['BV100', 'BV200']);

    // A demographics update (A08) changes the name in place, not the bed.
    await send(port, [adt({ id: 'M8', type: 'A08', minute: 25, mrn: 'BV200', name: 'Smith^Jonathan', bed: '3A^302^2' })]);
    expect((await census(a)).find((p) => p.mrn === 'BV200')).toMatchObject({ name: 'Smith Jonathan', bed: '302-2' });

    // Cancel admit removes the patient.
    await send(port, [adt({ id: 'M9', type: 'A11', minute: 30, mrn: 'BV200', bed: '3A^302^2' })]);
    expect((await census(a)).map((p) => p.mrn)).toEqual(['BV100']);
  });

  it('recognises a duplicate and keeps events in event-time order', async () => {
    const again = await send(port, [adt({ id: 'M1', type: 'A01', minute: 0, mrn: 'BV100', bed: '3A^301^1' })]);
    expect(again.acks).toMatchObject([{ code: 'AA', controlId: 'M1', text: 'duplicate: already received' }]);
    expect((await census(a)).find((p) => p.mrn === 'BV100')?.bed).toBe('305-1');
    const stored = a.db.prepare("SELECT COUNT(*) FROM hl7_messages WHERE control_id = 'M1'").pluck().get();
    expect(stored).toBe(1);

    // The discharge (minute 50) arrives before the transfer it follows (minute 40): the transfer must not bring the patient back.
    await send(port, [adt({ id: 'M10', type: 'A03', minute: 50, mrn: 'BV100', bed: '3A^305^1' }), adt({ id: 'M11', type: 'A02', minute: 40, mrn: 'BV100', bed: '3A^306^1' })]);
    expect(await census(a)).toEqual([]);
    // A transfer for a discharged patient is refused (AE), not stored: only an A13 or a new admit brings them back.
    expect(a.db.prepare("SELECT COUNT(*) FROM hl7_messages WHERE control_id = 'M11'").pluck().get()).toBe(0);
  });

  it('quarantines what it cannot use with AE or AR and a reason, and loses nothing', async () => {
    const garbage = await send(port, [], { raw: Buffer.from('\x0bthis is not HL7\x1c\r') });
    expect(garbage.acks).toMatchObject([{ code: 'AR', controlId: '', text: 'not an HL7 v2 message (no MSH segment)' }]);
    const noMrn = await send(port, [adt({ id: 'Q2', type: 'A01', minute: 60, mrn: '', bed: '3A^301^1' })]);
    expect(noMrn.acks).toMatchObject([{ code: 'AE', controlId: 'Q2', text: 'PID-3 has no patient identifier' }]);
    const noBed = await send(port, [adt({ id: 'Q3', type: 'A01', minute: 60, mrn: 'BV300' })]);
    expect(noBed.acks[0]).toMatchObject({ code: 'AE', text: 'A01 without an assigned location (PV1-3)' });
    const elsewhere = await send(port, [adt({ id: 'Q4', type: 'A01', minute: 60, mrn: 'BV301', bed: '3A^301^1', facility: 'OTHERHOSP' })]);
    expect(elsewhere.acks[0]).toMatchObject({ code: 'AR', text: 'receiving facility OTHERHOSP is not one this box accepts' });
    const lab = await send(port, [adt({ id: 'Q5', type: 'A01', minute: 60, mrn: 'BV302', bed: '3A^301^1' }).replace('ADT^A01^ADT_A01', 'ORU^R01^ORU_R01')]);
    expect(lab.acks[0]).toMatchObject({ code: 'AR', text: 'message type ORU is not ADT' });
    const q = a.db.prepare('SELECT ack_code AS code, reason, raw FROM hl7_quarantine ORDER BY id').all() as { code: string; reason: string; raw: Buffer }[];
    expect(q.map((x) => x.code)).toEqual(['AE', 'AR', 'AE', 'AE', 'AR', 'AR']);
    // Kept whole, sealed with the data key like all patient data.
    expect(q.every((x) => x.raw.subarray(0, 4).toString() === 'PBX1')).toBe(true);
    expect(await census(a)).toEqual([]);
  });

  it('refuses a sender that is not on the allow-list', async () => {
    const p2 = await freePort();
    const mem = memoryLogger();
    const b = await openAgent({ configDir: configDir({ port: p2, allowFrom: '10.20.30.40' }), log: mem.log, withSources: true, listenHl7: true });
    try {
      const r = await send(p2, [adt({ id: 'X1', type: 'A01', minute: 0, mrn: 'BV900', bed: '3A^301^1' })]);
      // Closed at connect: no ACK comes back (how mllp_send then exits depends on timing).
      expect(r.acks).toEqual([]);
      expect(mem.lines.some((l) => l.includes('HL7 connection refused: sender not in allowFrom') && l.includes('"peer":"127.0.0.1"'))).toBe(true);
      expect(b.db.prepare('SELECT COUNT(*) FROM hl7_messages').pluck().get()).toBe(0);
    } finally {
      await b.close();
    }
  });
});

describe('MLLP over TLS', () => {
  it('accepts a message over TLS and answers with its ACK', async () => {
    const port = await freePort();
    const dir = configDir({ port });
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'mllp.key'), '-out', path.join(dir, 'mllp.crt'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const yaml = path.join(dir, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('    facilities: [BVDEMO]', '    facilities: [BVDEMO]\n    tls: { certFile: mllp.crt, keyFile: mllp.key }'));
    const a = await openAgent({ configDir: dir, log: memoryLogger().log, withSources: true, listenHl7: true });
    try {
      const ack = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(path.join(dir, 'mllp.crt')) }, () => s.write(frame(adt({ id: 'T1', type: 'A01', minute: 0, mrn: 'BV555', bed: '3A^301^1' }).replace(/\r\n/g, '\r'))));
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('\x1c\r')) {
            s.end();
            resolve(got);
          }
        });
        s.on('error', reject);
      });
      expect(ack).toMatch(/MSA\|AA\|T1(\r|\x1c)/);
      expect((await census(a)).map((p) => p.mrn)).toEqual(['BV555']);
      // A plain-TCP client gets nothing.
      const plain = await send(port, [adt({ id: 'T2', type: 'A01', minute: 1, mrn: 'BV556', bed: '3A^301^2' })]).catch(() => null);
      expect(plain?.acks ?? []).toEqual([]);
    } finally {
      await a.close();
    }
  });
});

describe.skipIf(!HAVE_MLLP_SEND)('an ADT feed with clinical data from FHIR', () => {
  let his: FhirTestServer;
  beforeAll(async () => {
    ({ server: his } = await startHis({ patients: 4, now: new Date() }));
  });
  afterAll(async () => {
    await his?.close();
  });

  it('a message acknowledged just before a crash is applied after the restart', async () => {
    const port = await freePort();
    const dir = configDir({ port });
    const { child } = await spawnUntil(['--config', dir, 'serve', '--port', '0'], /serving on/, { env: { PAPERBACK_FAULT_PAUSE: 'hl7-after-ack' } });
    try {
      const r = await send(port, [adt({ id: 'K1', type: 'A01', minute: 0, mrn: 'BV777', bed: '3A^310^1' })]);
      expect(r.acks.map((x) => x.code)).toEqual(['AA']);
    } finally {
      child.kill('SIGKILL');
      await new Promise((res) => child.once('close', res));
    }
    const run = await runCli(['--config', dir, 'run', 'ward-3a']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 patients/);
    // Applied once: a second start and run replay nothing.
    const again = await runCli(['--config', dir, 'run', 'ward-3a']);
    expect(again.stdout).toMatch(/1 patients/);
    const b = await openAgent({ configDir: dir, log: memoryLogger().log, withSources: false });
    try {
      expect(b.db.prepare('SELECT control_id AS id, status FROM hl7_messages').all()).toEqual([{ id: 'K1', status: 'applied' }]);
    } finally {
      await b.close();
    }
  });

  it('ADT builds the census, FHIR fills medications and allergies per patient, and the PDFs show both', async () => {
    const port = await freePort();
    // A patient the FHIR server knows (by MRN), in a bed the ADT feed gives.
    // One the server records an allergy for, so the feed's AL1 and the server's list meet.
    const fhirPatients = (await his.repo.searchResources({ resourceType: 'Patient' })) as { id: string; identifier?: { value?: string }[]; name?: { text?: string }[] }[];
    const fhirAllergies = ((await his.repo.searchResources({ resourceType: 'AllergyIntolerance' })) as { patient: { reference?: string }; code?: { text?: string; coding?: { display?: string }[] } }[]).filter((x) => !/no known/i.test(x.code?.text ?? x.code?.coding?.[0]?.display ?? ''));
    const known = fhirPatients.find((p) => fhirAllergies.some((x) => x.patient.reference === `Patient/${p.id}`))!;
    const serverAllergy = fhirAllergies.find((x) => x.patient.reference === `Patient/${known.id}`)!;
    const serverSubstance = serverAllergy.code?.text ?? serverAllergy.code?.coding?.[0]?.display ?? '';
    const mrn = known.identifier![0]!.value!;
    const dir = configDir({ port, clinical: 'his', extraSources: `  - id: his\n    kind: fhir\n    baseUrl: ${his.url}\n    timeoutMs: 3000\n    retries: 1\n` });
    const jobFile = path.join(dir, 'snapshots', 'ward-3a.yaml');
    fs.writeFileSync(jobFile, fs.readFileSync(jobFile, 'utf8').replace('documents: [census, mar]', 'documents: [census, mar, allergies]'));
    const a = await openAgent({ configDir: dir, log: memoryLogger().log, withSources: true, listenHl7: true });
    try {
      const r = await send(port, [
        adt({ id: 'E1', type: 'A01', minute: 0, mrn, name: 'Lê^Tám^Văn', bed: '3A^401^1', al1: ['IOD^Iodine contrast'] }),
        adt({ id: 'E2', type: 'A01', minute: 1, mrn: 'BV-NOT-IN-FHIR', name: 'Phạm^Hà^Thu', bed: '3A^401^2', al1: ['LTX^Latex'] }),
        // The feed puts a second patient in Lê Văn Tám's bed: both must print, the bed marked.
        adt({ id: 'E3', type: 'A01', minute: 2, mrn: 'BV-SAME-BED', name: 'Đỗ^Bình^An', bed: '3A^401^1' }),
      ]);
      expect(r.acks.map((x) => x.code)).toEqual(['AA', 'AA', 'AA']);
      const out = await runJob({ ...a, log: memoryLogger().log }, 'ward-3a', { trigger: 'manual' });
      expect(out.status, out.error).toBe('succeeded');
      const cur = currentSnapshot(a.db, 'ward-3a')!;
      const ward = JSON.parse(a.blobs.get(getArtifact(a.db, cur.id, 'data/ward')!.sha256).toString('utf8')) as { patients: { mrn: string; orders: { status: string; items: { drug: string }[] }; allergies: { status: string } }[]; warnings: { message: string }[] };
      const withMeds = ward.patients.find((p) => p.mrn === mrn)!;
      expect(withMeds.orders.status).toBe('available');
      expect(withMeds.orders.items.length).toBeGreaterThan(0);
      const unknown = ward.patients.find((p) => p.mrn === 'BV-NOT-IN-FHIR')!;
      expect(unknown.orders.status).toBe('not-pulled');
      expect(unknown.allergies.status).toBe('recorded');
      expect(ward.warnings.map((w) => w.message)).toContain('2 patient(s) on the census were not found on the clinical server by MRN: their medication lists are not on this snapshot');
      // On paper: the census from ADT, the MAR with the FHIR drugs, and the missing list said out loud.
      const text = (address: string) => {
        const f = path.join(tmpDir(), 'doc.pdf');
        fs.writeFileSync(f, a.blobs.get(getArtifact(a.db, cur.id, address)!.sha256));
        return spawnSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' }).stdout;
      };
      const censusText = text('census');
      expect(censusText).toContain('Lê Văn Tám');
      expect(censusText).toContain('401-1');
      expect(censusText).toContain('Đỗ An Bình');
      expect(censusText.replace(/\s+/g, ' ')).toContain('Beds the source gives to more than one patient: 401-1');
      expect(text(`mar/${mrn}`)).toContain(withMeds.orders.items[0]!.drug.split(' ')[0]!);
      expect(text('mar/BV-NOT-IN-FHIR').replace(/\s+/g, ' ')).toContain('MEDICATION LIST UNAVAILABLE');
      // AL1 from the feed is kept beside the server's allergies, each labelled with where it came from.
      const allergyText = text('allergies').replace(/\s+/g, ' ');
      expect(serverSubstance).not.toBe('');
      expect(allergyText).toContain('Iodine contrast');
      expect(allergyText).toMatch(/Iodine contrast[^;]*\[from HL7 v2 ADT feed\]/);
      expect(allergyText).toContain(serverSubstance);
      // A patient the server does not know: the feed's allergy is the feed's alone, never credited to the server.
      expect(allergyText).toContain('Latex');
      expect(allergyText).not.toMatch(/Latex[^;]*\[from [^\]]*(FHIR|HIS|Demo)/);
      expect(allergyText).toMatch(new RegExp(`${serverSubstance.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^;]*\\[from [^\\]]*(FHIR|HIS|Demo)`));
    } finally {
      await a.close();
    }
  });
});
