//! Sending the outbox over SMTP.
//!
//! An entry is marked sent only after the server accepted it. Temporary failures (4xx,
//! connection trouble) are retried with backoff; permanent ones (5xx) are parked with the
//! server's answer for an operator to see in `uketsuke cases show`. Every entry keeps the
//! Message-ID it was given when enqueued, so a resend after a crash is recognisably the same
//! message.

use super::StateLog;
use crate::act::compose;
use crate::config::channels::{Security, SmtpSettings};
use crate::daemon::Daemon;
use crate::record::SqliteStore;
use chrono::Duration as ChronoDuration;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

/// Messages sent at the same time (each on its own pooled connection).
const PARALLEL_SENDS: usize = 8;

fn build_transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let server = &settings.server;
    let tls = || -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(server.host.clone());
        if let Some(ca) = &server.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("cannot read the CA file {}: {e}", ca.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| format!("the CA file {} is not a PEM certificate: {e}", ca.display()))?;
            builder = builder.certificate_store(lettre::transport::smtp::client::CertificateStore::None).add_root_certificate(cert);
        }
        builder.build_rustls().map_err(|e| format!("TLS set-up failed: {e}"))
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.clone()).port(server.port).timeout(Some(settings.timeout));
    builder = match server.security {
        Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
        Security::StartTls => builder.tls(Tls::Required(tls()?)),
        Security::Plain => builder.tls(Tls::None),
    };
    if let Some(login) = &server.login {
        builder = builder.credentials(Credentials::new(login.username.clone(), login.password.read()?));
    }
    Ok(builder.build())
}

/// Sends due outbox entries until shutdown.
pub async fn run(daemon: Arc<Daemon>, settings: SmtpSettings) {
    let mut shutdown = daemon.shutdown.clone();
    let mut states = StateLog::default();
    let mut store = match SqliteStore::open(&daemon.store_path) {
        Ok(s) => s,
        Err(e) => {
            error!(channel = "smtp", "cannot open the store: {e}");
            return;
        }
    };
    let outbox = &daemon.config.outbox;
    let mut transport: Option<AsyncSmtpTransport<Tokio1Executor>> = None;
    while !*shutdown.borrow() {
        let now = daemon.clock.now();
        let jobs = match tokio::task::block_in_place(|| store.due_outbox(now, 32)) {
            Ok(jobs) => jobs,
            Err(e) => {
                error!(channel = "smtp", "reading the outbox failed: {e}");
                Vec::new()
            }
        };
        if jobs.is_empty() {
            tokio::select! {
                _ = daemon.outbox_wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        if transport.is_none() {
            match build_transport(&settings) {
                Ok(t) => transport = Some(t),
                Err(e) => {
                    if states.changed(&format!("down: {e}")) {
                        error!(channel = "smtp", "cannot set up SMTP: {e}");
                    }
                    let _ = tokio::task::block_in_place(|| store.set_channel("smtp", "down", false, Some(&e), now));
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            }
        }
        let Some(t) = transport.clone() else { continue };
        // Compose every due entry; one that cannot be composed is parked, not retried.
        let mut sendable = Vec::with_capacity(jobs.len());
        for job in jobs {
            match compose::compose(&job, &daemon.templates, &daemon.config) {
                Ok(message) => sendable.push((job, message)),
                Err(e) => {
                    let case = job.case.as_ref().map(|c| c.number.as_str()).unwrap_or("-");
                    error!(channel = "smtp", case = %case, kind = %job.kind, "cannot compose the message; parked for an operator: {e}");
                    let _ = tokio::task::block_in_place(|| store.mark_failed(job.id, &format!("compose: {e}"), None));
                }
            }
        }
        // Several at once over the pooled connections: one message's round trips do not hold
        // up the next.
        let mut results = futures::stream::iter(sendable.into_iter().map(|(job, message)| {
            let t = t.clone();
            async move {
                let result = t.send(message).await;
                (job, result)
            }
        }))
        .buffer_unordered(PARALLEL_SENDS);
        let mut failed = false;
        // Each result is recorded as soon as it is known, so at most the messages in flight
        // could be sent again (with the same Message-ID) after a crash.
        while let Some((job, result)) = results.next().await {
            let case = job.case.as_ref().map(|c| c.number.as_str()).unwrap_or("-").to_string();
            let now = daemon.clock.now();
            match result {
                Ok(response) => {
                    daemon.metrics.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = tokio::task::block_in_place(|| {
                        store.mark_sent(job.id, now)?;
                        store.set_channel("smtp", "sending", true, None, now)
                    });
                    if states.changed("sending") {
                        info!(channel = "smtp", "SMTP is accepting messages");
                    }
                    info!(channel = "smtp", case = %case, kind = %job.kind, to = %job.recipient, message_id = %job.our_message_id, code = %response.code(), "sent");
                }
                Err(e) if e.is_permanent() => {
                    daemon.metrics.send_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let answer = e.to_string();
                    warn!(channel = "smtp", case = %case, kind = %job.kind, to = %job.recipient, "the server refused the message for good; parked: {answer}");
                    let _ = tokio::task::block_in_place(|| store.mark_failed(job.id, &answer, None));
                }
                Err(e) => {
                    daemon.metrics.send_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    failed = true;
                    let answer = e.to_string();
                    let attempts = job.attempts as u32 + 1;
                    let retry = if attempts >= outbox.max_attempts {
                        warn!(channel = "smtp", case = %case, kind = %job.kind, attempts, "giving up after {attempts} attempts; parked: {answer}");
                        None
                    } else {
                        let wait = outbox.retry_first.saturating_mul(1u32 << attempts.min(16)).min(outbox.retry_max);
                        Some(now + ChronoDuration::from_std(wait).unwrap_or(ChronoDuration::seconds(60)))
                    };
                    if states.changed(&format!("failing: {answer}")) {
                        error!(channel = "smtp", "sending failed, will retry: {answer}");
                    }
                    let _ = tokio::task::block_in_place(|| {
                        store.mark_failed(job.id, &answer, retry)?;
                        store.set_channel("smtp", "failing", false, Some(&answer), now)
                    });
                }
            }
        }
        if failed {
            // The connections may be dead: build a new transport next time.
            transport = None;
        }
    }
    info!(channel = "smtp", "outbox worker stopped");
}

