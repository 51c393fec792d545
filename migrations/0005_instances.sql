-- Several uketsuke instances may share one store (docs: "Several instances").

-- An outbox entry is claimed by the instance sending it, until a time; another instance
-- takes it only after the claim runs out, and only the claimant may mark it sent.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;

-- Who watches which mailbox, and who runs the scheduler: one holder at a time, until
-- expires_at. term rises at every change of holder and fences the holder's writes.
CREATE TABLE leases (
    name        TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,
    term        INTEGER NOT NULL,
    since       TEXT    NOT NULL,
    renewed_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);

-- Each running instance, as last heard from.
CREATE TABLE instances (
    id          TEXT    PRIMARY KEY,
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    version     TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    seen_at     TEXT    NOT NULL
);
