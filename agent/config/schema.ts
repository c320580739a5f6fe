import { z } from 'zod';
import cron from 'node-cron';
import { DATASETS } from '../model/ward.js';
import { HL7_CHARSETS } from '../model/hl7.js';

/** An IANA time zone Node's Intl knows, e.g. "Asia/Ho_Chi_Minh". */
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'unknown time zone (use an IANA name such as Asia/Ho_Chi_Minh)' },
);

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, e.g. ward-3a');

const cronExpr = z.string().superRefine((expr, ctx) => {
  const res = cron.validateDetailed(expr);
  if (!res.valid) {
    const why = res.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    ctx.addIssue({ code: 'custom', message: `invalid cron expression "${expr}" (${why})` });
  }
});

const authSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('basic'), username: z.string().min(1), passwordFile: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('bearer'), tokenFile: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('smart-backend'),
      tokenUrl: z.string().url(),
      clientId: z.string().min(1),
      privateKeyFile: z.string().min(1),
      keyId: z.string().optional(),
      algorithm: z.enum(['RS384', 'ES384']).default('RS384'),
      scope: z.string().default('system/*.read'),
    })
    .strict(),
]);

/** How the outage monitor checks a source: FHIR /metadata by default, or a URL or a TCP port. */
const heartbeat = z
  .object({
    url: z.string().url().optional(),
    tcp: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port').optional(),
  })
  .strict()
  .refine((h) => !(h.url && h.tcp), { message: 'give url or tcp, not both' });

const fhirSource = z
  .object({
    id,
    kind: z.literal('fhir'),
    heartbeat: heartbeat.optional(),
    name: z.string().default('FHIR server'),
    baseUrl: z.string().url().refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL'),
    auth: authSchema.default({ kind: 'none' }),
    caFile: z.string().optional(),
    timeoutMs: z.number().int().min(100).max(300_000).default(15_000),
    /**
     * Largest single answer read. A page of 1000 MedicationRequests is about 0.5 MB; 16 MB of FHIR JSON
     * (33,000 resources) takes ~45 MB of heap once parsed, 50 MB took ~140 MB, per request in flight.
     */
    maxResponseBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
    maxConcurrency: z.number().int().min(1).max(32).default(4),
    retries: z.number().int().min(0).max(10).default(3),
    /**
     * Resources asked for per page (_count). Large, because many servers run
     * the whole search again for every page (Medplum: a ward pulled in 0.32 s
     * instead of 0.76 s at 200); a server that allows fewer says so with
     * next-page links, which are followed.
     */
    pageSize: z.number().int().min(1).max(1000).default(1000),
    /** Fraction of the previous census that may disappear before the snapshot is flagged. */
    censusShrinkWarning: z.number().min(0).max(1).default(0.3),
    /** The identifier system of the hospital's MRN (e.g. urn:oid:1.2.704…); without it, an identifier typed MR. */
    mrnSystem: z.string().min(1).optional(),
    /**
     * Between full pulls, ask only for clinical resources changed since the
     * last pull (_lastUpdated). A full pull at least this often also catches
     * what a search by change time cannot see (a resource deleted outright).
     * 0: every pull is full.
     */
    fullPullEveryMinutes: z.number().min(0).max(24 * 60).default(60),
  })
  .strict();

const dropFolderSource = z
  .object({
    id,
    kind: z.literal('dropfolder'),
    name: z.string().default('Drop folder'),
    folder: z.string().min(1),
    /** A FHIR source for medications, allergies … per patient, instead of a medications export. */
    clinical: id.optional(),
    /** The insurance XML's department code (MA_KHOA) → ward id of this box; a code equal to a ward id needs no entry. */
    wards: z.record(z.string(), id).default({}),
  })
  .strict();

/**
 * A read-only view of the HIS database (what Vietnamese hospitals have when
 * their HIS offers neither FHIR nor HL7): the site's own queries return the
 * drop-folder export's columns, with the ward's code bound as :ward_code.
 */
const sqlSource = z
  .object({
    id,
    kind: z.literal('sql'),
    name: z.string().default('HIS database'),
    /** pg (PostgreSQL), mysql (MySQL/MariaDB), mssql (SQL Server, through tedious), oracle (node-oracledb in thin mode: no Oracle client to install). */
    client: z.enum(['pg', 'mysql', 'mssql', 'oracle']),
    connection: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).optional(),
        /** The database; for Oracle, the service name. */
        database: z.string().min(1),
        user: z.string().min(1),
        /** A file holding the password (first line), readable by the paperback user only (0600). */
        passwordFile: z.string().min(1).optional(),
        /** Unix socket folder (PostgreSQL) or socket file (MySQL/MariaDB) instead of TCP. */
        socket: z.string().min(1).optional(),
        tls: z.object({ caFile: z.string().min(1).optional(), rejectUnauthorized: z.boolean().default(true) }).strict().optional(),
      })
      .strict(),
    connectTimeoutSeconds: z.number().min(1).max(120).default(10),
    statementTimeoutSeconds: z.number().min(1).max(600).default(30),
    /** A query that returns more rows than this fails the pull (a wrong join, a missing ward filter). */
    maxRows: z.number().int().min(1).max(200_000).default(5000),
    queries: z
      .object({
        census: z.string().min(10),
        medications: z.string().min(10).optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.connection.socket && (s.client === 'mssql' || s.client === 'oracle')) ctx.addIssue({ code: 'custom', path: ['connection', 'socket'], message: 'a socket is for PostgreSQL and MySQL/MariaDB; SQL Server and Oracle connect over TCP (host, port)' });
    if (s.client === 'oracle' && s.connection.tls && (s.connection.tls.caFile || !s.connection.tls.rejectUnauthorized)) ctx.addIssue({ code: 'custom', path: ['connection', 'tls'], message: 'Oracle over TLS (tcps) trusts only the public CAs Node.js carries: caFile and rejectUnauthorized: false are not available for Oracle yet' });
  });

/**
 * An HL7 v2 ADT feed over MLLP from the interface engine: keeps the census;
 * `clinical` names the FHIR source that medications and allergies are then
 * pulled from, per patient.
 */
const hl7Source = z
  .object({
    id,
    kind: z.literal('hl7'),
    name: z.string().default('HL7 v2 ADT feed'),
    listen: z.object({ host: z.string().default('0.0.0.0'), port: z.number().int().min(1).max(65535) }).strict(),
    /** Addresses allowed to connect (the interface engine); anything else is refused at connect. */
    allowFrom: z.array(z.string().min(1)).min(1),
    /** Accepted receiving facilities (MSH-6); empty accepts any. */
    facilities: z.array(z.string().min(1)).default([]),
    /** Point of care (PV1-3.1) → ward id of this box; a point of care equal to a ward id needs no entry. */
    wards: z.record(z.string(), id).default({}),
    /** MLLP over TLS: the listener's certificate; with caFile, senders must present a certificate from it. */
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1), caFile: z.string().min(1).optional() }).strict().optional(),
    clinical: id.optional(),
    /** Which PID-3 repetition is the MRN: identifier type (CX-5) and, if set, assigning authority (CX-4). */
    mrn: z.object({ type: z.string().min(1).default('MR'), authority: z.string().min(1).optional() }).strict().default({ type: 'MR' }),
    /** Character set of messages whose MSH-18 is empty (table 0211 name). */
    charset: z.enum(HL7_CHARSETS).default('UNICODE UTF-8'),
    /** An admit to one of this box's wards naming no room or bed: refused (AE), or listed under "no bed assigned". */
    admitWithoutBed: z.enum(['refuse', 'unassigned']).default('refuse'),
    /** Largest frame accepted; a larger one is answered AR and quarantined, and the connection stays open. */
    maxMessageBytes: z.number().int().min(4096).max(64 * 1024 * 1024).default(1024 * 1024),
    /** Bytes outside a frame with no frame starting for this long close the connection. */
    unframedTimeoutSeconds: z.number().min(1).max(600).default(10),
  })
  .strict();

/** The embedded demo central system: a real FHIR server on loopback with a synthetic ward. */
const demoSource = z
  .object({
    id,
    kind: z.literal('demo'),
    heartbeat: heartbeat.optional(),
    name: z.string().default('Demo HIS (synthetic data)'),
    port: z.number().int().min(0).max(65535).default(0),
    seed: z.number().int().default(1),
    patients: z.number().int().min(0).max(10_000).default(24),
  })
  .strict();

/** A planned downtime: recurring (cron start + duration) or one-off (start and end). */
const plannedWindow = z.union([
  z.object({ id, title: z.string().optional(), cron: cronExpr, durationMinutes: z.number().min(1).max(7 * 24 * 60) }).strict(),
  z
    .object({ id, title: z.string().optional(), start: z.string().datetime({ offset: true }), end: z.string().datetime({ offset: true }) })
    .strict()
    .refine((w) => Date.parse(w.end) > Date.parse(w.start), { message: 'end must be after start', path: ['end'] }),
]);

export const sourceSchema = z.discriminatedUnion('kind', [fhirSource, dropFolderSource, demoSource, hl7Source, sqlSource]);
export type SqlSourceConfig = z.infer<typeof sqlSource>;

const webSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** HTTPS certificate and key (PEM), relative to the config folder. */
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().optional(),
    /** Serve plain HTTP. Only for the demo or a box behind a TLS proxy: say so explicitly. */
    insecureHttp: z.boolean().default(false),
    /** Sign a nurse out after this long without a request. */
    sessionIdleMinutes: z.number().min(1).max(24 * 60).default(30),
    /** Sign out after this long whatever happens (one shift). */
    sessionMaxHours: z.number().min(1).max(24).default(12),
  })
  .strict()
  .refine((w) => w.tls || w.insecureHttp, { message: 'give tls: { certFile, keyFile } for HTTPS, or set insecureHttp: true to serve plain HTTP on purpose', path: ['tls'] });

const WEB_DEFAULTS = { host: '127.0.0.1', port: 8080, insecureHttp: false, sessionIdleMinutes: 30, sessionMaxHours: 12 };

const webAuthSchema = z
  .object({
    /** Directory login; local accounts are used when it is unreachable. */
    ldap: z
      .object({
        url: z.string().regex(/^ldaps?:\/\//, 'must start with ldap:// or ldaps://'),
        /** Bind DN for a user, "{user}" replaced by the escaped user name, e.g. "uid={user},ou=people,dc=hospital,dc=vn". */
        userDn: z.string().includes('{user}', { message: 'must contain {user}' }),
        /** Search base and filter for group membership; "{dn}" is the user's DN. */
        groupBase: z.string().min(1).optional(),
        adminGroup: z.string().min(1).optional(),
        nurseGroup: z.string().min(1).optional(),
        timeoutMs: z.number().int().min(100).max(30_000).default(3000),
        caFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Create nurse/admin accounts with published passwords. Only for the demo. */
    demoAccounts: z.boolean().default(false),
    /** Failed logins (per user name and per address) before a lockout. */
    maxFailures: z.number().int().min(1).max(100).default(5),
    lockoutMinutes: z.number().min(1).max(24 * 60).default(15),
  })
  .strict();

export const boxConfigSchema = z
  .object({
    site: z.object({ id, name: z.string().min(1) }).strict(),
    /** pageUrl: the ward page's address as nurses type it (printed on the downtime pack's cover); contact: whom to call (IT on call, with the number). */
    box: z.object({ id: z.string().min(1), pageUrl: z.string().url().optional(), contact: z.string().min(1).max(200).optional() }).strict(),
    /** code: the HIS's own code for the ward (a MA_KHOA), printed with the name where the HIS's paper would show it. */
    wards: z.array(z.object({ id, name: z.string().min(1), code: z.string().min(1).max(20).optional() }).strict()).min(1),
    timeZone: timeZone.default('Asia/Ho_Chi_Minh'),
    language: z.enum(['vi', 'en']).default('vi'),
    /** The site's own high-alert medications, added to the built-in ISMP list: ATC code prefixes and name fragments. */
    highAlert: z.object({ atc: z.array(z.string().regex(/^[A-Z][0-9A-Z]{0,6}$/i, 'an ATC code or its prefix, e.g. B01AB')).default([]), names: z.array(z.string().min(3)).default([]) }).strict().default({ atc: [], names: [] }),
    /** The language of paper when it differs from the page's (a bilingual ward); `language` when unset. */
    paperLanguage: z.enum(['vi', 'en']).optional(),
    /** How names the source sends in parts are written: family-first (Vietnamese; the default with language vi) or given-first. */
    names: z
      .object({
        order: z.enum(['family-first', 'given-first']).optional(),
        /** Patients' names in capitals on paper and page (NGUYỄN THỊ HỒNG), as Vietnamese records write them. */
        capitals: z.boolean().default(false),
      })
      .strict()
      .default({ capitals: false }),
    /** Relative paths are resolved against the config folder. */
    dataDir: z.string().default('data'),
    sources: z.array(sourceSchema).min(1),
    web: webSchema.default(WEB_DEFAULTS),
    auth: webAuthSchema.default({ demoAccounts: false, maxFailures: 5, lockoutMinutes: 15 }),
    encryption: z
      .object({
        /** The AES-256 data key (64 hex characters, mode 0600). Relative to the config folder; never inside dataDir. Unset: the systemd credential "data-key", else data.key in the config folder. */
        keyFile: z.string().min(1).optional(),
        /** Make a new key when the file is missing: for the demo and a first install. */
        createKey: z.boolean().default(false),
        /** During a key rotation: the old key file(s), until `paperback key rotate` has re-sealed everything. */
        previousKeyFiles: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ createKey: false, previousKeyFiles: [] }),
    outage: z
      .object({
        probeIntervalSeconds: z.number().min(1).max(3600).default(15),
        probeTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
        failuresToOffline: z.number().int().min(1).max(100).default(3),
        confirmSeconds: z.number().min(0).max(3600).default(60),
        successesToOnline: z.number().int().min(1).max(100).default(3),
        recoverSeconds: z.number().min(0).max(3600).default(60),
        /** Take a fresh snapshot of every job this long before a planned window. */
        preWindowLeadMinutes: z.number().min(0).max(24 * 60).default(15),
        windows: z.array(plannedWindow).default([]),
      })
      .strict()
      .default({ probeIntervalSeconds: 15, probeTimeoutMs: 5000, failuresToOffline: 3, confirmSeconds: 60, successesToOnline: 3, recoverSeconds: 60, preWindowLeadMinutes: 15, windows: [] }),
    /**
     * What nurses record on the ward page during a downtime (issue #25): a time more than
     * marginMinutes before the downtime began, or after it ended, belongs in the HIS and is refused.
     */
    downtimeEntries: z
      .object({
        marginMinutes: z.number().int().min(0).max(24 * 60).default(120),
        /** A drill: outside a downtime the record page checks entries and shows what paper would say, and saves nothing. */
        practice: z.boolean().default(false),
      })
      .strict()
      .default({ marginMinutes: 120, practice: false }),
    /**
     * Where entries go after recovery (`paperback fileback`, the IT page): a FHIR source's server
     * (one transaction Bundle per patient) or an HL7 v2 interface engine over MLLP. Without it the
     * back-entry list (PDF and CSV) is how a site enters them.
     */
    fileBack: z
      .discriminatedUnion('to', [
        z.object({ to: z.literal('fhir'), source: z.string().min(1) }).strict(),
        z
          .object({
            to: z.literal('hl7'),
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535),
            timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
            sendingApplication: z.string().max(40).default('PAPERBACK'),
            sendingFacility: z.string().max(40).default(''),
            receivingApplication: z.string().max(40).default(''),
            receivingFacility: z.string().max(40).default(''),
          })
          .strict(),
      ])
      .optional(),
    /** How long the box keeps its own history (runs, print jobs, HL7 messages, outage events); the audit log is never pruned. */
    history: z
      .object({ keepDays: z.number().int().min(1).max(3650).default(31) })
      .strict()
      .default({ keepDays: 31 }),
    /** The audit chain's anchor, written outside the database (docs/security.md: what the audit chain proves). Best on another disk or a path the data folder's owner cannot rewrite. */
    audit: z
      .object({ anchorFile: z.string().min(1).optional(), anchorEveryMinutes: z.number().min(1).max(1440).default(10), archiveDir: z.string().min(1).optional() })
      .strict()
      .default({ anchorEveryMinutes: 10 }),
    /**
     * The reserve: a file of reserveMb kept in the data folder, released when free space falls under
     * lowWaterMb, so reading, printing and the audit go on while IT frees the disk (docs/operations.md).
     */
    /**
     * Downtime numbers the registration office gave this box: one is issued, once, to each patient
     * admitted on the ward page during a downtime (store/downtime-numbers.ts). More come from a file
     * with `paperback numbers import`.
     */
    downtimeNumbers: z
      .object({
        ranges: z
          .array(
            z
              .object({
                prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9/-]{0,15}$/, 'letters, digits, - and /, at most 16'),
                from: z.number().int().min(0),
                to: z.number().int().min(0),
                digits: z.number().int().min(1).max(12).default(4),
              })
              .strict()
              .refine((r) => r.to >= r.from, { message: 'to must not be below from', path: ['to'] })
              .refine((r) => r.to - r.from < 100_000, { message: 'a range holds at most 100,000 numbers', path: ['to'] }),
          )
          .default([]),
        /** The IT page and /metrics warn when this share of the box's numbers is used. */
        warnAtPercent: z.number().min(1).max(100).default(80),
      })
      .strict()
      .default({ ranges: [], warnAtPercent: 80 }),
    disk: z
      .object({ reserveMb: z.number().min(0).max(4096).default(32), lowWaterMb: z.number().min(0).max(4096).default(16) })
      .strict()
      .default({ reserveMb: 32, lowWaterMb: 16 }),
    readiness: z
      .object({
        minFreeDiskMb: z.number().min(0).default(500),
        maxClockSkewSeconds: z.number().min(1).default(300),
      })
      .strict()
      .default({ minFreeDiskMb: 500, maxClockSkewSeconds: 300 }),
    schedule: z
      .object({
        /** Upper bound of the stable per-box delay added to every cron tick. */
        spreadSeconds: z.number().int().min(0).max(3600).default(60),
        /** Snapshot runs at once; more wait their turn (a floor's jobs on the same minute). Default: render threads + 1. */
        maxConcurrentRuns: z.number().int().min(1).max(32).optional(),
      })
      .strict()
      .default({ spreadSeconds: 60 }),
    render: z
      .object({
        /** Render threads; 0 renders in the main thread. Default: one per core, at most 4. */
        threads: z.number().int().min(0).max(16).optional(),
        /** Render threads end after this long with nothing to do, giving their memory back. */
        idleSeconds: z.number().min(1).max(86_400).default(60),
        /** …unless a scheduled run starts within this many minutes (0: end them after idleSeconds regardless). */
        keepWarmMinutes: z.number().min(0).max(1440).default(10),
      })
      .strict()
      .default({ idleSeconds: 60, keepWarmMinutes: 10 }),
  })
  .strict();

const documentKind = z.enum(['census', 'mar', 'summary', 'allergies', 'handoff']);

export const snapshotJobSchema = z
  .object({
    id,
    title: z.string().min(1),
    enabled: z.boolean().default(true),
    schedule: z
      .object({ cron: cronExpr, timeZone: timeZone.optional() })
      .strict(),
    source: id,
    scope: z
      .object({
        ward: id,
        /** Source-specific location reference, e.g. "Location/ward-3a" for FHIR. */
        location: z.string().min(1),
      })
      .strict(),
    datasets: z.array(z.enum(DATASETS as [string, ...string[]])).min(1).default([...DATASETS]),
    documents: z.array(documentKind).min(1).default(['census', 'mar', 'summary', 'allergies', 'handoff']),
    /** Keep a patient's MAR and summary from the last snapshot when her data did not change, if at most this old (0: always render). */
    reuseWithinMinutes: z.number().int().min(0).max(24 * 60).default(60),
    /** Form ids from templates/forms/forms.yaml: published blank and stamped for every patient. */
    forms: z.array(id).default([]),
    retention: z
      .object({
        keepLast: z.number().int().min(1).max(1000).default(10),
        maxAgeDays: z.number().min(0.01).max(3650).default(7),
      })
      .strict()
      .default({ keepLast: 10, maxAgeDays: 7 }),
    /**
     * A pull whose census lost more than maxDropPercent of the last good one's patients (from at least
     * minPatients) is held, not published: the last good snapshot stays current until an admin accepts
     * the new census. A drop to no patients at all is always held.
     */
    censusDropGuard: z
      .object({
        maxDropPercent: z.number().min(0).max(100).default(50),
        minPatients: z.number().int().min(1).default(4),
      })
      .strict()
      .default({ maxDropPercent: 50, minPatients: 4 }),
    /** A snapshot older than this is stale: coloured on the page, readiness fails. */
    maxAgeMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
    runTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
    retry: z
      .object({
        attempts: z.number().int().min(0).max(10).default(2),
        backoffSeconds: z.number().min(0).max(3600).default(30),
      })
      .strict()
      .default({ attempts: 2, backoffSeconds: 30 }),
    downtime: z
      .object({
        print: z.array(documentKind).default([]),
        printer: id.optional(),
        copies: z.number().int().min(1).max(10).default(1),
      })
      .strict()
      .default({ print: [], copies: 1 }),
  })
  .strict();

export const printerSchema = z
  .object({
    id,
    name: z.string().min(1),
    /**
     * "demo": the demo's printer, an ippeveprinter started by `serve` when installed, else a folder at `uri`.
     * "zpl": a thermal label printer taking ZPL on raw TCP (socket://HOST:9100): labels and wristbands only.
     */
    kind: z.enum(['ipp', 'folder', 'demo', 'zpl']).default('ipp'),
    /** ipp://, ipps:// or a CUPS queue; socket://HOST[:PORT] for "zpl"; for "folder" (and "demo") a directory path. */
    uri: z.string().min(1),
    /** The label stock loaded, if this printer prints labels: a ZPL printer's, or an IPP label printer's (LPrint). Without it, labels print as an A4 sheet of 3 × 8. */
    label: z
      .object({ widthMm: z.number().min(15).max(120), heightMm: z.number().min(10).max(200), dpmm: z.union([z.literal(8), z.literal(12), z.literal(24)]).default(8) })
      .strict()
      .optional(),
    /** Wristband stock, if this printer prints bands (the band feeds lengthwise). Without it, a band prints as a strip on A4 to cut out. */
    wristband: z
      .object({ widthMm: z.number().min(15).max(40), lengthMm: z.number().min(150).max(400), dpmm: z.union([z.literal(8), z.literal(12), z.literal(24)]).default(8) })
      .strict()
      .optional(),
    location: z.string().optional(),
    fallback: id.optional(),
    caFile: z.string().optional(),
    defaults: z
      .object({
        media: z.string().default('iso_a4_210x297mm'),
        sides: z.enum(['one-sided', 'two-sided-long-edge', 'two-sided-short-edge']).default('one-sided'),
        copies: z.number().int().min(1).max(10).default(1),
      })
      .strict()
      .default({ media: 'iso_a4_210x297mm', sides: 'one-sided', copies: 1 }),
    /** Failed attempts on this printer before the job moves to the fallback. */
    failoverAfter: z.number().int().min(1).max(20).default(3),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.kind === 'ipp' && !/^ipps?:\/\//.test(p.uri)) {
      ctx.addIssue({ code: 'custom', path: ['uri'], message: 'must start with ipp:// or ipps:// for an IPP printer' });
    }
    if (p.kind === 'zpl' && !/^socket:\/\/[^/:]+(:\d{1,5})?\/?$/.test(p.uri)) {
      ctx.addIssue({ code: 'custom', path: ['uri'], message: 'must be socket://HOST or socket://HOST:PORT for a ZPL printer (raw TCP, usually port 9100)' });
    }
    if (p.kind === 'zpl' && !p.label && !p.wristband) {
      ctx.addIssue({ code: 'custom', path: ['label'], message: 'a ZPL printer needs its label or wristband stock (widthMm, heightMm / lengthMm)' });
    }
  });

export type BoxConfig = z.infer<typeof boxConfigSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type FhirSourceConfig = z.infer<typeof fhirSource>;
export const fhirSourceSchema = fhirSource;
export type DemoSourceConfig = z.infer<typeof demoSource>;
export type Hl7SourceConfig = z.infer<typeof hl7Source>;
export type SnapshotJob = z.infer<typeof snapshotJobSchema>;
export type PrinterConfig = z.infer<typeof printerSchema>;
export type PlannedWindow = z.infer<typeof plannedWindow>;
export type OutageConfig = z.infer<typeof boxConfigSchema>['outage'];
export type DocumentKind = z.infer<typeof documentKind>;
