/**
 * Versioned schema migrations. Each entry runs once, in order, inside a
 * transaction; PRAGMA user_version records how far a database has come.
 * Never edit a migration that has shipped: add a new one.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'runs, snapshots, artifacts, locks',
    sql: `
      CREATE TABLE job_runs (
        id           INTEGER PRIMARY KEY,
        job_id       TEXT NOT NULL,
        trigger      TEXT NOT NULL,            -- schedule | manual | retry | pre-window | startup
        attempt      INTEGER NOT NULL DEFAULT 1,
        started_at   TEXT NOT NULL,
        ended_at     TEXT,
        status       TEXT NOT NULL,            -- running | succeeded | failed | interrupted
        error        TEXT,
        duration_ms  INTEGER,
        snapshot_id  INTEGER,
        pid          INTEGER NOT NULL
      );
      CREATE INDEX job_runs_job ON job_runs(job_id, id DESC);

      CREATE TABLE snapshots (
        id            INTEGER PRIMARY KEY,
        job_id        TEXT NOT NULL,
        run_id        INTEGER NOT NULL REFERENCES job_runs(id),
        status        TEXT NOT NULL,           -- staging | published | failed
        as_of         TEXT,                     -- when the source was read
        source_id     TEXT NOT NULL,
        source_system TEXT,
        counts_json   TEXT NOT NULL DEFAULT '{}',
        warnings_json TEXT NOT NULL DEFAULT '[]',
        created_at    TEXT NOT NULL,
        published_at  TEXT
      );
      CREATE INDEX snapshots_job ON snapshots(job_id, id DESC);

      -- The one published snapshot each job serves. Changing it is the publish.
      CREATE TABLE current_snapshot (
        job_id       TEXT PRIMARY KEY,
        snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id),
        updated_at   TEXT NOT NULL
      );

      -- Files on disk, content-addressed by SHA-256 of their plaintext.
      CREATE TABLE blobs (
        sha256      TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        created_at  TEXT NOT NULL
      );

      CREATE TABLE artifacts (
        id           INTEGER PRIMARY KEY,
        snapshot_id  INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        address      TEXT NOT NULL,             -- census, mar/MRN123, data/ward …
        kind         TEXT NOT NULL,             -- document | data
        media_type   TEXT NOT NULL,
        title        TEXT NOT NULL,
        patient_key  TEXT,
        pages        INTEGER,
        sha256       TEXT NOT NULL REFERENCES blobs(sha256),
        size         INTEGER NOT NULL,
        UNIQUE (snapshot_id, address)
      );
      CREATE INDEX artifacts_sha ON artifacts(sha256);

      -- Cross-process job locks: a run holds its job's row while it works.
      CREATE TABLE job_locks (
        job_id       TEXT PRIMARY KEY,
        owner        TEXT NOT NULL,             -- host:pid:nonce
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        acquired_at  TEXT NOT NULL,
        expires_at   TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'print queue, outage events, audit log',
    sql: `
      CREATE TABLE print_jobs (
        id            INTEGER PRIMARY KEY,
        artifact_id   INTEGER REFERENCES artifacts(id) ON DELETE SET NULL,
        sha256        TEXT NOT NULL,
        address       TEXT NOT NULL,
        job_name      TEXT NOT NULL,
        printer_id    TEXT NOT NULL,            -- printer asked for
        current_printer_id TEXT NOT NULL,       -- printer in use (after failover)
        copies        INTEGER NOT NULL DEFAULT 1,
        requested_by  TEXT NOT NULL,
        reason        TEXT NOT NULL DEFAULT 'manual', -- manual | downtime | test
        downtime_id   INTEGER,
        state         TEXT NOT NULL,            -- queued | sending | processing | completed | failed | cancelled
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        ipp_job_uri   TEXT,
        error         TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE INDEX print_jobs_state ON print_jobs(state, next_attempt_at);

      CREATE TABLE print_job_events (
        id            INTEGER PRIMARY KEY,
        print_job_id  INTEGER NOT NULL REFERENCES print_jobs(id) ON DELETE CASCADE,
        at            TEXT NOT NULL,
        state         TEXT NOT NULL,
        printer_id    TEXT,
        detail        TEXT
      );

      CREATE TABLE outage_events (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        scope       TEXT NOT NULL,              -- box | source:<id>
        from_state  TEXT,
        to_state    TEXT NOT NULL,
        cause       TEXT NOT NULL
      );

      CREATE TABLE audit_log (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        subject     TEXT,
        detail      TEXT,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
      );
      -- Append-only: the database itself refuses edits and deletes.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'print jobs remember the IPP job they are waiting on',
    sql: `
      ALTER TABLE print_jobs ADD COLUMN ipp_job_id INTEGER;
      ALTER TABLE print_jobs ADD COLUMN ipp_printer_id TEXT;
      ALTER TABLE print_jobs ADD COLUMN completed_at TEXT;
    `,
  },
  {
    version: 4,
    name: 'downtime episodes, link state, pre-window snapshots',
    sql: `
      CREATE TABLE link_state (
        scope       TEXT PRIMARY KEY,          -- source:<id>
        state_json  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE TABLE downtimes (
        id             INTEGER PRIMARY KEY,
        kind           TEXT NOT NULL,          -- detected | declared | planned
        cause          TEXT NOT NULL,
        started_at     TEXT NOT NULL,
        ended_at       TEXT,
        declared_by    TEXT,
        ended_by       TEXT,
        window_id      TEXT,
        printed_at     TEXT,                   -- set once, with the auto-print enqueue
        summary_sha256 TEXT,
        summary_pages  INTEGER
      );
      -- A declaration by hand, read by the running agent at its next tick.
      CREATE TABLE declarations (
        id           INTEGER PRIMARY KEY,
        declared_at  TEXT NOT NULL,
        declared_by  TEXT NOT NULL,
        reason       TEXT NOT NULL,
        ended_at     TEXT,
        ended_by     TEXT
      );
      CREATE TABLE pre_window_runs (
        window_id     TEXT NOT NULL,
        window_start  TEXT NOT NULL,
        ran_at        TEXT NOT NULL,
        PRIMARY KEY (window_id, window_start)
      );
    `,
  },
  {
    version: 5,
    name: 'accounts, sessions, box settings',
    sql: `
      CREATE TABLE users (
        id             INTEGER PRIMARY KEY,
        username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name   TEXT NOT NULL,
        role           TEXT NOT NULL CHECK (role IN ('nurse', 'admin')),
        password_hash  TEXT,                   -- argon2id; NULL for directory-only accounts
        disabled       INTEGER NOT NULL DEFAULT 0,
        created_at     TEXT NOT NULL,
        password_set_at TEXT
      );
      -- Only the SHA-256 of a session token is stored: a copy of the database opens no session.
      CREATE TABLE sessions (
        token_hash     TEXT PRIMARY KEY,
        actor          TEXT NOT NULL,          -- user name, or "break-glass:<name typed>"
        role           TEXT NOT NULL,
        auth           TEXT NOT NULL,          -- local | ldap | break-glass
        created_at     TEXT NOT NULL,
        last_seen_at   TEXT NOT NULL,
        expires_at     TEXT NOT NULL
      );
      CREATE TABLE settings (
        name   TEXT PRIMARY KEY,
        value  TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX audit_log_at ON audit_log(at);
    `,
  },
  {
    version: 6,
    name: 'HL7 v2 ADT feed: messages, quarantine, census',
    sql: `
      -- Every accepted message, stored (sealed) before it is acknowledged.
      CREATE TABLE hl7_messages (
        id           INTEGER PRIMARY KEY,
        source_id    TEXT NOT NULL,
        control_id   TEXT NOT NULL,             -- MSH-10
        sender       TEXT NOT NULL,             -- MSH-3^MSH-4
        event_type   TEXT NOT NULL,             -- A01, A02 …
        event_time   TEXT NOT NULL,             -- EVN-6, else EVN-2, else MSH-7 (ISO)
        received_at  TEXT NOT NULL,
        mrn          TEXT NOT NULL,
        raw          BLOB NOT NULL,             -- the message, sealed with the data key
        status       TEXT NOT NULL,             -- stored | applied | out-of-order | ignored
        applied_at   TEXT,
        note         TEXT,
        UNIQUE (source_id, sender, control_id)
      );
      CREATE INDEX hl7_messages_pending ON hl7_messages(source_id, status, id);
      -- What could not be accepted, with the reason; kept, never dropped.
      CREATE TABLE hl7_quarantine (
        id           INTEGER PRIMARY KEY,
        source_id    TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        peer         TEXT NOT NULL,
        ack_code     TEXT NOT NULL,             -- AE | AR
        reason       TEXT NOT NULL,             -- no patient data
        raw          BLOB NOT NULL              -- sealed
      );
      -- The census the feed keeps: one row per patient (MRN) it has heard of.
      CREATE TABLE adt_patients (
        source_id        TEXT NOT NULL,
        mrn              TEXT NOT NULL,
        ward_id          TEXT,                  -- null: not on a ward this box serves
        bed              TEXT,
        status           TEXT NOT NULL,         -- admitted | discharged | cancelled | pre-admitted
        last_event_time  TEXT NOT NULL,
        data             BLOB NOT NULL,         -- sealed JSON: demographics, location history, allergies, diagnoses
        updated_at       TEXT NOT NULL,
        PRIMARY KEY (source_id, mrn)
      );
      CREATE INDEX adt_patients_ward ON adt_patients(source_id, ward_id, status);
    `,
  },
  {
    version: 7,
    name: 'incremental snapshots: what each document was made from, and its as-of',
    sql: `
      ALTER TABLE artifacts ADD COLUMN render_key TEXT;
      ALTER TABLE artifacts ADD COLUMN as_of TEXT;
    `,
  },
  {
    version: 8,
    name: 'print jobs by file, so a run can tell whether a file it freed is still being printed',
    sql: `
      CREATE INDEX print_jobs_sha ON print_jobs(sha256);
    `,
  },
  {
    version: 9,
    name: 'leases: one owner at a time for work two processes could both do (the print queue)',
    sql: `
      CREATE TABLE leases (
        name        TEXT PRIMARY KEY,          -- what is owned, e.g. print-queue
        holder      TEXT NOT NULL,             -- pid@host/random of the owning process
        acquired_at TEXT NOT NULL,
        expires_at  TEXT NOT NULL              -- renewed by the holder's heartbeat; free once past
      );
    `,
  },
  {
    version: 10,
    name: 'audit seal: each row MACed with a key kept outside the database',
    sql: `
      ALTER TABLE audit_log ADD COLUMN mac TEXT;      -- HMAC-SHA256 of the row's id and hash (audit/seal.ts)
      ALTER TABLE audit_log ADD COLUMN key_id TEXT;   -- which key made it
    `,
  },
  {
    version: 11,
    name: 'audit archive: closed segments of the audit log, moved to files the chain carries on from',
    sql: `
      CREATE TABLE audit_archives (
        id          INTEGER PRIMARY KEY,
        first_id    INTEGER NOT NULL,
        last_id     INTEGER NOT NULL,
        last_hash   TEXT NOT NULL,      -- the chain hash of last_id: the next row in the table follows it
        file        TEXT NOT NULL,      -- name in the archive folder (JSON lines, one row each)
        sha256      TEXT NOT NULL,      -- of the file, as written
        archived_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 12,
    name: 'downtime numbers: pre-assigned identifiers for patients admitted while the HIS is down, each issued once',
    sql: `
      CREATE TABLE downtime_numbers (
        number           TEXT PRIMARY KEY,     -- as printed on the band, e.g. DT3A-0001
        pool             TEXT NOT NULL,        -- config:<range> or import:<file>
        seq              INTEGER NOT NULL,     -- issue order within the pool
        state            TEXT NOT NULL CHECK (state IN ('free', 'issued')),
        issued_at        TEXT,
        issued_by        TEXT,
        admission_sha256 TEXT,                 -- sealed blob: what was recorded at admission (name, birth date, sex, bed)
        his_mrn          TEXT,                 -- after recovery: the record the HIS gave this patient
        his_encounter    TEXT,
        mapped_at        TEXT,
        mapped_by        TEXT,
        UNIQUE (pool, seq)
      );
      CREATE INDEX downtime_numbers_next ON downtime_numbers(state, pool, seq);
      -- A print job's content: a PDF, or a label request drawn for whichever printer sends it (ZPL or PDF).
      ALTER TABLE print_jobs ADD COLUMN media_type TEXT NOT NULL DEFAULT 'application/pdf';
    `,
  },
  {
    version: 13,
    name: 'downtime entries: what the ward recorded during a downtime, append-only, sealed, and where each stands in filing back',
    sql: `
      CREATE TABLE downtime_entries (
        id                INTEGER PRIMARY KEY,
        uid               TEXT NOT NULL UNIQUE,  -- sent at file-back (ifNoneExist, MSH-10): a resend never duplicates
        downtime_id       INTEGER NOT NULL REFERENCES downtimes(id),
        job_id            TEXT NOT NULL,
        patient           TEXT NOT NULL,         -- patient key (MRN) or downtime number
        kind              TEXT NOT NULL CHECK (kind IN ('administration', 'vitals', 'note', 'transfer', 'discharge')),
        occurred_at       TEXT NOT NULL,
        entered_at        TEXT NOT NULL,
        entered_by        TEXT NOT NULL,
        record_sha256     TEXT NOT NULL,         -- sealed blob: what was recorded
        corrects_id       INTEGER REFERENCES downtime_entries(id),
        correction_reason TEXT,
        state             TEXT NOT NULL CHECK (state IN ('pending', 'filed', 'failed', 'rejected', 'needs-person')),
        attempts          INTEGER NOT NULL DEFAULT 0,
        last_error        TEXT,
        filed_at          TEXT,
        filed_ref         TEXT,
        updated_at        TEXT NOT NULL,
        CHECK ((corrects_id IS NULL) = (correction_reason IS NULL))
      );
      CREATE INDEX downtime_entries_patient ON downtime_entries(job_id, patient, occurred_at);
      CREATE INDEX downtime_entries_state ON downtime_entries(state);
    `,
  },
  {
    version: 14,
    name: 'downtime admissions filed back as HL7 ADT A01: sent once, on the acknowledgement that names it',
    sql: `
      ALTER TABLE downtime_numbers ADD COLUMN adt_state TEXT CHECK (adt_state IN ('filed', 'rejected'));
      ALTER TABLE downtime_numbers ADD COLUMN adt_ref TEXT;
      ALTER TABLE downtime_numbers ADD COLUMN adt_error TEXT;
      ALTER TABLE downtime_numbers ADD COLUMN adt_at TEXT;
    `,
  },
];
