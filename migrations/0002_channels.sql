-- The state of each channel (IMAP mailbox, SMTP outbox), so a stalled channel is visible to
-- `uketsuke status` and never fails silently.
CREATE TABLE channels (
    name          TEXT PRIMARY KEY,
    state         TEXT NOT NULL,
    since         TEXT NOT NULL,
    last_success  TEXT,
    last_error    TEXT,
    updated_at    TEXT NOT NULL
);
