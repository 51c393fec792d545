-- uketsuke's durable record: cases, every inbound message (raw bytes kept), the outbox of
-- messages to send, what happened to each case, and the intake checkpoints.

CREATE TABLE case_numbers (
    prefix   TEXT    NOT NULL,
    year     INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    number          TEXT    NOT NULL UNIQUE,
    state           TEXT    NOT NULL,
    customer_id     TEXT,
    reporter        TEXT,
    language        TEXT    NOT NULL,
    reply_language  TEXT    NOT NULL,
    priority        TEXT    NOT NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    repro_steps     TEXT,
    error_messages  TEXT    NOT NULL DEFAULT '[]',
    description     TEXT,
    expected_result TEXT,
    circumstances   TEXT,
    missing         TEXT    NOT NULL DEFAULT '[]',
    clock           TEXT    NOT NULL DEFAULT 'business',
    clock_start     TEXT,
    release_at      TEXT,
    response_due    TEXT,
    reasons         TEXT    NOT NULL DEFAULT '[]',
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX cases_state ON cases (state, release_at);
CREATE INDEX cases_customer ON cases (customer_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER REFERENCES cases (id),
    channel         TEXT    NOT NULL,
    sender          TEXT,
    message_id      TEXT,
    dedup_key       TEXT    NOT NULL UNIQUE,
    received_at     TEXT    NOT NULL,
    recorded_at     TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    sha256          TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    raw             BLOB    NOT NULL,
    error           TEXT
);
CREATE INDEX messages_case ON messages (case_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER REFERENCES cases (id),
    message_id      INTEGER REFERENCES messages (id),
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    our_message_id  TEXT    NOT NULL UNIQUE,
    not_before      TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    UNIQUE (message_id, kind)
);
CREATE INDEX outbox_due ON outbox (state, not_before);
CREATE INDEX outbox_recipient ON outbox (recipient, kind, created_at);

CREATE TABLE case_events (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at      TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    detail  TEXT    NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id);

CREATE TABLE checkpoints (
    mailbox     TEXT    PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL
);
