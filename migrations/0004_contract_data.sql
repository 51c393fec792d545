-- The contract as data (docs/POLICY.md sections 4 and 8).
-- A request to change settings on the customer's behalf (設定代行): whether it touches
-- sensitive settings, whether the customer's tier has the service, and the completion targets
-- quoted in the acknowledgment (JSON); NULL for every other case.
ALTER TABLE cases ADD COLUMN change_request TEXT;

-- 1 while a case is held only because the address its report came from is unproven (typed into
-- the intake page): a reply by mail from that address escalates it (docs/POLICY.md section 5).
ALTER TABLE cases ADD COLUMN awaiting_confirmation INTEGER NOT NULL DEFAULT 0;

-- Each time the running daemon read its configuration: at start and on every reload
-- (SIGHUP), with the problems of a reload that was refused. `uketsuke status` shows the last.
CREATE TABLE config_loads (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    -- "loaded" or "refused"
    outcome    TEXT    NOT NULL,
    -- the problems of a refused reload, one per line with file and line
    problems   TEXT    NOT NULL DEFAULT ''
);
