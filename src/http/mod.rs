//! The HTTP listener of `uketsuke run`: the bilingual intake page (`GET /form`, `POST /form`),
//! the signed webhook for forms hosted elsewhere (`POST /v1/reports`), `GET /healthz` and
//! `GET /metrics`. Every submission goes through the same pipeline, store transaction and
//! acknowledgment as a mail report. The interface is described in `openapi.json`.

mod limits;
pub mod page;
pub mod problem;
pub mod reports;
pub mod signature;

use crate::config::channels::HttpSettings;
use crate::daemon::Daemon;
use crate::record::{AnyStore, CaseRecord, Store};
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use problem::Problem;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The routes, as `openapi.json` documents them (a test keeps the two in step).
pub const ROUTES: [(&str, &str); 5] =
    [("post", "/v1/reports"), ("get", "/form"), ("post", "/form"), ("get", "/healthz"), ("get", "/metrics")];

pub struct Web {
    pub daemon: Arc<Daemon>,
    pub settings: HttpSettings,
    pub store: Mutex<AnyStore>,
    limits: limits::RateLimits,
    /// Signs the intake page's same-origin tokens; new at every start.
    page_key: [u8; 32],
}

impl Web {
    /// The case already recorded under a submission key (see `reports::submission_key`). The
    /// same idempotency key with a different report is refused (409), never taken for a retry.
    fn existing(
        &self,
        key: &str,
        form: &crate::understand::FormSubmission,
    ) -> Result<Option<reports::Submitted>, Problem> {
        let (found, raw) = {
            let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
            tokio::task::block_in_place(|| {
                let found = store.write(|tx| tx.find_message(key))?;
                let raw = match &found {
                    Some((message, _)) => store.message_raw(*message)?,
                    None => None,
                };
                Ok::<_, crate::record::StoreError>((found, raw))
            })
        }
        .map_err(|e| Problem::internal(e.to_string()))?;
        let Some((message, number)) = found else { return Ok(None) };
        let same = |stored: &[u8]| {
            serde_json::from_slice::<crate::understand::FormSubmission>(stored).is_ok_and(|mut stored| {
                stored.submitted_at.clear();
                let mut sent = form.clone();
                sent.submitted_at.clear();
                stored.signed = sent.signed;
                stored == sent
            })
        };
        // A signature covers the bytes: the same signature is the same report.
        if !key.starts_with("sig:") && !raw.as_deref().is_some_and(same) {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "This idempotency key was used for another report",
                "A key names one report: send a retry with the same body, and a new report with a new key.",
            ));
        }
        let case = self.case(number.as_deref())?;
        let action = case.as_ref().map(|c| c.state.as_str().to_string()).unwrap_or_else(|| "recorded".into());
        Ok(Some(reports::Submitted {
            outcome: crate::record::Outcome { message, case: number, action, duplicate: true, enqueued: Vec::new() },
            case,
        }))
    }

    fn case(&self, number: Option<&str>) -> Result<Option<CaseRecord>, Problem> {
        let Some(number) = number else { return Ok(None) };
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| store.case_detail(number))
            .map(|d| d.map(|d| d.case))
            .map_err(|e| Problem::internal(e.to_string()))
    }
}

fn random_key() -> [u8; 32] {
    use sha2::Digest;
    use std::io::Read;
    let mut seed = [0u8; 32];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut seed)).is_ok();
    let mut hasher = sha2::Sha256::new();
    hasher.update(seed);
    if !from_os {
        // No /dev/urandom: the clock and the process id, hashed; weaker, logged.
        tracing::warn!("no /dev/urandom: the intake page's tokens use a weaker key");
        hasher.update(format!("{:?}{}", std::time::SystemTime::now(), std::process::id()));
    }
    hasher.finalize().into()
}

pub fn router(web: Arc<Web>) -> Router {
    let limit = web.settings.max_body_bytes;
    Router::new()
        .route("/v1/reports", post(post_report))
        .route("/form", get(page::get_form).post(page::post_form))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(web.clone(), guard))
        .with_state(web)
}

/// Before any route: a body announced larger than the limit is refused from its
/// Content-Length with the documented 413 problem, before a byte of it is read; and no
/// response may be sniffed into another type by a browser.
async fn guard(State(web): State<Arc<Web>>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut response = match announced {
        Some(len) if len > web.settings.max_body_bytes as u64 => {
            let mut r = too_large(len, web.settings.max_body_bytes).into_response();
            // The rest of the body is not read: the connection closes after the answer.
            r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            r
        }
        _ => next.run(request).await,
    };
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    response
}

/// Serves until the daemon shuts down.
pub async fn serve(daemon: Arc<Daemon>, settings: HttpSettings, listener: tokio::net::TcpListener) {
    let store = match tokio::task::block_in_place(|| daemon.store.open()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("the HTTP listener cannot open the store: {e}");
            return;
        }
    };
    let mut shutdown = daemon.shutdown.clone();
    let web = Arc::new(Web {
        daemon,
        settings,
        store: Mutex::new(store),
        limits: limits::RateLimits::default(),
        page_key: random_key(),
    });
    let limits = (web.settings.max_connections, web.settings.header_timeout, web.settings.request_timeout);
    let app = router(web);
    accept(listener, app, limits, &mut shutdown).await;
    tracing::info!("HTTP listener stopped");
}

/// The accept loop. A slow or silent client cannot hold the listener: at most
/// `max_connections` are served at once (the next waits in the kernel's backlog), the request
/// head must arrive within `header_timeout`, and a connection is closed once it has been open
/// `request_timeout` (a trickled body included). On shutdown, no new connection is taken and
/// those in hand get a few seconds to finish.
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    (max_connections, header_timeout, request_timeout): (usize, std::time::Duration, std::time::Duration),
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: say so, wait, go on.
                    tracing::warn!("the HTTP listener cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            hyper_util::service::TowerToHyperService::new(app.clone().layer(axum::Extension(ConnectInfo(peer))));
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let deadline = tokio::time::sleep(request_timeout);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = deadline => tracing::debug!(%peer, "HTTP connection closed: open longer than request_timeout_seconds"),
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), connection).await;
                }
            }
        });
    }
    // Let the connections in hand finish (each holds a slot), for a few seconds at most.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(6), slots.acquire_many(max_connections as u32)).await;
}

fn too_large(len: u64, max: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "The submission is too large",
        format!("The body is {len} bytes; at most {max} bytes are accepted."),
    )
}

/// `POST /v1/reports`: a signed submission from a form hosted elsewhere. What costs nothing is
/// checked first (the header's form, the number of values, the timestamp), before the body is
/// read; the HMAC over the body runs on a blocking thread, so a flood of bogus signatures
/// cannot slow the other requests (`/healthz` among them).
async fn post_report(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let now = web.daemon.clock.now().timestamp();
    let window = web.settings.replay_window.as_secs() as i64;
    let header = headers.get("uketsuke-signature").and_then(|v| v.to_str().ok());
    let claimed = match signature::claim(header, now, window) {
        Ok(c) => c,
        Err(e) => return signature_problem(e, window).into_response(),
    };
    let body = match axum::body::to_bytes(body, web.settings.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let len = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
            return too_large(len, web.settings.max_body_bytes).into_response();
        }
    };
    let secrets: Vec<Vec<u8>> = web
        .settings
        .signing_secrets
        .iter()
        .filter_map(|s| s.read().ok())
        .filter(|s| !s.trim().is_empty())
        .map(String::into_bytes)
        .collect();
    let signed = body.clone();
    let checked = tokio::task::spawn_blocking(move || signature::check(&claimed, &signed, &secrets)).await;
    let signature = match checked {
        Ok(Ok(sig)) => sig,
        Ok(Err(e)) => return signature_problem(e, window).into_response(),
        Err(e) => return Problem::internal(format!("checking the signature failed: {e}")).into_response(),
    };
    let mut parsed = match reports::parse(&headers, &body, &web).await {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    parsed.via = reports::Via::Webhook { signature };
    match reports::submit(&web, parsed, client_ip(&web, peer, &headers)).await {
        Ok(done) => submitted_json(&web, &done),
        Err(p) => p.into_response(),
    }
}

fn signature_problem(e: signature::SignatureError, window: i64) -> Problem {
    use signature::SignatureError::*;
    match e {
        Missing => Problem::new(
            StatusCode::UNAUTHORIZED,
            "signature-missing",
            "The submission is not signed",
            "Sign the body: Uketsuke-Signature: t=UNIX_TIME,v1=hex(HMAC-SHA256(secret, \"{t}.\" + body)).",
        ),
        Malformed => Problem::new(
            StatusCode::UNAUTHORIZED,
            "signature-malformed",
            "The signature header cannot be read",
            format!(
                "Write it as t=UNIX_TIME,v1=HEX with one to {} v1 values of 64 hex digits each.",
                signature::MAX_SIGNATURES
            ),
        ),
        Stale { age_seconds } => Problem::new(
            StatusCode::FORBIDDEN,
            "signature-expired",
            "The signature is too old or from the future",
            format!(
                "Its timestamp is {age_seconds} s from now; it must be within {window} s. Sign each submission when it is sent, with a correct clock."
            ),
        ),
        Mismatch => Problem::new(
            StatusCode::FORBIDDEN,
            "signature-invalid",
            "The signature does not match",
            "Sign with a current secret over the exact bytes sent.",
        ),
    }
}

/// The address a request comes from: the peer, or, when the peer is one of the configured
/// `trusted_proxies`, the nearest address in its X-Forwarded-For that is not itself a trusted
/// proxy. Headers from anyone else are ignored: a client cannot choose its own bucket.
pub fn client_ip(web: &Web, peer: SocketAddr, headers: &HeaderMap) -> std::net::IpAddr {
    forwarded_client(peer.ip(), headers, &web.settings.trusted_proxies)
}

pub fn forwarded_client(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[crate::config::channels::IpRange],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|r| r.contains(*ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    chain.into_iter().rev().find(|ip| !is_trusted(ip)).unwrap_or(peer)
}

fn submitted_json(web: &Web, done: &reports::Submitted) -> Response {
    let tz = web.daemon.rules().config.policy.time_zone;
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.with_timezone(&tz).to_rfc3339());
    let case = done.case.as_ref();
    let body = serde_json::json!({
        "case": done.outcome.case,
        "action": if done.outcome.duplicate { case.map(|c| c.state.as_str()).unwrap_or("recorded").to_string() } else { done.outcome.action.clone() },
        "priority": case.map(|c| c.priority.clone()),
        "release_at": time(case.and_then(|c| c.release_at)),
        "response_due": time(case.and_then(|c| c.response_due)),
        "missing": case.map(|c| c.missing.clone()).unwrap_or_default(),
        "duplicate": done.outcome.duplicate,
    });
    let status = if done.outcome.case.is_some() { StatusCode::CREATED } else { StatusCode::OK };
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `GET /healthz`: the store answers and no channel is stalled.
async fn healthz(State(web): State<Arc<Web>>) -> Response {
    let status = {
        let mut store = web.store.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| store.status())
    };
    match status {
        Ok(status) => {
            let now = web.daemon.clock.now();
            let started = status.channels.iter().map(|c| c.since).min().unwrap_or(now);
            let rules = web.daemon.rules();
            let problems = crate::daemon::problems(&rules.config, &status, now, started);
            let channels: Vec<serde_json::Value> =
                status.channels.iter().map(|c| serde_json::json!({"name": c.name, "state": c.state, "last_success": c.last_success, "last_error": c.last_error})).collect();
            let oauth = crate::oauth::health::accounts(&rules.config, &status, chrono::Utc::now());
            let ok = problems.is_empty();
            let body = serde_json::json!({"status": if ok { "ok" } else { "degraded" }, "store": "ok", "channels": channels, "oauth": oauth, "problems": problems});
            let code = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
        }
        Err(e) => {
            let body = serde_json::json!({"status": "down", "store": e.to_string()});
            (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "application/json")], body.to_string())
                .into_response()
        }
    }
}

/// The OAuth2 gauges, one series per account.
fn oauth_metrics(daemon: &Daemon, status: &crate::record::StoreStatus) -> String {
    let accounts = crate::oauth::health::accounts(&daemon.rules().config, status, chrono::Utc::now());
    if accounts.is_empty() {
        return String::new();
    }
    let now = chrono::Utc::now();
    let mut out = String::new();
    out.push_str("# HELP uketsuke_oauth_token_expiry_seconds Seconds until the account's current access token expires (negative: expired or none yet).\n# TYPE uketsuke_oauth_token_expiry_seconds gauge\n");
    for a in &accounts {
        let left = a.access_expires.map(|t| (t - now).num_seconds()).unwrap_or(-1);
        out.push_str(&format!("uketsuke_oauth_token_expiry_seconds{{account=\"{}\"}} {left}\n", a.account));
    }
    out.push_str("# HELP uketsuke_oauth_needs_reauthorization 1 while the account needs a person to sign in again (mail on it has stopped).\n# TYPE uketsuke_oauth_needs_reauthorization gauge\n");
    for a in &accounts {
        out.push_str(&format!(
            "uketsuke_oauth_needs_reauthorization{{account=\"{}\"}} {}\n",
            a.account,
            u8::from(a.needs_reauthorization.is_some())
        ));
    }
    out.push_str("# HELP uketsuke_oauth_secret_expiry_days Whole days until the account's client secret or certificate expires.\n# TYPE uketsuke_oauth_secret_expiry_days gauge\n");
    for a in accounts.iter().filter(|a| a.credential_days_left.is_some()) {
        out.push_str(&format!(
            "uketsuke_oauth_secret_expiry_days{{account=\"{}\"}} {}\n",
            a.account,
            a.credential_days_left.unwrap_or_default()
        ));
    }
    out.push_str("# HELP uketsuke_oauth_refreshes_total Access tokens fetched since start.\n# TYPE uketsuke_oauth_refreshes_total counter\n");
    for t in &daemon.tokens {
        out.push_str(&format!(
            "uketsuke_oauth_refreshes_total{{account=\"{}\"}} {}\n",
            t.account.name,
            t.refreshes.load(std::sync::atomic::Ordering::Relaxed)
        ));
    }
    out
}

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(web): State<Arc<Web>>) -> Response {
    let m = &web.daemon.metrics;
    let mut out = String::new();
    out.push_str("# HELP uketsuke_reports_received_total Reports recorded, by channel and action.\n# TYPE uketsuke_reports_received_total counter\n");
    for ((channel, action), n) in m.received.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        out.push_str(&format!("uketsuke_reports_received_total{{channel=\"{channel}\",action=\"{action}\"}} {n}\n"));
    }
    let load = std::sync::atomic::Ordering::Relaxed;
    out.push_str(&format!("# HELP uketsuke_messages_sent_total Outbox messages the SMTP server accepted.\n# TYPE uketsuke_messages_sent_total counter\nuketsuke_messages_sent_total {}\n", m.sent.load(load)));
    out.push_str(&format!("# HELP uketsuke_send_failures_total Failed SMTP attempts (temporary and permanent).\n# TYPE uketsuke_send_failures_total counter\nuketsuke_send_failures_total {}\n", m.send_failures.load(load)));
    out.push_str(&format!("# HELP uketsuke_imap_connected How many of the watched mailboxes have their IMAP session up.\n# TYPE uketsuke_imap_connected gauge\nuketsuke_imap_connected {}\n", m.imap_connected.load(load)));
    let status = {
        let mut store = web.store.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| store.status())
    };
    if let Ok(s) = status {
        let now = web.daemon.clock.now();
        out.push_str(&format!("# HELP uketsuke_outbox_pending Outbox entries waiting to be sent.\n# TYPE uketsuke_outbox_pending gauge\nuketsuke_outbox_pending {}\n", s.outbox_pending));
        out.push_str(&format!("# HELP uketsuke_outbox_parked Outbox entries parked after permanent failures.\n# TYPE uketsuke_outbox_parked gauge\nuketsuke_outbox_parked {}\n", s.outbox_parked));
        out.push_str(&format!("# HELP uketsuke_held_cases Cases held until support opens.\n# TYPE uketsuke_held_cases gauge\nuketsuke_held_cases {}\n", s.held));
        let oldest_held = s.oldest_held.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0);
        out.push_str(&format!("# HELP uketsuke_oldest_held_case_age_seconds Age of the oldest held case.\n# TYPE uketsuke_oldest_held_case_age_seconds gauge\nuketsuke_oldest_held_case_age_seconds {oldest_held}\n"));
        out.push_str(&format!("# HELP uketsuke_quarantined_cases Messages that could not be understood.\n# TYPE uketsuke_quarantined_cases gauge\nuketsuke_quarantined_cases {}\n", s.quarantined));
        out.push_str(&oauth_metrics(&web.daemon, &s));
        // Each channel (every watched mailbox, SMTP) by the state it last recorded.
        out.push_str("# HELP uketsuke_channel_up 1 while the channel's last recorded state is a working one (connected, sending), 0 while it is down.\n# TYPE uketsuke_channel_up gauge\n");
        // Only the channels configured now: a mailbox removed from the configuration keeps its
        // row in the store, but is no alarm.
        let rules = web.daemon.rules();
        let configured: Vec<&str> = rules
            .config
            .imap
            .iter()
            .map(|i| i.channel.as_str())
            .chain(rules.config.smtp.as_ref().map(|_| "smtp"))
            .collect();
        for c in s.channels.iter().filter(|c| configured.contains(&c.name.as_str())) {
            let up = u8::from(matches!(c.state.as_str(), "connected" | "sending"));
            out.push_str(&format!(
                "uketsuke_channel_up{{channel=\"{}\"}} {up}\n",
                c.name.replace(['"', '\\', '\n'], "_")
            ));
        }
        let label = |v: &str| v.replace(['"', '\\', '\n'], "_");
        out.push_str("# HELP uketsuke_instance_seen_timestamp_seconds When each instance sharing the store last reported.\n# TYPE uketsuke_instance_seen_timestamp_seconds gauge\n");
        for i in &s.instances {
            out.push_str(&format!(
                "uketsuke_instance_seen_timestamp_seconds{{instance=\"{}\",host=\"{}\"}} {}\n",
                label(&i.id),
                label(&i.host),
                i.seen_at.timestamp()
            ));
        }
        out.push_str("# HELP uketsuke_lease_held_since_timestamp_seconds Since when the holder has held each live lease (a mailbox, the scheduler).\n# TYPE uketsuke_lease_held_since_timestamp_seconds gauge\n");
        let wall = chrono::Utc::now();
        for l in s.leases.iter().filter(|l| l.expires_at > wall) {
            out.push_str(&format!(
                "uketsuke_lease_held_since_timestamp_seconds{{lease=\"{}\",instance=\"{}\",term=\"{}\"}} {}\n",
                label(&l.name),
                label(&l.holder),
                l.term,
                l.since.timestamp()
            ));
        }
        let mine = s.leases.iter().filter(|l| l.expires_at > wall && l.holder == web.daemon.instance.id).count();
        out.push_str(&format!("# HELP uketsuke_leases_held_here Live leases this instance holds.\n# TYPE uketsuke_leases_held_here gauge\nuketsuke_leases_held_here {mine}\n"));
        let refused = u8::from(s.config_refused.is_some());
        out.push_str(&format!("# HELP uketsuke_config_reload_refused 1 while the last reload was refused (the configuration loaded before stays in force).\n# TYPE uketsuke_config_reload_refused gauge\nuketsuke_config_reload_refused {refused}\n"));
    }
    let loaded = web.daemon.rules().loaded_at.timestamp();
    out.push_str(&format!("# HELP uketsuke_config_loaded_timestamp_seconds When the configuration in force was loaded (start or reload).\n# TYPE uketsuke_config_loaded_timestamp_seconds gauge\nuketsuke_config_loaded_timestamp_seconds {loaded}\n"));
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
