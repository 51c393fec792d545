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
//! default. A PostgreSQL backend implements the same traits.

pub mod model;
mod recorder;
pub mod sqlite;

pub use model::*;
pub use recorder::{Prepared, prepare, reclassify, record, release, release_due, reprocess};
pub use sqlite::SqliteStore;

use chrono::{DateTime, Utc};

/// What went wrong in the store; always says what to do.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A case store.
pub trait Store {
    /// Runs `f` in one write transaction and commits it durably (on disk when this returns
    /// Ok). On any error nothing of `f`'s work remains.
    fn write<T>(&mut self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T>;
    fn cases(&mut self, filter: &CaseFilter) -> Result<Vec<CaseRecord>>;
    fn case_detail(&mut self, number: &str) -> Result<Option<CaseDetail>>;
    /// The earliest release time of a held case.
    fn next_release(&mut self) -> Result<Option<DateTime<Utc>>>;
}

/// The operations of one write transaction.
pub trait Tx {
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
