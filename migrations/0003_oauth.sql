-- OAuth2 accounts: the refresh token (sealed with the key in [store] token_key_file, never
-- in clear), when the current access token expires, and whether a person must sign in again.
-- A rotated refresh token is written here before the access token that came with it is used.
CREATE TABLE oauth_accounts (
    account          TEXT PRIMARY KEY,
    refresh_token    BLOB,
    access_expires   TEXT,
    refreshed_at     TEXT,
    -- Why the account needs `uketsuke auth login` again; NULL while it works.
    needs_reauth     TEXT,
    updated_at       TEXT NOT NULL
);
