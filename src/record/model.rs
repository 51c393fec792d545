//! The records of the store: cases, messages, outbox entries, events and checkpoints.

use crate::terms::Language;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Required items are missing; the response clock has not started.
    AwaitInfo,
    /// An enhancement request outside the contract; answered and closed.
    NotCovered,
    /// With the team.
    Dispatched,
    /// With on-call, out of hours.
    Escalated,
    /// Acknowledged, waiting for support to open (`release_at`).
    Held,
    /// The message could not be understood; kept raw for an operator.
    Quarantined,
    /// A quarantined message understood on a later try; it now belongs to another case.
    Reprocessed,
}

impl CaseState {
    pub const ALL: [CaseState; 7] = [
        CaseState::AwaitInfo,
        CaseState::NotCovered,
        CaseState::Dispatched,
        CaseState::Escalated,
        CaseState::Held,
        CaseState::Quarantined,
        CaseState::Reprocessed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::AwaitInfo => "await_info",
            CaseState::NotCovered => "not_covered",
            CaseState::Dispatched => "dispatched",
            CaseState::Escalated => "escalated",
            CaseState::Held => "held",
            CaseState::Quarantined => "quarantined",
            CaseState::Reprocessed => "reprocessed",
        }
    }

    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A case as stored.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    #[serde(skip)]
    pub id: i64,
    pub number: String,
    pub state: CaseState,
    pub customer_id: Option<String>,
    pub reporter: Option<String>,
    pub language: Language,
    pub reply_language: Language,
    pub priority: String,
    pub subject: String,
    pub repro_steps: Option<String>,
    pub error_messages: Vec<String>,
    pub description: Option<String>,
    pub expected_result: Option<String>,
    pub circumstances: Option<String>,
    pub missing: Vec<String>,
    pub clock: String,
    pub clock_start: Option<DateTime<Utc>>,
    pub release_at: Option<DateTime<Utc>>,
    pub response_due: Option<DateTime<Utc>>,
    pub reasons: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the report asks for settings to be changed on the customer's behalf.
    pub change_request: Option<crate::decide::ChangeRequest>,
    /// Held although eligible for 24-hour handling, because the address the report came from
    /// is unproven (typed into the page); a reply from it escalates (docs/POLICY.md section 5).
    pub awaiting_confirmation: bool,
}

/// A message to record.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub case_id: Option<i64>,
    pub channel: &'a str,
    pub sender: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub dedup_key: &'a str,
    pub received_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub action: &'a str,
    pub subject: &'a str,
    pub sha256: &'a str,
    pub raw: &'a [u8],
    pub error: Option<&'a str>,
}

/// What an outbox entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// The acknowledgment of a new case (or of a report completed by a follow-up).
    Ack,
    /// The acknowledgment of a follow-up added to a case.
    FollowupAck,
    /// The reply to a sender who is not an authorized contact.
    RejectUnauthorized,
    /// The reply to a suspended customer.
    RejectSuspended,
    /// The notice to on-call of an escalated case.
    Oncall,
    /// The hand-over of a case to the team.
    Handover,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Ack => "ack",
            OutboxKind::FollowupAck => "followup_ack",
            OutboxKind::RejectUnauthorized => "reject_unauthorized",
            OutboxKind::RejectSuspended => "reject_suspended",
            OutboxKind::Oncall => "oncall",
            OutboxKind::Handover => "handover",
        }
    }

    /// Replies to the customer, which the per-sender rate limit counts.
    pub fn is_reply(self) -> bool {
        matches!(
            self,
            OutboxKind::Ack | OutboxKind::FollowupAck | OutboxKind::RejectUnauthorized | OutboxKind::RejectSuspended
        )
    }
}

/// Something to send.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    pub case_id: Option<i64>,
    pub message_id: i64,
    pub kind: OutboxKind,
    pub recipient: String,
    pub language: Language,
    /// Our Message-ID for it: stable, so a resend after a crash is the same message.
    pub our_message_id: String,
    pub not_before: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// How far an IMAP mailbox has been read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// Filters of `uketsuke cases list`.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub state: Option<CaseState>,
    pub customer_id: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
}

/// A case with everything that happened to it, for `uketsuke cases show`.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub case: CaseRecord,
    pub messages: Vec<MessageSummary>,
    pub outbox: Vec<OutboxSummary>,
    pub events: Vec<EventRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageSummary {
    pub id: i64,
    pub channel: String,
    pub sender: Option<String>,
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub action: String,
    pub subject: String,
    pub size: i64,
    pub sha256: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxSummary {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub our_message_id: String,
    pub not_before: DateTime<Utc>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

/// What recording one inbound item did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The message row.
    pub message: i64,
    /// The case it belongs to, if any (ignored and rejected messages open none).
    pub case: Option<String>,
    pub action: String,
    /// Already recorded before: nothing changed.
    pub duplicate: bool,
    /// What was enqueued to send.
    pub enqueued: Vec<OutboxKind>,
}

/// Times are stored as RFC 3339 in UTC to the second, so they sort as text.
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// An outbox entry to send, with the case and the inbound message it is about.
#[derive(Debug, Clone)]
pub struct OutboxJob {
    pub id: i64,
    pub case_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub language: Language,
    pub our_message_id: String,
    pub attempts: i64,
    /// The inbound message: its sender, subject, Message-ID, receipt time and raw bytes.
    pub sender: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub raw: Vec<u8>,
    pub case: Option<CaseRecord>,
}

/// A channel's last known state.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelStatus {
    pub name: String,
    pub state: String,
    pub since: DateTime<Utc>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// What `uketsuke status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStatus {
    pub outbox_pending: i64,
    pub outbox_parked: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub held: i64,
    /// When the oldest held case was received.
    pub oldest_held: Option<DateTime<Utc>>,
    pub next_release: Option<DateTime<Utc>>,
    pub quarantined: i64,
    pub cases: i64,
    pub messages: i64,
    pub channels: Vec<ChannelStatus>,
    /// When the configuration in force was loaded (at start or by a reload).
    pub config_loaded: Option<ConfigLoad>,
    /// A reload refused after that load, with its problems: the files on disk are not the
    /// rules in force.
    pub config_refused: Option<ConfigLoad>,
    /// Stored OAuth2 accounts (shown through `oauth::health`, never with their tokens).
    #[serde(skip)]
    pub oauth: Vec<OAuthState>,
    /// The instances heard from in the last hour, newest first.
    pub instances: Vec<super::InstanceStatus>,
    /// Who holds which mailbox and the scheduler, and since when.
    pub leases: Vec<super::Lease>,
}

/// One reading of the configuration by the daemon (`config_loads`).
#[derive(Debug, Clone, Serialize)]
pub struct ConfigLoad {
    pub at: DateTime<Utc>,
    pub path: String,
    /// Empty for a load that was put in force.
    pub problems: Vec<String>,
}

/// The stored state of an OAuth2 account (see `migrations/0003_oauth.sql`).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthState {
    pub account: String,
    /// The refresh token, sealed with the token key; never in clear.
    pub sealed_refresh: Option<Vec<u8>>,
    pub access_expires: Option<DateTime<Utc>>,
    pub refreshed_at: Option<DateTime<Utc>>,
    /// Why a person must sign in again, when one must.
    pub needs_reauth: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("account", &self.account)
            .field("refresh_token", &self.sealed_refresh.as_ref().map(|_| "(sealed)"))
            .field("access_expires", &self.access_expires)
            .field("needs_reauth", &self.needs_reauth)
            .finish()
    }
}
