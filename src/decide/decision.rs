//! The decision at receipt (docs/POLICY.md section 5): one pure function from an understood
//! report, the customers registry, the policy and the time of receipt to what happens now,
//! when the case is released, when the first response is due, and why.

use super::calendar::{Calendar, weekday_name};
use crate::config::policy::{AfterHoursClock, ChangeRequests, FeatureRequests, Policy};
use crate::config::{Customer, Customers};
use crate::terms::{Item, Language};
use crate::understand::Report;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// What happens to a report now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Machine mail: recorded, never answered.
    Ignore,
    /// Not from an authorized contact, or the customer is suspended: answered, no case.
    Reject,
    /// A reply to an existing case.
    Followup,
    /// An enhancement request where the contract excludes them.
    NotCovered,
    /// Required items are missing: the clock waits for them.
    AwaitInfo,
    /// Inside business hours: to the team now.
    Dispatch,
    /// Outside business hours but eligible for 24-hour handling: to on-call now.
    Escalate,
    /// Outside business hours: acknowledged now, to the team when support opens.
    Hold,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Ignore => "ignore",
            Action::Reject => "reject",
            Action::Followup => "followup",
            Action::NotCovered => "not_covered",
            Action::AwaitInfo => "await_info",
            Action::Dispatch => "dispatch",
            Action::Escalate => "escalate",
            Action::Hold => "hold",
        }
    }
}

/// Why a report was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    Unauthorized,
    Suspended,
}

/// Where the priority came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrioritySource {
    Declared,
    FeatureRequest,
    ChangeRequest,
    Keyword,
    Default,
}

/// Which calendar the response clock runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    Business,
    #[serde(rename = "24x7")]
    Always,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub action: Action,
    pub rejection: Option<Rejection>,
    pub customer_id: Option<String>,
    /// The customer ID was inferred from the sender, not read from the text.
    pub customer_inferred: bool,
    pub priority: String,
    pub priority_source: PrioritySource,
    /// Items (a)-(e) not supplied (an inferred customer ID counts as supplied).
    pub missing: Vec<Item>,
    /// The missing items this contract requires before the clock starts.
    pub missing_required: Vec<Item>,
    pub eligible_24h: bool,
    pub clock: ClockKind,
    pub clock_start: Option<DateTime<Tz>>,
    pub release_at: Option<DateTime<Tz>>,
    pub response_due: Option<DateTime<Tz>>,
    /// The language to answer in: the customer's preference, else the report's.
    pub reply_language: Language,
    /// A request to change settings on the customer's behalf (設定代行), when it is one.
    pub change_request: Option<ChangeRequest>,
    /// Held although eligible for 24-hour handling: the reporter's address is unproven
    /// (`start_clock`).
    pub awaiting_confirmation: bool,
    pub reasons: Vec<String>,
}

/// What the acknowledgment and the team need to know of a settings-change request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChangeRequest {
    /// It touches sensitive settings (single sign-on, password resets): a person decides
    /// whether the desk makes it, and may decline.
    pub sensitive: bool,
    /// The customer's tier has the service; when not, the case is still opened and the
    /// acknowledgment says the change is not made on their behalf under their contract.
    pub entitled: bool,
    /// The earliest completion of a small change, on the business calendar from the clock
    /// start; `None` until the clock starts.
    pub small_from: Option<DateTime<Utc>>,
    /// The target quoted for a large change, in business days (or hours).
    pub small: String,
    pub large: String,
}

/// The calendars of one policy, built once and reused for every decision.
#[derive(Debug, Clone)]
pub struct Calendars {
    pub business: Calendar,
    pub always: Calendar,
}

impl Calendars {
    pub fn new(policy: &Policy) -> Calendars {
        Calendars { business: Calendar::business(policy), always: Calendar::always(policy.time_zone) }
    }
}

/// Decides what happens to `report`, received at `received`.
pub fn decide(
    report: &Report,
    customers: &Customers,
    policy: &Policy,
    calendars: &Calendars,
    received: DateTime<Utc>,
) -> Decision {
    let tz = policy.time_zone;
    let mut reasons = Vec::new();
    let local = received.with_timezone(&tz);
    reasons.push(format!("received {} {}", weekday_name(local.weekday()), local.format("%Y-%m-%d %H:%M %Z")));

    // Who is writing, and for which customer.
    let sender = report.from.as_deref().unwrap_or("");
    let sender_customers = customers.of_sender(sender);
    let (customer, customer_id, inferred) = resolve_customer(report, customers, &sender_customers, &mut reasons);

    // Priority: declared, then feature requests, then change requests (where the contract has
    // them), then keywords, then the default. The word lists are looked up in the subject and
    // the customer's own words, folded once.
    let text = report_text(report);
    let change = policy.change_requests.as_ref().and_then(|c| change_request(report, &text, c, customer, &mut reasons));
    let (priority, priority_source) = priority(report, &text, policy, change.is_some(), &mut reasons);

    let mut missing = report.items_missing_from_text();
    if customer_id.is_some() {
        missing.retain(|i| *i != Item::CustomerId);
    }
    let missing_required: Vec<Item> = missing.iter().copied().filter(|i| policy.required_items.contains(i)).collect();
    let reply_language = customer.map_or(report.language, |c| c.language);
    let eligible = eligible(policy, &priority, customer, report.language);

    let mut decision = Decision {
        action: Action::Ignore,
        rejection: None,
        customer_id,
        customer_inferred: inferred,
        priority: priority.clone(),
        priority_source,
        missing: missing.clone(),
        missing_required: missing_required.clone(),
        eligible_24h: eligible,
        clock: ClockKind::Business,
        clock_start: None,
        release_at: None,
        response_due: None,
        reply_language,
        change_request: change,
        awaiting_confirmation: false,
        reasons: Vec::new(),
    };

    // The table of docs/POLICY.md section 5, top to bottom.
    if !report.signals.is_empty() {
        let names: Vec<String> = report.signals.iter().map(|s| format!("{s:?}")).collect();
        reasons.push(format!("written by a machine ({}): never acknowledged", names.join(", ")));
        decision.action = Action::Ignore;
        decision.reasons = reasons;
        return decision;
    }
    if policy.authorized_contacts_only && !authorized(sender, customer, &sender_customers, &mut reasons) {
        decision.action = Action::Reject;
        decision.rejection = Some(Rejection::Unauthorized);
        decision.reasons = reasons;
        return decision;
    }
    if let Some(c) = customer.filter(|c| c.suspended_on(local.date_naive(), policy.suspend_after_days)) {
        match c.overdue_days(local.date_naive()).filter(|d| *d > policy.suspend_after_days) {
            Some(days) => reasons.push(format!(
                "customer {} is suspended: payment overdue {days} days (more than {}): support resumes when it is settled",
                c.id, policy.suspend_after_days
            )),
            None => reasons.push(format!("customer {} is suspended: support resumes when payment is settled", c.id)),
        }
        decision.action = Action::Reject;
        decision.rejection = Some(Rejection::Suspended);
        decision.reasons = reasons;
        return decision;
    }
    if report.case_ref.is_some() || report.replies_to_us {
        match &report.case_ref {
            Some(case) => reasons.push(format!("follow-up to {case}: attached to that case")),
            None => reasons.push("a reply to one of our messages: a follow-up to the case it belongs to".into()),
        }
        decision.action = Action::Followup;
        decision.reasons = reasons;
        return decision;
    }
    if report.feature_request && policy.feature_requests == FeatureRequests::NotCovered {
        reasons.push("an enhancement request: outside the support contract".into());
        decision.action = Action::NotCovered;
        decision.reasons = reasons;
        return decision;
    }
    if !missing_required.is_empty() {
        let names: Vec<&str> = missing_required.iter().map(|i| i.as_str()).collect();
        reasons
            .push(format!("required items missing ({}): the response clock starts when they arrive", names.join(", ")));
        decision.action = Action::AwaitInfo;
        decision.reasons = reasons;
        return decision;
    }

    let timing = start_clock(policy, calendars, &priority, eligible, report.sender_proven, received);
    decision.action = timing.action;
    decision.awaiting_confirmation = timing.awaiting_confirmation;
    decision.clock = timing.clock;
    decision.clock_start = Some(received.with_timezone(&tz));
    decision.release_at = timing.release_at;
    decision.response_due = timing.response_due;
    reasons.extend(timing.reasons);
    if let (Some(change), Some(service)) = (decision.change_request.as_mut(), &policy.change_requests) {
        change.small_from = Some(calendars.business.add_target(received, service.small));
    }
    decision.reasons = reasons;
    decision
}

/// What happens once a report is complete and its clock starts at `clock_start`: dispatch in
/// business hours, escalate out of hours when eligible, hold otherwise; and the due time on
/// the clock the item runs on. Used at receipt, and again when a follow-up completes a report
/// that was waiting for items.
#[derive(Debug, Clone)]
pub struct Timing {
    pub action: Action,
    pub clock: ClockKind,
    pub release_at: Option<DateTime<Tz>>,
    pub response_due: Option<DateTime<Tz>>,
    /// Held only because the reporter's address is unproven; a reply from it escalates.
    pub awaiting_confirmation: bool,
    pub reasons: Vec<String>,
}

/// `sender_proven`: someone vouches for the address the report came from (mail, the signed
/// webhook). An unproven report that would page on-call is held instead, and escalated when
/// the reporter confirms by replying from that address (`awaiting_confirmation`): an address
/// typed into a web page must not be able to call a person out at night.
pub fn start_clock(
    policy: &Policy,
    calendars: &Calendars,
    priority: &str,
    eligible: bool,
    sender_proven: bool,
    clock_start: DateTime<Utc>,
) -> Timing {
    let tz = policy.time_zone;
    let mut reasons = Vec::new();
    let open = calendars.business.is_open(clock_start);
    let awaiting_confirmation = eligible && !open && !sender_proven;
    // Until it is confirmed, the item runs on the clock of a held one.
    let clock = clock_for(policy, eligible && !awaiting_confirmation);
    let mut release_at = None;
    let action = if open {
        reasons.push("inside business hours: dispatched to the team now".into());
        Action::Dispatch
    } else if awaiting_confirmation {
        let release = calendars.business.next_open(clock_start).with_timezone(&tz);
        reasons.push(format!(
            "outside business hours; {priority} is eligible for 24-hour handling, but nobody vouches for the address typed into the page: held until support opens {} {}, escalated to on-call at once if the reporter confirms by replying to the acknowledgment",
            weekday_name(release.weekday()),
            release.format("%Y-%m-%d %H:%M")
        ));
        release_at = Some(release);
        Action::Hold
    } else if eligible {
        reasons.push(format!(
            "outside business hours; {priority} is eligible for 24-hour handling: escalated to on-call now"
        ));
        Action::Escalate
    } else {
        let release = calendars.business.next_open(clock_start).with_timezone(&tz);
        reasons.push(format!(
            "outside business hours and not eligible for 24-hour handling: held until support opens {} {}",
            weekday_name(release.weekday()),
            release.format("%Y-%m-%d %H:%M")
        ));
        release_at = Some(release);
        Action::Hold
    };
    let (response_due, due_reason) = due_time(policy, calendars, priority, clock, clock_start);
    reasons.extend(due_reason);
    Timing { action, clock, release_at, response_due, awaiting_confirmation, reasons }
}

/// The clock an item runs on: 24x7 only when it is eligible for 24-hour handling and the
/// contract counts every hour for such items.
pub fn clock_for(policy: &Policy, eligible: bool) -> ClockKind {
    if eligible && policy.after_hours_clock == AfterHoursClock::Always {
        ClockKind::Always
    } else {
        ClockKind::Business
    }
}

/// The first-response due time of `priority` from `clock_start` on `clock`, with its reason.
pub fn due_time(
    policy: &Policy,
    calendars: &Calendars,
    priority: &str,
    clock: ClockKind,
    clock_start: DateTime<Utc>,
) -> (Option<DateTime<Tz>>, Option<String>) {
    let Some(target) = policy.target(priority) else {
        return (None, Some(format!("no target is configured for {priority}: no due time")));
    };
    let calendar = match clock {
        ClockKind::Always => &calendars.always,
        ClockKind::Business => &calendars.business,
    };
    let due = calendar.add_target(clock_start, target).with_timezone(&policy.time_zone);
    let (n, unit) = match target {
        crate::config::policy::Target::Hours(h) => (h, "hours"),
        crate::config::policy::Target::Days(d) => (d, "days"),
    };
    let kind = if clock == ClockKind::Always { "24x7" } else { "business" };
    let reason = format!(
        "first response due {} {}: {n} {kind} {unit} for {priority}",
        weekday_name(due.weekday()),
        due.format("%Y-%m-%d %H:%M")
    );
    (Some(due), Some(reason))
}

/// The customer a report is about: named in the text, or the one customer the sender is a
/// contact of.
fn resolve_customer<'c>(
    report: &Report,
    customers: &'c Customers,
    sender_customers: &[&'c Customer],
    reasons: &mut Vec<String>,
) -> (Option<&'c Customer>, Option<String>, bool) {
    if let Some(id) = &report.customer_id {
        return match customers.by_id(id) {
            Some(c) => {
                reasons.push(format!("customer {} ({}) named in the report", c.id, c.name));
                (Some(c), Some(c.id.clone()), false)
            }
            None => {
                reasons.push(format!("customer ID {id} is named in the report but is not in the customers registry"));
                (None, Some(id.clone()), false)
            }
        };
    }
    match sender_customers {
        [one] => {
            reasons.push(format!("customer {} inferred from the sender, one of its contacts", one.id));
            (Some(*one), Some(one.id.clone()), true)
        }
        [] => {
            reasons.push("the sender is not a contact of any customer, and the report names no customer ID".into());
            (None, None, false)
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|c| c.id.as_str()).collect();
            reasons.push(format!(
                "the sender is a contact of several customers ({}); the report must name which",
                ids.join(", ")
            ));
            (None, None, false)
        }
    }
}

/// Four-severity 4.1: only authorized contacts may report, for their own customer.
fn authorized(
    sender: &str,
    customer: Option<&Customer>,
    sender_customers: &[&Customer],
    reasons: &mut Vec<String>,
) -> bool {
    if sender_customers.is_empty() {
        reasons.push(format!("sender {sender:?} is not an authorized contact of any customer: rejected"));
        return false;
    }
    if let Some(c) = customer
        && !sender_customers.iter().any(|s| s.id == c.id)
    {
        reasons.push(format!("sender {sender} is not an authorized contact of {}: rejected", c.id));
        return false;
    }
    reasons.push(format!("sender {sender} is an authorized contact"));
    true
}

fn priority(
    report: &Report,
    text: &str,
    policy: &Policy,
    change_request: bool,
    reasons: &mut Vec<String>,
) -> (String, PrioritySource) {
    if let Some(word) = &report.declared_priority {
        if let Some(p) = policy.declared_priority(word) {
            reasons.push(format!("priority {p}: declared as {word:?}"));
            return (p.to_string(), PrioritySource::Declared);
        }
        reasons.push(format!("declared priority {word:?} means nothing in the {} profile; ignored", policy.name));
    }
    if report.feature_request
        && let FeatureRequests::AsPriority(p) = &policy.feature_requests
    {
        reasons.push(format!("priority {p}: an enhancement request"));
        return (p.clone(), PrioritySource::FeatureRequest);
    }
    if let Some(service) = policy.change_requests.as_ref().filter(|_| change_request) {
        reasons.push(format!("priority {}: a request to change settings", service.priority));
        return (service.priority.clone(), PrioritySource::ChangeRequest);
    }
    for rule in &policy.keywords {
        if let Some(word) = rule.words.iter().find(|w| text.contains(w.as_str())) {
            reasons.push(format!("priority {}: the report mentions {word:?}", rule.priority));
            return (rule.priority.clone(), PrioritySource::Keyword);
        }
    }
    reasons.push(format!("priority {}: the profile's default", policy.default_priority));
    (policy.default_priority.clone(), PrioritySource::Default)
}

/// Whether an item gets 24-hour handling: any eligibility rule matches.
pub fn eligible(policy: &Policy, priority: &str, customer: Option<&Customer>, language: Language) -> bool {
    policy.eligible.iter().any(|rule| {
        rule.priorities.as_ref().is_none_or(|ps| ps.iter().any(|p| p == priority))
            && rule.tiers.as_ref().is_none_or(|ts| customer.is_some_and(|c| ts.contains(&c.tier)))
            && rule.languages.as_ref().is_none_or(|ls| ls.contains(&language))
    })
}

/// The subject and the customer's own text, NFKC and lower case, as the word lists are.
fn report_text(report: &Report) -> String {
    format!("{}\n{}", crate::understand::text::normalize(&report.subject), report.own_text).to_lowercase()
}

/// Whether `text` mentions `word`. A word that begins or ends with an ASCII letter or digit
/// must stand alone on that side (`sso` is not in `lessons`); Japanese words match anywhere,
/// as Japanese is written without spaces.
pub fn mentions(text: &str, word: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let (word_starts, word_ends) = (edge(word.chars().next()), edge(word.chars().last()));
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !(word_starts && edge(before) || word_ends && edge(after))
    })
}

/// A request to change settings on the customer's behalf (設定代行), recognised by the
/// profile's words; whether it touches sensitive settings and whether the customer has the
/// service.
fn change_request(
    report: &Report,
    text: &str,
    service: &ChangeRequests,
    customer: Option<&Customer>,
    reasons: &mut Vec<String>,
) -> Option<ChangeRequest> {
    if report.feature_request {
        return None;
    }
    let word = service.words.iter().find(|w| mentions(text, w))?;
    reasons.push(format!("a request to change settings on the customer's behalf: the report mentions {word:?}"));
    let sensitive = service.sensitive.iter().find(|w| mentions(text, w));
    if let Some(w) = sensitive {
        reasons
            .push(format!("it touches sensitive settings ({w:?}): a person decides whether the desk makes the change"));
    }
    // An unknown customer is not refused here: the acknowledgment asks who they are, and the
    // team sees the tier once the customer ID arrives.
    let entitled = match (&service.tiers, customer) {
        (Some(tiers), Some(c)) => tiers.contains(&c.tier),
        _ => true,
    };
    if !entitled && let Some(c) = customer {
        reasons.push(format!(
                "the {} tier of {} does not include changes made on the customer's behalf: the case opens, the team replies",
                c.tier, c.id
            ));
    }
    let show = |t: crate::config::policy::Target| match t {
        crate::config::policy::Target::Hours(h) => format!("{h}h"),
        crate::config::policy::Target::Days(d) => format!("{d}d"),
    };
    Some(ChangeRequest {
        sensitive: sensitive.is_some(),
        entitled,
        small_from: None,
        small: show(service.small),
        large: show(service.large),
    })
}
