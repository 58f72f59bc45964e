-- The report queue (src/reports): visitors' reports about listings, and the
-- installation's salt for hashing client addresses. PostgreSQL flavour; keep
-- ../sqlite/0001_reports.sql the same in meaning.

-- Settings of the report queue; `client_hash_salt` is written once, by the
-- first server to start on this database.
CREATE TABLE report_settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- One report. `reasons` repeats the rows of report_reasons as a
-- comma-separated list, in the vocabulary's order, for reading.
-- `client_hash` is the salted hash of the sender's address, kept for 24
-- hours (rate limit and repeat detection), then cleared. Times are Unix
-- seconds.
CREATE TABLE reports (
    id          TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    details     TEXT,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution  TEXT CHECK (resolution IN ('fixed', 'dismissed', 'listing_removed')),
    note        TEXT,
    generation  BIGINT,
    client_hash TEXT,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    CHECK ((status = 'open') = (resolution IS NULL))
);
CREATE INDEX reports_by_status ON reports (status, created_at);
CREATE INDEX reports_by_client ON reports (client_hash, created_at);
CREATE INDEX reports_by_provider ON reports (provider_id, status);

-- The reasons of each report, one row each: repeats are per reason, and
-- /metrics counts reports by reason.
CREATE TABLE report_reasons (
    report_id TEXT NOT NULL REFERENCES reports (id),
    reason    TEXT NOT NULL,
    PRIMARY KEY (report_id, reason)
);
CREATE INDEX report_reasons_by_reason ON report_reasons (reason);
