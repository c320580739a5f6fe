import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import type { SqlSourceConfig } from '../../agent/config/schema.js';
import { runJob } from '../../agent/schedule/run.js';
import { createSqlSource } from '../../agent/sources/sql/index.js';
import { currentSnapshot, listArtifacts } from '../../agent/store/snapshots.js';
import { HAVE_MARIADB, HAVE_POSTGRES, startMariaDb, startPostgres, type DbServer } from '../support/databases.js';
import { memoryLogger, openTestAgent, runByHandOnly, jobYaml, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { REQUIRE_PEERS } from '../support/printers.js';

if (REQUIRE_PEERS && !(HAVE_POSTGRES && HAVE_MARIADB)) throw new Error('PostgreSQL and MariaDB servers are required in CI (Debian postgresql, mariadb-server)');

/**
 * The read-only SQL source against real PostgreSQL and MariaDB servers, with
 * a schema shaped like a Vietnamese HIS (patients, admissions by MA_KHOA and
 * bed code, drug orders with LIEU_DUNG text), Vietnamese data in UTF-8, and
 * hostile values: quotes, huge text, NULLs, a ward code that tries to widen
 * the query.
 */
const LONG = 'Viêm phổi cộng đồng mức độ nặng; '.repeat(400);
const HOSTILE_NAME = `Nguyễn Văn "Tí" O'Brien`;

function schema(db: 'pg' | 'mysql'): string {
  const ts = db === 'pg' ? 'TIMESTAMP' : 'DATETIME';
  return `
    CREATE TABLE benh_nhan (ma_bn VARCHAR(20) PRIMARY KEY, ho_ten VARCHAR(200), ngay_sinh DATE NULL, gioi_tinh SMALLINT NULL, can_nang NUMERIC(5,1) NULL, di_ung TEXT NULL, ma_the_bhyt VARCHAR(20) NULL, so_cccd VARCHAR(12) NULL);
    CREATE TABLE nhap_vien (ma_lk VARCHAR(30) PRIMARY KEY, ma_bn VARCHAR(20), ma_khoa VARCHAR(20), ma_giuong VARCHAR(20), ngay_vao ${ts} NULL, chan_doan TEXT NULL, ra_vien ${ts} NULL);
    CREATE TABLE y_lenh_thuoc (id INTEGER PRIMARY KEY, ma_lk VARCHAR(30), ten_thuoc VARCHAR(300), ham_luong VARCHAR(100), duong_dung VARCHAR(50), lieu_dung TEXT, ngay_yl ${ts});
    INSERT INTO benh_nhan VALUES
      ('BN001', 'Nguyễn Thị Hồng Ngọc', '1958-03-07', 2, 52.5, 'Penicillin;Aspirin', 'HT2797912345678', '079158001234'),
      ('BN002', '${HOSTILE_NAME.replace(/'/g, "''")}', NULL, NULL, NULL, NULL, NULL, NULL),
      ('BN003', 'Trần Văn Bình', '1949-12-31', 1, 61.0, 'NKA', NULL, NULL),
      ('BN009', 'Lê Thị Khác Khoa', '1990-01-01', 2, NULL, NULL, NULL, NULL);
    INSERT INTO nhap_vien VALUES
      ('LK1', 'BN001', 'K03', 'G01', '2026-12-01 08:30:00', 'Tăng huyết áp', NULL),
      ('LK2', 'BN002', 'K03', 'G02', '2026-12-02 23:15:00', '${LONG}', NULL),
      ('LK3', 'BN003', 'K03', 'G03', NULL, NULL, NULL),
      ('LK4', 'BN009', 'K07', 'G01', '2026-12-03 10:00:00', NULL, NULL),
      ('LK0', 'BN003', 'K03', 'G09', '2026-11-01 10:00:00', NULL, '2026-11-05 10:00:00');
    INSERT INTO y_lenh_thuoc VALUES
      (1, 'LK1', 'Amlodipin', '5mg', 'Uống', '1 viên/lần * 1 lần/ngày', '2026-12-01 09:00:00'),
      (2, 'LK1', 'Amoxicilin 500mg', '500mg', 'Uống', '2 viên/lần * 2 lần/ngày', '2026-12-01 09:00:00'),
      (3, 'LK3', 'Paracetamol', '500mg', 'Uống', 'Khi sốt > 38.5 độ', '2026-12-02 07:00:00');
  `;
}

const CENSUS = `SELECT nv.ma_giuong AS bed, bn.ma_bn AS mrn, bn.ho_ten AS name, bn.ngay_sinh AS birth_date,
  CASE bn.gioi_tinh WHEN 1 THEN 'male' WHEN 2 THEN 'female' ELSE NULL END AS sex,
  nv.ngay_vao AS admitted_at, nv.chan_doan AS diagnosis, bn.di_ung AS allergies, bn.can_nang AS weight_kg,
  nv.ma_lk AS admission_no, bn.ma_the_bhyt AS insurance_card, bn.so_cccd AS citizen_id
FROM nhap_vien nv JOIN benh_nhan bn ON bn.ma_bn = nv.ma_bn
WHERE nv.ma_khoa = :ward_code AND nv.ra_vien IS NULL`;
const MEDS = `SELECT nv.ma_bn AS mrn, t.id AS order_id, t.ten_thuoc AS drug, t.ham_luong AS dose, t.duong_dung AS route, t.lieu_dung AS frequency, t.ngay_yl AS start
FROM y_lenh_thuoc t JOIN nhap_vien nv ON nv.ma_lk = t.ma_lk
WHERE nv.ma_khoa = :ward_code AND nv.ra_vien IS NULL`;

type Kind = { name: string; client: 'pg' | 'mysql'; have: boolean; start: () => Promise<DbServer & { socket?: string }>; sleep: string };
const KINDS: Kind[] = [
  { name: 'PostgreSQL', client: 'pg', have: HAVE_POSTGRES, start: startPostgres, sleep: 'SELECT pg_sleep(3) AS bed' },
  { name: 'MariaDB', client: 'mysql', have: HAVE_MARIADB, start: startMariaDb, sleep: 'SELECT SLEEP(3) AS bed' },
];

for (const kind of KINDS) {
  describe.skipIf(!kind.have)(`the SQL source on ${kind.name}`, () => {
    let server: DbServer;
    let passwordFile: string;
    const base = (): SqlSourceConfig => ({
      id: 'his-db',
      kind: 'sql',
      name: `HIS database (${kind.name})`,
      client: kind.client,
      connection: { host: '127.0.0.1', port: server.port, database: 'his', user: 'paperback_ro', passwordFile },
      connectTimeoutSeconds: 5,
      statementTimeoutSeconds: 10,
      maxRows: 100,
      queries: { census: CENSUS, medications: MEDS },
    });
    const req = (wardCode: string) => ({ ward: { id: 'ward-3a', name: 'Khoa Nội 3A' }, location: wardCode, datasets: ['census', 'medications'] as const, now: new Date(), signal: AbortSignal.timeout(30_000), nameOrder: 'family-first' as const });
    const pullWith = async (cfg: SqlSourceConfig, wardCode = 'K03') => {
      const s = createSqlSource(cfg, { configDir: '/', log: memoryLogger().log, timeZone: 'Asia/Ho_Chi_Minh' });
      try {
        return await s.pull(req(wardCode));
      } finally {
        await s.close?.();
      }
    };

    beforeAll(async () => {
      server = await kind.start();
      if (kind.client === 'pg') {
        server.admin(`CREATE ROLE paperback_ro LOGIN PASSWORD 'đọc-thôi ''secret'''`);
        server.admin('CREATE DATABASE his OWNER postgres');
        execFileSync('psql', ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-d', 'his', '-v', 'ON_ERROR_STOP=1', '-q', '-c', `${schema('pg')} GRANT SELECT ON ALL TABLES IN SCHEMA public TO paperback_ro; CREATE SEQUENCE seq; GRANT ALL ON SEQUENCE seq TO paperback_ro;`]);
      } else {
        server.admin(`CREATE DATABASE his CHARACTER SET utf8mb4; CREATE USER 'paperback_ro'@'%' IDENTIFIED BY 'đọc-thôi ''secret'''; GRANT SELECT ON his.* TO 'paperback_ro'@'%'; USE his; ${schema('mysql')}`);
      }
      passwordFile = path.join(tmpDir(), 'db-password');
      fs.writeFileSync(passwordFile, "đọc-thôi 'secret'\n", { mode: 0o600 });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('pulls the ward by its code, bound not spliced: Vietnamese names, beds, times in the box’s zone, NULLs as unknown', async () => {
      const r = await pullWith(base());
      const byMrn = new Map(r.snapshot.patients.map((p) => [p.mrn, p]));
      expect([...byMrn.keys()].sort()).toEqual(['BN001', 'BN002', 'BN003']);
      const hong = byMrn.get('BN001')!;
      expect([hong.name, hong.birthDate, hong.sex, hong.weightKg, hong.admittedAt]).toEqual(['Nguyễn Thị Hồng Ngọc', '1958-03-07', 'female', 52.5, '2026-12-01T01:30:00.000Z']);
      expect(hong.allergies.items.map((a) => a.substance)).toEqual(['Penicillin', 'Aspirin']);
      expect(hong.orders.items.map((o) => [o.drug, o.dose, o.route])).toEqual([
        ['Amlodipin', '5mg', 'Uống'],
        ['Amoxicilin 500mg', '500mg', 'Uống'],
      ]);
      const hostile = byMrn.get('BN002')!;
      expect([hostile.name, hostile.birthDate, hostile.sex, hostile.allergies.status]).toEqual([HOSTILE_NAME, null, null, 'not-recorded']);
      expect(byMrn.get('BN003')!.allergies.status).toBe('none-known');
      // A ward code that tries to widen the WHERE clause is only a code that matches nothing.
      expect((await pullWith(base(), "K03' OR '1'='1")).snapshot.patients).toEqual([]);
    });

    it('publishes a census and MARs whose PDFs read back right, the long diagnosis cut and marked', async () => {
      const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9', jobs: { 'ward-3a': runByHandOnly(jobYaml('ward-3a').replace('source: his', 'source: his-db').replace('location: Location/ward-3a', 'location: K03').replace('documents: [census, mar]', 'documents: [census, mar]\ndatasets: [census, medications]')) }, wards: ['ward-3a'] });
      const yaml = fs.readFileSync(path.join(dir, 'paperback.yaml'), 'utf8');
      const conn = kind.client === 'pg' ? `host: 127.0.0.1, port: ${server.port}` : `host: 127.0.0.1, port: ${server.port}`;
      fs.writeFileSync(
        path.join(dir, 'paperback.yaml'),
        yaml.replace(
          /sources:\n[\s\S]*?(?=schedule:)/,
          `sources:\n  - id: his-db\n    kind: sql\n    client: ${kind.client}\n    connection: { ${conn}, database: his, user: paperback_ro, passwordFile: ${passwordFile} }\n    queries:\n      census: |\n${CENSUS.split('\n').map((l) => `        ${l}`).join('\n')}\n      medications: |\n${MEDS.split('\n').map((l) => `        ${l}`).join('\n')}\n`,
        ),
      );
      expect(loadConfig(dir).box.sources[0]!.kind).toBe('sql');
      const a = openTestAgent(dir);
      a.sources.set('his-db', createSqlSource(a.config.box.sources[0] as SqlSourceConfig, { configDir: dir, log: a.log, timeZone: a.config.box.timeZone }));
      try {
        const o = await runJob(a, 'ward-3a', { trigger: 'manual' });
        expect(o.status, o.error ?? '').toBe('succeeded');
        const cur = currentSnapshot(a.db, 'ward-3a')!;
        const text = (address: string) => {
          const art = listArtifacts(a.db, cur.id, 'document').find((d) => d.address === address)!;
          const f = path.join(tmpDir(), 'doc.pdf');
          fs.writeFileSync(f, a.blobs.get(art.sha256));
          return execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
        };
        const census = text('census');
        for (const s of ['Nguyễn Thị Hồng Ngọc', 'Trần Văn Bình', 'G01', 'G02', 'G03', 'Tăng huyết áp']) expect(census).toContain(s);
        expect(census.replace(/\s+/g, ' ')).toContain('Nguyễn Văn "Tí"');
        expect(census).not.toContain('Lê Thị Khác Khoa');
        expect(o.warnings.join(' ')).toMatch(/too long for paper and are cut/);
        const mar = text('mar/BN001').replace(/\s+/g, ' ');
        expect(mar).toContain('Amoxicilin 500mg');
        // The identifiers Vietnamese records carry, on the patient band of every page, each only when known.
        expect(mar).toContain('Adm. no. LK1 · Insurance card HT2797912345678 · Citizen ID 079158001234');
        const other = text('mar/BN003').replace(/\s+/g, ' ');
        expect(other).toContain('Adm. no. LK3');
        expect(other).not.toMatch(/Insurance card|Citizen ID/);
      } finally {
        await a.sources.get('his-db')!.close?.();
      }
    }, 60_000);

    it('refuses what is not a read: a second statement, and (PostgreSQL) a write inside the read-only transaction', async () => {
      await expect(pullWith({ ...base(), queries: { ...base().queries, census: `${CENSUS}; DELETE FROM benh_nhan` } })).rejects.toThrow(/the census query on .* failed/);
      // The account may advance the sequence; the read-only transaction still refuses it.
      if (kind.client === 'pg') await expect(pullWith({ ...base(), queries: { ...base().queries, census: "SELECT CAST(nextval('seq') AS text) AS bed" } })).rejects.toThrow(/read-only transaction/);
      // Nothing was changed.
      expect((await pullWith(base())).snapshot.patients).toHaveLength(3);
    });

    it('names the query, the row and the column of a value it cannot use; caps rows; gives up on a slow query', async () => {
      const bad = `SELECT 'G01' AS bed, 'BN1' AS mrn, 'Lê Văn A' AS name, 'hôm qua' AS birth_date`;
      await expect(pullWith({ ...base(), queries: { census: bad } })).rejects.toThrow(/the census query, row 1: column "birth_date" must be YYYY-MM-DD/);
      await expect(pullWith({ ...base(), maxRows: 2 })).rejects.toThrow(/the census query returned more than 2 rows \(maxRows\)/);
      await expect(pullWith({ ...base(), statementTimeoutSeconds: 1, queries: { census: kind.sleep } })).rejects.toThrow(/no answer within 1 s/);
      await expect(pullWith({ ...base(), queries: { census: CENSUS } })).rejects.toThrow(/no medications query, and the job asks for medications/);
    }, 30_000);

    it('will not read a password file others can read', async () => {
      const open = path.join(tmpDir(), 'open-password');
      fs.writeFileSync(open, 'x\n', { mode: 0o644 });
      expect(() => createSqlSource({ ...base(), connection: { ...base().connection, passwordFile: open } }, { configDir: '/', log: memoryLogger().log, timeZone: 'UTC' })).toThrow(/can be read by others \(mode 644\); chmod 600 it/);
    });

    it('a failed pull leaves the last good snapshot current', async () => {
      const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9', jobs: { 'ward-3a': runByHandOnly(jobYaml('ward-3a').replace('location: Location/ward-3a', 'location: K03')) }, wards: ['ward-3a'] });
      const a = openTestAgent(dir);
      a.sources.set('his', createSqlSource(base(), { configDir: '/', log: a.log, timeZone: 'Asia/Ho_Chi_Minh' }));
      expect((await runJob(a, 'ward-3a', { trigger: 'manual' })).status).toBe('succeeded');
      const good = currentSnapshot(a.db, 'ward-3a')!.id;
      await a.sources.get('his')!.close?.();
      a.sources.set('his', createSqlSource({ ...base(), queries: { ...base().queries, census: 'SELECT bed FROM no_such_table' } }, { configDir: '/', log: a.log, timeZone: 'UTC' }));
      const failed = await runJob(a, 'ward-3a', { trigger: 'manual' });
      expect([failed.status, failed.pull]).toEqual(['failed', 'failed']);
      expect(failed.error).toMatch(/the census query on .* failed: .*no_such_table/);
      expect(currentSnapshot(a.db, 'ward-3a')!.id).toBe(good);
      await a.sources.get('his')!.close?.();
    }, 60_000);
  });
}
