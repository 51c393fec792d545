//! What recording one report means, whatever the store: the rows to write and the messages to
//! enqueue for each action of docs/POLICY.md section 5, follow-ups that complete a waiting report,
//! the release of held cases, and reclassification. Everything here runs inside one store
//! transaction and reads no clock: `now` is passed in.

use super::model::*;
use super::{Result, Tx};
use crate::config::Config;
use crate::decide::decision::{self, Action, ClockKind, Decision, Timing};
use crate::decide::{Calendars, decide};
use crate::understand::{self, Channel, FormSubmission, Report};
use chrono::{DateTime, Datelike, Duration, Utc};
use sha2::{Digest, Sha256};

/// One inbound item, understood and decided, ready to record. Built outside the store lock.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub raw: Vec<u8>,
    pub sha256: String,
    pub channel: Channel,
    pub received_at: DateTime<Utc>,
    /// The report and its decision, or why the bytes could not be understood (quarantine).
    pub understood: std::result::Result<(Report, Decision), String>,
    /// What recognises a web submission sent again, decided by the HTTP layer: its
    /// idempotency key in the namespace of the route it came by, or the signature of a signed
    /// request (a replay). `None`: the Message-ID, else the bytes.
    pub submission_key: Option<String>,
    pub checkpoint: Option<Checkpoint>,
}

impl Prepared {
    /// The key that recognises this item when it arrives again.
    pub fn dedup_key(&self) -> String {
        if let Some(key) = &self.submission_key {
            return key.clone();
        }
        if let Ok((report, _)) = &self.understood
            && let (Some(from), Some(id)) = (&report.from, &report.message_id)
        {
            return format!("mid:{from} {id}");
        }
        format!("sha:{}", self.sha256)
    }
}

/// Understands and decides one raw item. `received_at` is when it reached us (IMAP
/// INTERNALDATE, the form request time); `None` takes the message's newest Received header,
/// else its Date, else `fallback_now`.
pub fn prepare(
    raw: Vec<u8>,
    channel: Channel,
    received_at: Option<DateTime<Utc>>,
    fallback_now: DateTime<Utc>,
    config: &Config,
    calendars: &Calendars,
) -> Prepared {
    let sha256 = hex(&Sha256::digest(&raw));
    let report = match channel {
        Channel::Mail => understand::understand_mail(&raw, config).map_err(|e| e.to_string()),
        Channel::Form => serde_json::from_slice::<FormSubmission>(&raw)
            .map(|f| understand::understand_form(&f, config))
            .map_err(|e| format!("not a form submission: {e}")),
    };
    let received = received_at
        .or_else(|| report.as_ref().ok().and_then(|r| r.received.or(r.date)).map(|t| t.with_timezone(&Utc)))
        .unwrap_or(fallback_now);
    let understood = report.map(|r| {
        let d = decide(&r, &config.customers, &config.policy, calendars, received);
        (r, d)
    });
    Prepared { raw, sha256, channel, received_at: received, understood, submission_key: None, checkpoint: None }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records one prepared item in `tx`.
pub fn record(
    tx: &mut dyn Tx,
    item: &Prepared,
    config: &Config,
    calendars: &Calendars,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let key = item.dedup_key();
    if let Some((message, case)) = tx.find_message(&key)? {
        return Ok(Outcome { message, case, action: "duplicate".into(), duplicate: true, enqueued: Vec::new() });
    }
    let outcome = match &item.understood {
        Err(error) => quarantine(tx, item, &key, error, config, now)?,
        Ok((report, decision)) => record_report(tx, item, &key, report, decision, config, calendars, now)?,
    };
    if let Some(checkpoint) = &item.checkpoint {
        tx.set_checkpoint(checkpoint, now)?;
    }
    Ok(outcome)
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Mail => "mail",
        Channel::Form => "form",
    }
}

fn quarantine(
    tx: &mut dyn Tx,
    item: &Prepared,
    key: &str,
    error: &str,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let year = item.received_at.with_timezone(&config.policy.time_zone).year();
    let number = tx.allocate_case_number(&config.cases.prefix, year, config.cases.width)?;
    let mut case = empty_case(&number, CaseState::Quarantined, config, now);
    case.reasons =
        vec![format!("could not be understood: {error}"), "kept raw for an operator; nothing was sent".into()];
    let case_id = tx.insert_case(&case)?;
    let message = tx.insert_message(&NewMessage {
        case_id: Some(case_id),
        channel: channel_name(item.channel),
        sender: None,
        message_id: None,
        dedup_key: key,
        received_at: item.received_at,
        recorded_at: now,
        action: "quarantine",
        subject: "",
        sha256: &item.sha256,
        raw: &item.raw,
        error: Some(error),
    })?;
    tx.add_event(case_id, now, "uketsuke", "quarantined", error)?;
    Ok(Outcome { message, case: Some(number), action: "quarantine".into(), duplicate: false, enqueued: Vec::new() })
}

fn empty_case(number: &str, state: CaseState, config: &Config, now: DateTime<Utc>) -> CaseRecord {
    CaseRecord {
        id: 0,
        number: number.to_string(),
        state,
        customer_id: None,
        reporter: None,
        language: crate::terms::Language::Ja,
        reply_language: crate::terms::Language::Ja,
        priority: config.policy.default_priority.clone(),
        subject: String::new(),
        repro_steps: None,
        error_messages: Vec::new(),
        description: None,
        expected_result: None,
        circumstances: None,
        missing: Vec::new(),
        clock: "business".into(),
        clock_start: None,
        release_at: None,
        response_due: None,
        reasons: Vec::new(),
        created_at: now,
        updated_at: now,
        change_request: None,
        awaiting_confirmation: false,
    }
}

#[allow(clippy::too_many_arguments)]
fn record_report(
    tx: &mut dyn Tx,
    item: &Prepared,
    key: &str,
    report: &Report,
    decision: &Decision,
    config: &Config,
    calendars: &Calendars,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let message = |case_id: Option<i64>, action: &'static str| NewMessage {
        case_id,
        channel: channel_name(item.channel),
        sender: report.from.as_deref(),
        message_id: report.message_id.as_deref(),
        dedup_key: key,
        received_at: item.received_at,
        recorded_at: now,
        action,
        subject: &report.subject,
        sha256: &item.sha256,
        raw: &item.raw,
        error: None,
    };
    match decision.action {
        Action::Ignore => {
            let id = tx.insert_message(&message(None, "ignore"))?;
            Ok(Outcome { message: id, case: None, action: "ignore".into(), duplicate: false, enqueued: Vec::new() })
        }
        Action::Reject => {
            let id = tx.insert_message(&message(None, "reject"))?;
            let kind = match decision.rejection {
                Some(decision::Rejection::Suspended) => OutboxKind::RejectSuspended,
                _ => OutboxKind::RejectUnauthorized,
            };
            let mut enqueued = Vec::new();
            reply(tx, config, None, None, id, kind, report, decision, now, &mut enqueued)?;
            Ok(Outcome { message: id, case: None, action: "reject".into(), duplicate: false, enqueued })
        }
        Action::Followup => {
            let mut ids: Vec<String> = report.in_reply_to.clone();
            ids.extend(report.references.iter().cloned());
            let number = match &report.case_ref {
                Some(n) => Some(n.clone()),
                None => tx.case_of_our_message(&ids)?,
            };
            let case = match number {
                Some(n) => tx.load_case(&n)?,
                None => None,
            };
            match case {
                Some(case) => {
                    followup(tx, item, report, decision, case, message(None, "followup"), config, calendars, now)
                }
                None => {
                    // The case it names is not ours (or not recorded): a new report.
                    let mut fresh = report.clone();
                    fresh.case_ref = None;
                    fresh.replies_to_us = false;
                    let mut d = decide(&fresh, &config.customers, &config.policy, calendars, item.received_at);
                    let why = match &report.case_ref {
                        Some(n) => format!("refers to case {n}, which is not on record: opened as a new case"),
                        None => "replies to a message of ours that is not on record: opened as a new case".to_string(),
                    };
                    d.reasons.insert(0, why);
                    open_case(tx, item, &fresh, &d, message(None, d.action.as_str()), config, now)
                }
            }
        }
        _ => open_case(tx, item, report, decision, message(None, decision.action.as_str()), config, now),
    }
}

fn state_of(action: Action) -> CaseState {
    match action {
        Action::AwaitInfo => CaseState::AwaitInfo,
        Action::NotCovered => CaseState::NotCovered,
        Action::Escalate => CaseState::Escalated,
        Action::Hold => CaseState::Held,
        _ => CaseState::Dispatched,
    }
}

fn clock_name(c: ClockKind) -> &'static str {
    match c {
        ClockKind::Business => "business",
        ClockKind::Always => "24x7",
    }
}

fn open_case(
    tx: &mut dyn Tx,
    item: &Prepared,
    report: &Report,
    decision: &Decision,
    message: NewMessage<'_>,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let year = item.received_at.with_timezone(&config.policy.time_zone).year();
    let number = tx.allocate_case_number(&config.cases.prefix, year, config.cases.width)?;
    let f = &report.fields;
    let case = CaseRecord {
        id: 0,
        number: number.clone(),
        state: state_of(decision.action),
        customer_id: decision.customer_id.clone(),
        reporter: report.from.clone(),
        language: report.language,
        reply_language: decision.reply_language,
        priority: decision.priority.clone(),
        subject: report.subject.clone(),
        repro_steps: f.repro_steps.clone(),
        error_messages: f.error_messages.clone(),
        description: f.description.clone(),
        expected_result: f.expected_result.clone(),
        circumstances: f.circumstances.clone(),
        missing: decision.missing.iter().map(|i| i.as_str().to_string()).collect(),
        clock: clock_name(decision.clock).into(),
        clock_start: decision.clock_start.map(|t| t.with_timezone(&Utc)),
        release_at: decision.release_at.map(|t| t.with_timezone(&Utc)),
        response_due: decision.response_due.map(|t| t.with_timezone(&Utc)),
        reasons: decision.reasons.clone(),
        change_request: decision.change_request.clone(),
        awaiting_confirmation: decision.awaiting_confirmation,
        created_at: now,
        updated_at: now,
    };
    let case_id = tx.insert_case(&case)?;
    let message_id = tx.insert_message(&NewMessage { case_id: Some(case_id), ..message })?;
    tx.add_event(
        case_id,
        now,
        "uketsuke",
        "opened",
        &format!("{}: {}", decision.action.as_str(), decision.reasons.join("; ")),
    )?;
    let mut enqueued = Vec::new();
    reply(tx, config, Some(case_id), Some(&number), message_id, OutboxKind::Ack, report, decision, now, &mut enqueued)?;
    route(tx, config, case_id, &number, message_id, decision.action, decision.reply_language, now, &mut enqueued)?;
    Ok(Outcome {
        message: message_id,
        case: Some(number),
        action: decision.action.as_str().into(),
        duplicate: false,
        enqueued,
    })
}

/// Hands a case to the team (dispatch) or to on-call (escalate). Held cases are handed over
/// by [`release_due`] when support opens.
#[allow(clippy::too_many_arguments)]
fn route(
    tx: &mut dyn Tx,
    config: &Config,
    case_id: i64,
    number: &str,
    message_id: i64,
    action: Action,
    language: crate::terms::Language,
    now: DateTime<Utc>,
    enqueued: &mut Vec<OutboxKind>,
) -> Result<()> {
    let (kind, recipient) = match action {
        Action::Dispatch => (OutboxKind::Handover, &config.mail.team_address),
        Action::Escalate => (OutboxKind::Oncall, &config.mail.oncall_address),
        _ => return Ok(()),
    };
    tx.enqueue(&NewOutbox {
        case_id: Some(case_id),
        message_id,
        kind,
        recipient: recipient.clone(),
        language,
        our_message_id: our_message_id(Some(number), message_id, kind, config),
        not_before: now,
        created_at: now,
    })?;
    enqueued.push(kind);
    Ok(())
}

/// Enqueues a reply to the reporter, unless the per-sender rate is exceeded.
#[allow(clippy::too_many_arguments)]
fn reply(
    tx: &mut dyn Tx,
    config: &Config,
    case_id: Option<i64>,
    number: Option<&str>,
    message_id: i64,
    kind: OutboxKind,
    report: &Report,
    decision: &Decision,
    now: DateTime<Utc>,
    enqueued: &mut Vec<OutboxKind>,
) -> Result<()> {
    let Some(recipient) = report.from.as_deref().filter(|r| r.contains('@')) else {
        if let Some(case_id) = case_id {
            tx.add_event(case_id, now, "uketsuke", "no_reply", "the report has no sender address to acknowledge")?;
        }
        return Ok(());
    };
    let limit = config.mail.ack_rate_per_hour;
    if tx.acks_since(recipient, now - Duration::hours(1))? >= limit {
        if let Some(case_id) = case_id {
            let detail = format!(
                "{recipient} already had {limit} replies in the last hour: no acknowledgment sent (mail-loop guard)"
            );
            tx.add_event(case_id, now, "uketsuke", "rate_limited", &detail)?;
        }
        return Ok(());
    }
    tx.enqueue(&NewOutbox {
        case_id,
        message_id,
        kind,
        recipient: recipient.to_string(),
        language: decision.reply_language,
        our_message_id: our_message_id(number, message_id, kind, config),
        not_before: now,
        created_at: now,
    })?;
    enqueued.push(kind);
    Ok(())
}

/// `<CASE-2026-000123.m42.ack@uketsuke.example.jp>`: unique per (message, kind), stable
/// across retries, and carrying the case number so a reply that lost its subject tag still
/// finds its case.
fn our_message_id(number: Option<&str>, message_id: i64, kind: OutboxKind, config: &Config) -> String {
    format!(
        "<{}.m{message_id}.{}@{}>",
        number.unwrap_or("nocase"),
        kind.as_str().replace('_', "-"),
        config.mail.message_id_domain
    )
}

#[allow(clippy::too_many_arguments)]
fn followup(
    tx: &mut dyn Tx,
    item: &Prepared,
    report: &Report,
    decision: &Decision,
    mut case: CaseRecord,
    message: NewMessage<'_>,
    config: &Config,
    calendars: &Calendars,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let message_id = tx.insert_message(&NewMessage { case_id: Some(case.id), ..message })?;
    // Fill what the case lacks; never overwrite what the customer already said.
    let f = &report.fields;
    fill(&mut case.repro_steps, &f.repro_steps);
    fill(&mut case.description, &f.description);
    fill(&mut case.expected_result, &f.expected_result);
    fill(&mut case.circumstances, &f.circumstances);
    if case.error_messages.is_empty() {
        case.error_messages = f.error_messages.clone();
    }
    if case.customer_id.is_none() {
        case.customer_id = decision.customer_id.clone();
    }
    case.missing = missing_items(&case);
    case.updated_at = now;
    let mut enqueued = Vec::new();
    let required_missing = config.policy.required_items.iter().any(|i| case.missing.iter().any(|m| m == i.as_str()));
    let completes = case.state == CaseState::AwaitInfo && !required_missing;
    if completes {
        // The last required item has arrived: the clock starts at this follow-up (docs/POLICY.md 3).
        let customer = case.customer_id.as_deref().and_then(|id| config.customers.by_id(id));
        let eligible = decision::eligible(&config.policy, &case.priority, customer, case.language);
        let timing: Timing = decision::start_clock(
            &config.policy,
            calendars,
            &case.priority,
            eligible,
            report.sender_proven,
            item.received_at,
        );
        case.state = state_of(timing.action);
        case.clock = clock_name(timing.clock).into();
        case.clock_start = Some(item.received_at);
        case.release_at = timing.release_at.map(|t| t.with_timezone(&Utc));
        case.response_due = timing.response_due.map(|t| t.with_timezone(&Utc));
        case.awaiting_confirmation = timing.awaiting_confirmation;
        case.reasons.push("the last required item arrived: the response clock starts now".into());
        case.reasons.extend(timing.reasons.iter().cloned());
        tx.update_case(&case)?;
        tx.add_event(
            case.id,
            now,
            "uketsuke",
            "completed",
            &format!("{}: {}", timing.action.as_str(), timing.reasons.join("; ")),
        )?;
        reply(
            tx,
            config,
            Some(case.id),
            Some(&case.number),
            message_id,
            OutboxKind::Ack,
            report,
            decision,
            now,
            &mut enqueued,
        )?;
        route(
            tx,
            config,
            case.id,
            &case.number.clone(),
            message_id,
            timing.action,
            case.reply_language,
            now,
            &mut enqueued,
        )?;
        return Ok(Outcome {
            message: message_id,
            case: Some(case.number),
            action: format!("followup:{}", timing.action.as_str()),
            duplicate: false,
            enqueued,
        });
    }
    // A report held only because nobody vouched for the address typed into the page: a reply by
    // mail from that very address proves it, and if support is still closed the case goes to
    // on-call now, on the clock it would have had from the start.
    let confirmed =
        case.awaiting_confirmation && report.sender_proven && report.from.is_some() && report.from == case.reporter;
    let escalate_now = confirmed && case.state == CaseState::Held && !calendars.business.is_open(item.received_at);
    if confirmed {
        case.awaiting_confirmation = false;
    }
    if escalate_now {
        let clock = decision::clock_for(&config.policy, true);
        let start = case.clock_start.unwrap_or(item.received_at);
        let (due, why) = decision::due_time(&config.policy, calendars, &case.priority, clock, start);
        case.state = CaseState::Escalated;
        case.release_at = None;
        case.clock = clock_name(clock).into();
        case.response_due = due.map(|t| t.with_timezone(&Utc));
        case.reasons.push("the reporter confirmed by replying from the address given: escalated to on-call now".into());
        case.reasons.extend(why);
        tx.add_event(case.id, now, "uketsuke", "confirmed", "the reporter replied from the address given: escalated")?;
    }
    tx.update_case(&case)?;
    if escalate_now {
        let number = case.number.clone();
        route(tx, config, case.id, &number, message_id, Action::Escalate, case.reply_language, now, &mut enqueued)?;
    }
    let still = if case.missing.is_empty() {
        "nothing missing".to_string()
    } else {
        format!("still missing: {}", case.missing.join(", "))
    };
    tx.add_event(case.id, now, "uketsuke", "followup", &still)?;
    reply(
        tx,
        config,
        Some(case.id),
        Some(&case.number),
        message_id,
        OutboxKind::FollowupAck,
        report,
        decision,
        now,
        &mut enqueued,
    )?;
    let action = if escalate_now { "followup:escalate" } else { "followup" };
    Ok(Outcome { message: message_id, case: Some(case.number), action: action.into(), duplicate: false, enqueued })
}

fn fill(slot: &mut Option<String>, value: &Option<String>) {
    if slot.as_deref().is_none_or(str::is_empty) {
        slot.clone_from(value);
    }
}

fn missing_items(case: &CaseRecord) -> Vec<String> {
    let mut missing = Vec::new();
    let absent = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
    if case.customer_id.is_none() {
        missing.push("customer_id");
    }
    if absent(&case.repro_steps) {
        missing.push("repro_steps");
    }
    if case.error_messages.is_empty() {
        missing.push("error_messages");
    }
    if absent(&case.description) {
        missing.push("description");
    }
    if absent(&case.circumstances) {
        missing.push("circumstances");
    }
    missing.into_iter().map(String::from).collect()
}

/// Hands every held case whose release time has come to the team. Run by the scheduler on
/// every tick and at start-up (catching up on whatever came due while uketsuke was down).
pub fn release_due(tx: &mut dyn Tx, config: &Config, now: DateTime<Utc>) -> Result<Vec<String>> {
    let due = tx.held_until(now)?;
    let mut released = Vec::new();
    for case in due {
        released.push(release_case(tx, config, case, now, "scheduler", "support opened")?);
    }
    Ok(released)
}

/// Hands one held case to the team now (`uketsuke cases release`).
pub fn release(tx: &mut dyn Tx, config: &Config, number: &str, now: DateTime<Utc>, actor: &str) -> Result<String> {
    let case = tx.load_case(number)?.ok_or_else(|| {
        super::StoreError::new(format!("no case {number}; `uketsuke cases list` shows the cases on record"))
    })?;
    if case.state != CaseState::Held {
        return Err(super::StoreError::new(format!(
            "case {number} is {}, not held: only held cases can be released",
            case.state.as_str()
        )));
    }
    release_case(tx, config, case, now, actor, "released by hand")
}

fn release_case(
    tx: &mut dyn Tx,
    config: &Config,
    mut case: CaseRecord,
    now: DateTime<Utc>,
    actor: &str,
    why: &str,
) -> Result<String> {
    let first = tx
        .first_message_of(case.id)?
        .ok_or_else(|| super::StoreError::new(format!("case {} has no message on record", case.number)))?;
    case.state = CaseState::Dispatched;
    case.updated_at = now;
    case.reasons.push(format!("{why}: handed over to the team"));
    tx.update_case(&case)?;
    tx.add_event(case.id, now, actor, "released", why)?;
    let mut enqueued = Vec::new();
    route(tx, config, case.id, &case.number, first, Action::Dispatch, case.reply_language, now, &mut enqueued)?;
    Ok(case.number)
}

/// Changes a case's priority and recomputes its due time from the same clock start
/// (docs/POLICY.md section 4), recording who and why.
pub fn reclassify(
    tx: &mut dyn Tx,
    config: &Config,
    calendars: &Calendars,
    number: &str,
    priority: &str,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CaseRecord> {
    let policy = &config.policy;
    if !policy.priorities.iter().any(|p| p == priority) {
        return Err(super::StoreError::new(format!(
            "`{priority}` is not a priority of the {} profile; use one of: {}",
            policy.name,
            policy.priorities.join(", ")
        )));
    }
    let mut case = tx.load_case(number)?.ok_or_else(|| {
        super::StoreError::new(format!("no case {number}; `uketsuke cases list` shows the cases on record"))
    })?;
    let old = (case.priority.clone(), case.response_due);
    case.priority = priority.to_string();
    if let Some(start) = case.clock_start {
        let customer = case.customer_id.as_deref().and_then(|id| config.customers.by_id(id));
        let eligible = decision::eligible(policy, priority, customer, case.language);
        let clock = decision::clock_for(policy, eligible);
        let (due, why) = decision::due_time(policy, calendars, priority, clock, start);
        case.clock = clock_name(clock).into();
        case.response_due = due.map(|t| t.with_timezone(&Utc));
        case.reasons.extend(why);
    }
    case.updated_at = now;
    let fmt = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.with_timezone(&policy.time_zone).to_rfc3339()).unwrap_or_else(|| "none".into())
    };
    let detail = format!("{} -> {priority} (due {} -> {}): {reason}", old.0, fmt(old.1), fmt(case.response_due));
    case.reasons.push(format!("reclassified by {actor}: {detail}"));
    tx.update_case(&case)?;
    tx.add_event(case.id, now, actor, "reclassified", &detail)?;
    Ok(case)
}

/// Puts the raw message of a quarantined case through understanding again (after a fix or a
/// configuration change). When it is understood now, it is recorded as a new item, in the
/// same transaction the quarantined case is marked `reprocessed`; when it still is not,
/// nothing changes. Returns the outcome of the new item.
pub fn reprocess(
    tx: &mut dyn Tx,
    config: &Config,
    calendars: &Calendars,
    number: &str,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Option<Outcome>> {
    let mut case = tx.load_case(number)?.ok_or_else(|| {
        super::StoreError::new(format!(
            "no case {number}; `uketsuke cases list --state quarantined` shows the quarantined ones"
        ))
    })?;
    if case.state != CaseState::Quarantined {
        return Err(super::StoreError::new(format!("case {number} is {}, not quarantined", case.state.as_str())));
    }
    let (raw, channel, received) = tx
        .raw_of_case(case.id)?
        .ok_or_else(|| super::StoreError::new(format!("case {number} has no message on record")))?;
    let mut item = prepare(raw, channel, Some(received), now, config, calendars);
    if let Err(e) = &item.understood {
        tx.add_event(case.id, now, actor, "reprocess_failed", e)?;
        return Ok(None);
    }
    // A new deduplication key (the message is now understood), but never the quarantine's.
    item.submission_key = None;
    let outcome = record(tx, &item, config, calendars, now)?;
    case.state = CaseState::Reprocessed;
    case.updated_at = now;
    case.reasons.push(format!("reprocessed by {actor}: now {}", outcome.case.as_deref().unwrap_or(&outcome.action)));
    tx.update_case(&case)?;
    tx.add_event(
        case.id,
        now,
        actor,
        "reprocessed",
        &format!(
            "recorded again as message {} ({})",
            outcome.message,
            outcome.case.as_deref().unwrap_or(&outcome.action)
        ),
    )?;
    Ok(Some(outcome))
}
