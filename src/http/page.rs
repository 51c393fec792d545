//! The intake page: a bilingual (Japanese / English) form asking for exactly the items of
//! docs/POLICY.md section 3, with the priority definitions of the contract beside the choice,
//! server-rendered from `templates/form.html`, working without JavaScript. The browser's
//! hints are conveniences; the server checks everything again. A same-origin token guards
//! it, and a honeypot field catches bots.

use super::Web;
use super::reports::{self, Parsed};
use super::signature;
use crate::terms::Language;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

const FORM: &str = include_str!("../../templates/form.html");
const CONFIRMATION: &str = include_str!("../../templates/confirmation.html");
/// Tokens older than this are refused (the person is asked to reload the page).
const TOKEN_MAX_AGE: i64 = 6 * 3600;

pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// The page templates from `dir`, or the built-in ones.
    pub fn load(dir: Option<&Path>) -> Result<Pages, String> {
        let mut env = Environment::new();
        for (name, builtin) in [("form.html", FORM), ("confirmation.html", CONFIRMATION)] {
            let text = match dir {
                Some(d) => {
                    std::fs::read_to_string(d.join(name)).map_err(|e| format!("{}: {e}", d.join(name).display()))?
                }
                None => builtin.to_string(),
            };
            env.add_template_owned(name.to_string(), text).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(Pages { env })
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, String> {
        self.env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| e.to_string())
    }
}

/// The page's language: `?lang=`, else the first of ja/en in Accept-Language, else Japanese.
fn language(query: Option<&str>, headers: &HeaderMap) -> Language {
    if let Some(l) = query.and_then(Language::parse) {
        return l;
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut best: Option<(f32, Language)> = None;
    for part in accept.split(',') {
        let mut bits = part.trim().split(';');
        let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits.find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        let lang = if tag.starts_with("ja") {
            Some(Language::Ja)
        } else if tag.starts_with("en") {
            Some(Language::En)
        } else {
            None
        };
        if let Some(lang) = lang
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, lang));
        }
    }
    best.map_or(Language::Ja, |(_, l)| l)
}

fn page_response(status: StatusCode, html: Result<String, String>) -> Response {
    match html {
        Ok(html) => {
            let mut r = (status, Html(html)).into_response();
            // The page is its own origin's only: no framing, no inline scripts from elsewhere.
            r.headers_mut().insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(
                    "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                ),
            );
            // Our own POSTs carry a Referer (the fallback of `same_origin`); nobody else sees
            // the page's address with the customer's query in it.
            r.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
            r
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the page template is broken: {e}")).into_response(),
    }
}

fn form_context(
    web: &Web,
    lang: Language,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    notice: Option<&str>,
) -> Value {
    let now = web.daemon.clock.now().timestamp();
    let rules = web.daemon.rules();
    let policy = &rules.config.policy;
    context! {
        lang => lang.as_str(),
        profile => policy.name.clone(),
        priorities => policy.priorities.clone(),
        token => signature::page_token(&web.page_key, now),
        values => values,
        errors => errors,
        notice => notice,
        max_attachment_bytes => web.settings.max_attachment_bytes,
    }
}

/// `GET /form`
pub async fn get_form(
    State(web): State<Arc<Web>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = language(query.get("lang").map(String::as_str), &headers);
    let html =
        web.daemon.rules().pages.render("form.html", form_context(&web, lang, &HashMap::new(), &HashMap::new(), None));
    page_response(StatusCode::OK, html)
}

fn values_of(parsed: &Parsed) -> HashMap<String, String> {
    let f = &parsed.form;
    [
        ("customer_id", &f.customer_id),
        ("email", &f.email),
        ("name", &f.name),
        ("priority", &f.priority),
        ("subject", &f.subject),
        ("description", &f.description),
        ("repro_steps", &f.repro_steps),
        ("error_messages", &f.error_messages),
        ("expected_result", &f.expected_result),
        ("circumstances", &f.circumstances),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect()
}

/// Whether a POST comes from our own page. Browsers send `Origin` on every form POST; it must
/// name this host. `Origin: null` (a sandboxed frame, a `data:` page, some redirects) is
/// refused, and so is a POST with no Origin unless its `Referer` is one of our pages (the page
/// sends `Referrer-Policy: same-origin`, so our own forms always carry one of the two).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else { return false };
    let host_of = |url: &str| {
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
        Some(rest.split(['/', '?', '#']).next().unwrap_or("").to_ascii_lowercase())
    };
    let ours = |url: &str| host_of(url).is_some_and(|h| h == host.to_ascii_lowercase());
    match headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null")) {
        Some(origin) => origin != "null" && ours(origin),
        None => headers.get(header::REFERER).and_then(|v| v.to_str().ok()).is_some_and(ours),
    }
}

/// `POST /form`: the page's own submission.
pub async fn post_form(
    State(web): State<Arc<Web>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang_hint = language(None, &headers);
    if !same_origin(&headers) {
        return page_response(
            StatusCode::FORBIDDEN,
            Ok(simple_page(
                lang_hint,
                "この送信は受け付けられません（別のサイトからの送信です）。",
                "This submission came from another site and was not accepted.",
            )),
        );
    }
    if body.len() > web.settings.max_body_bytes {
        return page_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            Ok(simple_page(
                lang_hint,
                "送信内容が大きすぎます。添付ファイルを小さくしてください。",
                "The submission is too large; attach smaller files.",
            )),
        );
    }
    let mut parsed = match reports::parse(&headers, &body, &web).await {
        Ok(p) => p,
        Err(problem) => {
            let mut errors = HashMap::new();
            for e in &problem.errors {
                errors.insert(e.field.clone(), e.message.clone());
            }
            let html = web
                .daemon
                .rules()
                .pages
                .render("form.html", form_context(&web, lang_hint, &HashMap::new(), &errors, Some(&problem.detail)));
            return page_response(problem.status, html);
        }
    };
    let lang = language(parsed.lang.as_deref(), &headers);
    if parsed.form.language.is_empty() {
        parsed.form.language = lang.as_str().to_string();
    }
    let now = web.daemon.clock.now().timestamp();
    if !parsed.token.as_deref().is_some_and(|t| signature::verify_page_token(&web.page_key, t, now, TOKEN_MAX_AGE)) {
        let html = web.daemon.rules().pages.render(
            "form.html",
            form_context(
                &web,
                lang,
                &values_of(&parsed),
                &HashMap::new(),
                Some(if lang == Language::Ja {
                    "ページの有効期限が切れました。内容を確認して、もう一度送信してください。"
                } else {
                    "This page has expired. Check your report and send it again."
                }),
            ),
        );
        return page_response(StatusCode::FORBIDDEN, html);
    }
    // A bot filled the hidden field: thank it and record nothing.
    if parsed.honeypot.as_deref().is_some_and(|h| !h.trim().is_empty()) {
        tracing::info!(channel = "form", client = %client.ip(), "honeypot filled: submission dropped");
        return page_response(
            StatusCode::OK,
            Ok(simple_page(lang, "送信ありがとうございました。", "Thank you for your report.")),
        );
    }
    let values = values_of(&parsed);
    match reports::submit(&web, parsed, super::client_ip(&web, client, &headers)).await {
        Ok(done) => {
            let case = done.case.as_ref();
            let rules = web.daemon.rules();
            let ctx = context! {
                lang => lang.as_str(),
                case => done.outcome.case,
                state => case.map(|c| c.state.as_str()),
                priority => case.map(|c| c.priority.clone()),
                response_due => crate::act::compose::local_time(case.and_then(|c| c.response_due), lang, &rules.config),
                release_at => crate::act::compose::local_time(case.and_then(|c| c.release_at), lang, &rules.config),
                missing => case.map(|c| c.missing.clone()).unwrap_or_default(),
                action => done.outcome.action,
                email => values.get("email").cloned().unwrap_or_default(),
            };
            page_response(StatusCode::OK, rules.pages.render("confirmation.html", ctx))
        }
        Err(problem) => {
            let mut errors = HashMap::new();
            for e in &problem.errors {
                errors.insert(e.field.clone(), e.message.clone());
            }
            let html = web
                .daemon
                .rules()
                .pages
                .render("form.html", form_context(&web, lang, &values, &errors, Some(&problem.detail)));
            page_response(problem.status, html)
        }
    }
}

fn simple_page(lang: Language, ja: &str, en: &str) -> String {
    let (lang, text) = if lang == Language::Ja { ("ja", ja) } else { ("en", en) };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>uketsuke</title></head><body><p>{}</p><p><a href=\"/form?lang={lang}\">←</a></p></body></html>",
        html_escape(text)
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
