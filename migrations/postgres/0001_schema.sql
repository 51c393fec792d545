-- uketsuke's durable record on PostgreSQL: the same tables as the SQLite store (migrations
-- 0001-0005), with PostgreSQL's types. Times are timestamptz, raw messages bytea.

CREATE TABLE case_numbers (
    prefix   TEXT    NOT NULL,
    year     INTEGER NOT NULL,
    last_seq BIGINT  NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE cases (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number                TEXT        NOT NULL UNIQUE,
    state                 TEXT        NOT NULL,
    customer_id           TEXT,
    reporter              TEXT,
    language              TEXT        NOT NULL,
    reply_language        TEXT        NOT NULL,
    priority              TEXT        NOT NULL,
    subject               TEXT        NOT NULL DEFAULT '',
    repro_steps           TEXT,
    -- JSON lists of strings
    error_messages        TEXT        NOT NULL DEFAULT '[]',
    description           TEXT,
    expected_result       TEXT,
    circumstances         TEXT,
    missing               TEXT        NOT NULL DEFAULT '[]',
    clock                 TEXT        NOT NULL DEFAULT 'business',
    clock_start           TIMESTAMPTZ,
    release_at            TIMESTAMPTZ,
    response_due          TIMESTAMPTZ,
    reasons               TEXT        NOT NULL DEFAULT '[]',
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    -- a request to change settings on the customer's behalf (JSON), NULL otherwise
    change_request        TEXT,
    awaiting_confirmation BOOLEAN     NOT NULL DEFAULT false
);
CREATE INDEX cases_state ON cases (state, release_at);
CREATE INDEX cases_customer ON cases (upper(customer_id));

CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     BIGINT REFERENCES cases (id),
    channel     TEXT        NOT NULL,
    sender      TEXT,
    message_id  TEXT,
    dedup_key   TEXT        NOT NULL UNIQUE,
    received_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    action      TEXT        NOT NULL,
    subject     TEXT        NOT NULL DEFAULT '',
    sha256      TEXT        NOT NULL,
    size        BIGINT      NOT NULL,
    raw         BYTEA       NOT NULL,
    error       TEXT
);
CREATE INDEX messages_case ON messages (case_id);

CREATE TABLE outbox (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id        BIGINT REFERENCES cases (id),
    message_id     BIGINT REFERENCES messages (id),
    kind           TEXT        NOT NULL,
    recipient      TEXT        NOT NULL,
    language       TEXT        NOT NULL,
    our_message_id TEXT        NOT NULL UNIQUE,
    not_before     TIMESTAMPTZ NOT NULL,
    state          TEXT        NOT NULL DEFAULT 'pending',
    attempts       BIGINT      NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    sent_at        TIMESTAMPTZ,
    claimed_by     TEXT,
    claimed_until  TIMESTAMPTZ,
    UNIQUE (message_id, kind)
);
CREATE INDEX outbox_due ON outbox (state, not_before);
CREATE INDEX outbox_recipient ON outbox (recipient, kind, created_at);

CREATE TABLE case_events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT      NOT NULL REFERENCES cases (id),
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT        NOT NULL,
    kind    TEXT        NOT NULL,
    detail  TEXT        NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id);

CREATE TABLE checkpoints (
    mailbox     TEXT        PRIMARY KEY,
    uidvalidity BIGINT      NOT NULL,
    last_uid    BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE channels (
    name         TEXT        PRIMARY KEY,
    state        TEXT        NOT NULL,
    since        TIMESTAMPTZ NOT NULL,
    last_success TIMESTAMPTZ,
    last_error   TEXT,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_accounts (
    account        TEXT PRIMARY KEY,
    -- sealed with the key in [store] token_key_file, never in clear
    refresh_token  BYTEA,
    access_expires TIMESTAMPTZ,
    refreshed_at   TIMESTAMPTZ,
    needs_reauth   TEXT,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE config_loads (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL,
    path     TEXT        NOT NULL,
    outcome  TEXT        NOT NULL,
    problems TEXT        NOT NULL DEFAULT ''
);

CREATE TABLE leases (
    name       TEXT        PRIMARY KEY,
    holder     TEXT        NOT NULL,
    term       BIGINT      NOT NULL,
    since      TIMESTAMPTZ NOT NULL,
    renewed_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE instances (
    id         TEXT        PRIMARY KEY,
    host       TEXT        NOT NULL,
    pid        BIGINT      NOT NULL,
    version    TEXT        NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL
);
