//! Submissions: reading a report from JSON, URL-encoded or multipart bodies, checking every
//! field, and recording it through the same pipeline, store transaction and acknowledgment as
//! a mail report.

use super::Web;
use super::problem::{FieldError, Problem};
use crate::record::{self, CaseRecord, Outcome, Store};
use crate::understand::{Channel, FormAttachment, FormSubmission};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use std::net::IpAddr;

/// The fields a submission may carry besides the report's own.
pub const CONTROL_FIELDS: [&str; 4] = ["idempotency_key", "token", "website", "lang"];
const TEXT_FIELDS: [&str; 11] = [
    "customer_id",
    "email",
    "name",
    "language",
    "priority",
    "subject",
    "description",
    "repro_steps",
    "error_messages",
    "expected_result",
    "circumstances",
];

/// The route a submission came by, which decides what it can prove and what it may claim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Via {
    /// The intake page: nobody vouches for the address typed into it.
    #[default]
    Page,
    /// The signed webhook: a partner site that holds a signing secret vouches for it. The
    /// signature is kept, so a replay of the same request is the same submission.
    Webhook { signature: String },
}

/// A parsed submission, before checking.
#[derive(Debug, Default)]
pub struct Parsed {
    pub form: FormSubmission,
    pub via: Via,
    pub idempotency_key: Option<String>,
    /// Page-only fields: the same-origin token, the honeypot, the language switch.
    pub token: Option<String>,
    pub honeypot: Option<String>,
    pub lang: Option<String>,
}

fn set(parsed: &mut Parsed, key: &str, value: String, unknown: &mut Vec<FieldError>) {
    let f = &mut parsed.form;
    let slot = match key {
        "customer_id" => &mut f.customer_id,
        "email" => &mut f.email,
        "name" => &mut f.name,
        "language" => &mut f.language,
        "priority" => &mut f.priority,
        "subject" => &mut f.subject,
        "description" => &mut f.description,
        "repro_steps" => &mut f.repro_steps,
        "error_messages" => &mut f.error_messages,
        "expected_result" => &mut f.expected_result,
        "circumstances" => &mut f.circumstances,
        "idempotency_key" => {
            parsed.idempotency_key = Some(value).filter(|v| !v.is_empty());
            return;
        }
        "token" => {
            parsed.token = Some(value);
            return;
        }
        "website" => {
            parsed.honeypot = Some(value);
            return;
        }
        "lang" => {
            parsed.lang = Some(value);
            return;
        }
        other => {
            unknown.push(FieldError {
                field: other.to_string(),
                message: format!("unknown field; the fields are: {}", TEXT_FIELDS.join(", ")),
            });
            return;
        }
    };
    *slot = value;
}

/// Reads a body by its content type.
pub async fn parse(headers: &HeaderMap, body: &[u8], web: &Web) -> Result<Parsed, Problem> {
    // The boundary is case-sensitive: keep the header as sent, compare the type in lower case.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut parsed = Parsed::default();
    let mut errors = Vec::new();
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => {
            let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-body",
                    "The body is not valid JSON",
                    format!("{e}; send one JSON object with the report's fields"),
                )
            })?;
            let object = value.as_object().ok_or_else(|| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-body",
                    "The body is not a JSON object",
                    "Send one JSON object with the report's fields.",
                )
            })?;
            for (key, v) in object {
                if key == "attachments" {
                    match serde_json::from_value::<Vec<FormAttachment>>(v.clone()) {
                        Ok(list) => parsed.form.attachments = list,
                        Err(e) => errors.push(FieldError {
                            field: "attachments".into(),
                            message: format!("must be a list of {{filename, content_type, content (base64)}}: {e}"),
                        }),
                    }
                    continue;
                }
                match v {
                    serde_json::Value::String(s) => set(&mut parsed, key, s.clone(), &mut errors),
                    serde_json::Value::Null => {}
                    serde_json::Value::Number(n) if key == "priority" => {
                        set(&mut parsed, key, n.to_string(), &mut errors)
                    }
                    _ => errors.push(FieldError { field: key.clone(), message: "must be a string".into() }),
                }
            }
        }
        "application/x-www-form-urlencoded" => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-body",
                    "The body is not URL-encoded form data",
                    e.to_string(),
                )
            })?;
            for (k, v) in pairs {
                set(&mut parsed, &k, v, &mut errors);
            }
        }
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(content_type).map_err(|e| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-body",
                    "The multipart body has no boundary",
                    e.to_string(),
                )
            })?;
            let bytes = axum::body::Bytes::copy_from_slice(body);
            let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
            let mut multipart = multer::Multipart::new(stream, boundary);
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => {
                        return Err(Problem::new(
                            StatusCode::BAD_REQUEST,
                            "malformed-body",
                            "The multipart body is broken",
                            e.to_string(),
                        ));
                    }
                };
                let name = field.name().unwrap_or("").to_string();
                let filename = field.file_name().map(str::to_string);
                let content_type =
                    field.content_type().map(|m| m.to_string()).unwrap_or_else(|| "application/octet-stream".into());
                let data = field.bytes().await.map_err(|e| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "malformed-body",
                        "The multipart body is broken",
                        e.to_string(),
                    )
                })?;
                match filename {
                    Some(filename) if !filename.is_empty() => parsed.form.attachments.push(FormAttachment {
                        filename: sanitize_filename(&filename),
                        content_type,
                        content: base64::engine::general_purpose::STANDARD.encode(&data),
                    }),
                    // An empty file input of the page.
                    Some(_) if data.is_empty() => {}
                    _ => set(&mut parsed, &name, String::from_utf8_lossy(&data).into_owned(), &mut errors),
                }
            }
        }
        _ => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body's content type is not accepted",
                format!(
                    "`{essence}` is not accepted: send application/json, application/x-www-form-urlencoded or multipart/form-data"
                ),
            ));
        }
    }
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        parsed.idempotency_key = Some(key.trim().to_string()).filter(|k| !k.is_empty());
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    check_attachments(&parsed.form, web)?;
    Ok(parsed)
}

fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn check_attachments(form: &FormSubmission, web: &Web) -> Result<(), Problem> {
    let limits = &web.settings;
    if form.attachments.len() > limits.max_attachments {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-attachments",
            "Too many attachments",
            format!("At most {} files may be attached; {} were sent.", limits.max_attachments, form.attachments.len()),
        ));
    }
    for a in &form.attachments {
        let size =
            base64::engine::general_purpose::STANDARD.decode(a.content.as_bytes()).map(|d| d.len()).map_err(|_| {
                Problem::invalid(vec![FieldError {
                    field: "attachments".into(),
                    message: format!("the content of {:?} is not base64", a.filename),
                }])
            })?;
        if size > limits.max_attachment_bytes {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment-too-large",
                "An attachment is too large",
                format!("{:?} is {size} bytes; at most {} bytes per file.", a.filename, limits.max_attachment_bytes),
            ));
        }
    }
    Ok(())
}

/// Checks every field; names each one that is wrong, in the words of the person who sent it.
pub fn validate(form: &FormSubmission, web: &Web) -> Vec<FieldError> {
    let rules = web.daemon.rules();
    let config = &rules.config;
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    match crate::understand::address::normalize(&form.email) {
        Ok(_) => {}
        Err(crate::understand::address::AddressError::Empty) => {
            err("email", "required: the address the acknowledgment is sent to".into())
        }
        Err(why) => err(
            "email",
            format!(
                "`{}` is not one e-mail address: {why}; write only the address, like yamada@example.jp",
                form.email.trim().chars().take(100).collect::<String>()
            ),
        ),
    }
    if form.description.trim().is_empty() {
        err("description", "required: what happens, and what you expected".into());
    }
    if !form.customer_id.trim().is_empty() {
        let id = crate::understand::text::normalize(form.customer_id.trim()).to_uppercase();
        if config.understanding.customer_id_pattern.find(&id).is_none_or(|m| m.as_str() != id) {
            err("customer_id", format!("`{}` is not a customer ID (like ACME-0012)", form.customer_id.trim()));
        }
    }
    if !form.priority.trim().is_empty() && config.policy.declared_priority(&form.priority).is_none() {
        err(
            "priority",
            format!(
                "`{}` is not a priority here; use one of: {}",
                form.priority.trim(),
                config.policy.priorities.join(", ")
            ),
        );
    }
    if !form.language.trim().is_empty() && crate::terms::Language::parse(&form.language).is_none() {
        err("language", "use \"ja\" or \"en\"".into());
    }
    let lengths: [(&str, &str, usize); 9] = [
        ("subject", &form.subject, 300),
        ("name", &form.name, 200),
        ("customer_id", &form.customer_id, 64),
        ("description", &form.description, 20_000),
        ("repro_steps", &form.repro_steps, 20_000),
        ("error_messages", &form.error_messages, 50_000),
        ("expected_result", &form.expected_result, 20_000),
        ("circumstances", &form.circumstances, 20_000),
        ("priority", &form.priority, 40),
    ];
    for (field, value, max) in lengths {
        if value.chars().count() > max {
            err(field, format!("at most {max} characters"));
        }
    }
    errors
}

/// The key that recognises this submission if it is sent again. Each route has its own
/// namespace, so a page user cannot claim (or look up) a key a partner's webhook uses; a signed
/// request without a key is known by its signature, so a replay inside the window is the same
/// submission, not a new case.
fn submission_key(parsed: &Parsed) -> Option<String> {
    match (&parsed.via, &parsed.idempotency_key) {
        (Via::Webhook { .. }, Some(key)) => Some(format!("idem:{key}")),
        (Via::Webhook { signature }, None) => Some(format!("sig:{signature}")),
        (Via::Page, Some(key)) => Some(format!("page-idem:{key}")),
        (Via::Page, None) => None,
    }
}

/// What a recorded submission became.
pub struct Submitted {
    pub outcome: Outcome,
    pub case: Option<CaseRecord>,
}

/// Records a checked submission: idempotent on its key, rate-limited per address and customer.
pub async fn submit(web: &Web, mut parsed: Parsed, client: IpAddr) -> Result<Submitted, Problem> {
    parsed.form.signed = matches!(parsed.via, Via::Webhook { .. });
    let errors = validate(&parsed.form, web);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    if let Some(key) = &parsed.idempotency_key
        && (key.chars().count() > 200 || key.chars().any(char::is_control))
    {
        return Err(Problem::invalid(vec![FieldError {
            field: "idempotency_key".into(),
            message: "at most 200 printable characters".into(),
        }]));
    }
    let daemon = &web.daemon;
    let rules = daemon.rules();
    let config = &rules.config;
    // A retry of a submission already recorded returns the same case, and costs no rate.
    let submission_key = submission_key(&parsed);
    if let Some(key) = &submission_key
        && let Some(done) = web.existing(key, &parsed.form)?
    {
        return Ok(done);
    }
    let email = crate::understand::address::normalize(&parsed.form.email).unwrap_or_default();
    let customer = if parsed.form.customer_id.trim().is_empty() {
        match config.customers.of_sender(&email).as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        }
    } else {
        Some(crate::understand::text::normalize(parsed.form.customer_id.trim()).to_uppercase())
    };
    let mut keys = vec![(format!("address:{client}"), web.settings.rate_per_address)];
    // Only a submission someone vouches for (a partner's signed request) counts against its
    // customer's hourly share: anyone can type a customer ID into the page, and must not be
    // able to use up the share the customer's real contacts report under.
    if let (Some(c), Via::Webhook { .. }) = (&customer, &parsed.via) {
        keys.push((format!("customer:{c}"), web.settings.rate_per_customer));
    }
    if let Err(wait) = web.limits.admit(&keys, std::time::Instant::now()) {
        let mut p = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many reports in a short time",
            format!("Try again in {wait} seconds. For an emergency, call the support line."),
        );
        p.retry_after = Some(wait);
        return Err(p);
    }
    let now = daemon.clock.now();
    parsed.form.submitted_at = now.to_rfc3339();
    let raw = serde_json::to_vec(&parsed.form).map_err(|e| Problem::internal(e.to_string()))?;
    let mut item = record::prepare(raw, Channel::Form, Some(now), now, config, &rules.calendars);
    item.submission_key = submission_key.clone();
    let result = {
        let mut store = web.store.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| store.write(|tx| record::record(tx, &item, config, &rules.calendars, now)))
    };
    let outcome = result.map_err(|e| Problem::internal(format!("{e}; nothing was recorded, please try again")))?;
    // Recorded by a concurrent request with the same key a moment ago: the same answer as a
    // retry, including the refusal of a different body under that key.
    if outcome.duplicate
        && let Some(key) = &submission_key
        && let Some(done) = web.existing(key, &parsed.form)?
    {
        return Ok(done);
    }
    if !outcome.duplicate {
        daemon.metrics.count_report("form", &outcome.action);
    }
    daemon.outbox_wake.notify_one();
    let case = web.case(outcome.case.as_deref())?;
    tracing::info!(channel = "form", case = outcome.case.as_deref().unwrap_or("-"), action = %outcome.action, duplicate = outcome.duplicate, "recorded");
    Ok(Submitted { outcome, case })
}
