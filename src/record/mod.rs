//! The durable record: every report that reaches uketsuke is on disk before anything is said
//! back to the customer, and everything that must be sent is enqueued in the same
//! transaction, exactly once.
//!
//! One inbound item (a mail message or a form submission) is one unit of work: it is first
//! understood and decided outside any lock ([`prepare`], pure), then recorded in one store
//! transaction ([`record`]): the message with its raw bytes, the case opened or updated, the
//! outbox entries to send, and the intake checkpoint. Duplicates (the same Message-ID from the
//! same sender, the same form idempotency key, or the same bytes) change nothing. Items are
//! recorded in batches, one commit per batch, so durability costs one fsync per batch.
//!
//! The store itself is behind the [`Store`] and [`Tx`] traits; [`sqlite`] is the embedded
//! default and [`postgres`] the shared one that several instances use at once, chosen by
//! [`StoreLocation`] (`[store] path` or `[store] url`).

pub mod location;
pub mod model;
pub mod postgres;
mod recorder;
pub mod sqlite;

pub use location::{AnyStore, StoreLocation};
pub use model::*;
pub use recorder::{Prepared, prepare, reclassify, record, release, release_due, reprocess};
pub use sqlite::SqliteStore;

use chrono::{DateTime, Utc};
use std::time::Duration;

/// The columns of a case, in the order both backends read them into a [`CaseRecord`].
pub(crate) const CASE_COLUMNS: &str = "id, number, state, customer_id, reporter, language, reply_language, priority, subject, \
    repro_steps, error_messages, description, expected_result, circumstances, missing, clock, clock_start, \
    release_at, response_due, reasons, created_at, updated_at, change_request, awaiting_confirmation";

/// [`CASE_COLUMNS`] of the table `c`, for a join, and how many they are (the joined columns
/// after them start at that index).
pub(crate) static JOINED_CASE_COLUMNS: std::sync::LazyLock<(String, usize)> = std::sync::LazyLock::new(|| {
    let columns: Vec<String> = CASE_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
    (columns.join(", "), columns.len())
});

/// What went wrong in the store; always says what to do.
#[derive(Debug)]
pub struct StoreError {
    message: String,
    /// A fenced write was refused: this instance no longer holds the lease it wrote under.
    lease_lost: bool,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> StoreError {
        StoreError { message: message.into(), lease_lost: false }
    }

    /// The lease a write was fenced with is no longer this instance's.
    pub fn lease_lost(message: impl Into<String>) -> StoreError {
        StoreError { message: message.into(), lease_lost: true }
    }

    pub fn is_lease_lost(&self) -> bool {
        self.lease_lost
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A lease held by one instance: the mailbox or duty it names is this instance's until
/// `expires_at`, and every write made under it carries `term` as its fencing token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub term: i64,
    /// When this holder took the lease (renewals keep it).
    pub since: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A case store. Every backend gives the same guarantees: a write that returned Ok is
/// durable, a duplicate is recorded once, and case numbers never repeat or skip.
pub trait Store {
    /// Runs `f` in one write transaction and commits it durably (on disk when this returns
    /// Ok). On any error nothing of `f`'s work remains. A backend may run `f` again from the
    /// start when the database asks for a retry (a concurrent instance recorded the same
    /// message first), so `f` must not have effects outside the transaction.
    fn write<T>(&mut self, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T>;
    fn cases(&mut self, filter: &CaseFilter) -> Result<Vec<CaseRecord>>;
    fn case_detail(&mut self, number: &str) -> Result<Option<CaseDetail>>;
    /// The earliest release time of a held case.
    fn next_release(&mut self) -> Result<Option<DateTime<Utc>>>;
    /// The checkpoint of an IMAP mailbox, if one is recorded.
    fn checkpoint(&mut self, mailbox: &str) -> Result<Option<Checkpoint>>;
    /// Claims up to `limit` outbox entries due at `now` for `claimant`, for `claim_for` by the
    /// store's clock, oldest first, with what is needed to compose them. An entry claimed by
    /// another instance is skipped until its claim runs out, or until that instance has not
    /// reported ([`Store::heartbeat`]) for `dead_after`; entries `claimant` holds already are
    /// claimed again.
    fn claim_outbox(
        &mut self,
        claimant: &str,
        now: DateTime<Utc>,
        claim_for: Duration,
        dead_after: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxJob>>;
    /// The server accepted the message. Recorded only while the claim is still `claimant`'s;
    /// false when it was not (the claim ran out and another instance took the entry).
    fn mark_sent(&mut self, id: i64, claimant: &str, at: DateTime<Utc>) -> Result<bool>;
    /// A failed attempt: retried at `retry_at`, or parked (with the server's answer) when
    /// `retry_at` is `None`. The claim is released.
    fn mark_failed(&mut self, id: i64, claimant: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()>;
    /// Records a channel's state; `success` also stamps its last success.
    fn set_channel(
        &mut self,
        name: &str,
        state: &str,
        success: bool,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The stored state of an OAuth2 account.
    fn oauth_account(&mut self, account: &str) -> Result<Option<OAuthState>>;
    /// Every stored OAuth2 account, for `uketsuke status` and `uketsuke auth status`.
    fn oauth_accounts(&mut self) -> Result<Vec<OAuthState>>;
    /// Records a refresh: the new access token's expiry and, when the provider sent one, the
    /// new (sealed) refresh token. Durable when this returns, so a rotated refresh token is
    /// never lost to a crash. `login` marks a fresh sign-in: it also clears "needs
    /// re-authorization", which a waiting daemon watches for.
    fn save_oauth_tokens(
        &mut self,
        account: &str,
        sealed_refresh: Option<&[u8]>,
        access_expires: Option<DateTime<Utc>>,
        login: bool,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Marks an account as needing a person to sign in again, with the provider's reason.
    fn mark_needs_reauth(&mut self, account: &str, reason: &str, at: DateTime<Utc>) -> Result<()>;
    /// Everything `uketsuke status` shows.
    fn status(&mut self) -> Result<StoreStatus>;
    /// The raw bytes of a recorded message.
    fn message_raw(&mut self, id: i64) -> Result<Option<Vec<u8>>>;
    /// Remembers that the daemon read its configuration: put in force when `problems` is
    /// empty, refused otherwise. Only the last hundred are kept.
    fn record_config_load(&mut self, at: DateTime<Utc>, path: &std::path::Path, problems: &[String]) -> Result<()>;
    /// Counts, for tests and status: (messages, cases, outbox entries).
    fn counts(&mut self) -> Result<(i64, i64, i64)>;
    /// Takes or renews the lease `name` for `holder` for `ttl`, by the store's own clock.
    /// A live lease of another holder is not taken (None). Renewing a live lease keeps its
    /// term; taking a free or expired one raises the term by one, so every write made under
    /// an older term is refused from then on.
    fn acquire_lease(&mut self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>>;
    /// Gives a lease up at once (a clean shutdown), so another instance need not wait out
    /// its time.
    fn release_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()>;
    /// Every lease, live or not.
    fn leases(&mut self) -> Result<Vec<Lease>>;
    /// Records that `instance` is running now (started at `started_at`).
    fn heartbeat(&mut self, instance: &Instance) -> Result<()>;
    /// The instances that reported within `within`, newest first.
    fn instances(&mut self, within: Duration) -> Result<Vec<InstanceStatus>>;
    /// An instance known to be gone: its leases run out now (their terms stay, so the next
    /// holder's is higher), its outbox claims are freed and it is no longer listed.
    fn forget_instance(&mut self, id: &str) -> Result<()>;
}

/// The operations of one write transaction.
pub trait Tx {
    /// Refuses the rest of this transaction unless `holder` still holds lease `name` under
    /// `term` and it has not run out. Until the transaction ends no one can take the lease
    /// over, so everything written after this check is fenced by the term.
    fn check_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()>;
    /// The message already recorded under this deduplication key: (message row, case number).
    fn find_message(&mut self, dedup_key: &str) -> Result<Option<(i64, Option<String>)>>;
    /// The next case number of `prefix` and `year`, never used before.
    fn allocate_case_number(&mut self, prefix: &str, year: i32, width: usize) -> Result<String>;
    fn insert_case(&mut self, case: &CaseRecord) -> Result<i64>;
    fn update_case(&mut self, case: &CaseRecord) -> Result<()>;
    fn load_case(&mut self, number: &str) -> Result<Option<CaseRecord>>;
    /// The case whose outbox sent one of these Message-IDs.
    fn case_of_our_message(&mut self, ids: &[String]) -> Result<Option<String>>;
    fn insert_message(&mut self, message: &NewMessage<'_>) -> Result<i64>;
    fn enqueue(&mut self, entry: &NewOutbox) -> Result<()>;
    /// Acknowledgments to `recipient` enqueued at or after `since`.
    fn acks_since(&mut self, recipient: &str, since: DateTime<Utc>) -> Result<u32>;
    fn add_event(&mut self, case_id: i64, at: DateTime<Utc>, actor: &str, kind: &str, detail: &str) -> Result<()>;
    fn set_checkpoint(&mut self, checkpoint: &Checkpoint, at: DateTime<Utc>) -> Result<()>;
    /// Held cases whose release time is at or before `now`.
    fn held_until(&mut self, now: DateTime<Utc>) -> Result<Vec<CaseRecord>>;
    /// The raw bytes, channel and receipt time of a case's first message.
    fn raw_of_case(&mut self, case_id: i64) -> Result<Option<FirstMessage>>;
    /// The id of the first message of a case.
    fn first_message_of(&mut self, case_id: i64) -> Result<Option<i64>>;
}

/// A case's first message as received: raw bytes, channel and receipt time.
pub type FirstMessage = (Vec<u8>, crate::understand::Channel, DateTime<Utc>);

/// One running uketsuke, as it reports itself to the store.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Unique per process: host, process id and start time.
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub version: String,
}

impl Instance {
    /// This process.
    pub fn this_process(started_at: DateTime<Utc>) -> Instance {
        let host = hostname();
        let pid = std::process::id();
        Instance {
            id: format!("{host}:{pid}:{}", started_at.timestamp_micros()),
            host,
            pid,
            started_at,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// An instance as `uketsuke status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InstanceStatus {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}
