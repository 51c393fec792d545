//! Sending the outbox over SMTP.
//!
//! An entry is marked sent only after the server accepted it. Temporary failures (4xx,
//! connection trouble) are retried with backoff; permanent ones (5xx) are parked with the
//! server's answer for an operator to see in `uketsuke cases show`. Every entry keeps the
//! Message-ID it was given when enqueued, so a resend after a crash is recognisably the same
//! message.

use super::StateLog;
use super::stream::MailStream;
use crate::act::compose;
use crate::config::channels::{Security, SmtpSettings};
use crate::daemon::Daemon;
use crate::oauth::{TokenError, TokenSource};
use crate::record::SqliteStore;
use chrono::Duration as ChronoDuration;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::sync::Arc;
use std::time::Duration;
use tracing::{error, info, warn};

/// Messages sent at the same time (each on its own connection).
const PARALLEL_SENDS: usize = 8;

/// Why a send failed: the server's answer (lettre's classification says whether it is
/// permanent), or our own set-up (TLS files, the password source).
#[derive(Debug)]
enum SendError {
    Smtp(lettre::transport::smtp::Error),
    Setup(String),
    /// The server refused our login (a wrong password, a refused token): an operator's
    /// problem, never a reason to park a customer's reply, so always retried.
    Login(String),
    /// The OAuth2 account needs a person; nothing is sent until then.
    NeedsReauthorization(String),
}

impl SendError {
    fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp(e) if e.is_permanent())
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Smtp(e) => write!(f, "{e}"),
            SendError::Setup(e) => f.write_str(e),
            SendError::Login(e) => write!(f, "the server refused the login: {e}"),
            SendError::NeedsReauthorization(e) => write!(f, "the OAuth2 account needs re-authorization: {e}"),
        }
    }
}

/// Open SMTP connections, reused between messages. uketsuke opens them itself (rather than
/// through lettre's transport) to set TCP_NODELAY: lettre writes the final "." of a message
/// separately, and with Nagle's algorithm that small write waits for the server's delayed
/// ACK, about 40 ms per message.
struct Connections {
    settings: SmtpSettings,
    /// Idle connections, each with the time its OAuth2 token should no longer be relied on.
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Option<DateTime<Utc>>)>>,
    tokens: Option<Arc<TokenSource>>,
}

impl Connections {
    /// A new authenticated connection. With OAuth2, a refused token is forgotten and a fresh
    /// one tried once more (lettre reports the server's JSON challenge as a client error,
    /// not as a 535).
    async fn open(&self) -> Result<(AsyncSmtpConnection, Option<DateTime<Utc>>), SendError> {
        let (Some(source), Some(oauth)) = (&self.tokens, &self.settings.server.oauth) else {
            return Ok((self.connect(None).await?, None));
        };
        let mut refused = String::new();
        for attempt in 0..2 {
            let token = source.token().await.map_err(|e| match e {
                TokenError::NeedsReauthorization(reason) => SendError::NeedsReauthorization(reason),
                TokenError::Unavailable(e) => SendError::Setup(format!("no OAuth2 token for {}: {e}", oauth.account)),
            })?;
            match self.connect(Some(Credentials::new(oauth.username.clone(), token.secret.clone()))).await {
                Ok(conn) => return Ok((conn, Some(token.renew_at()))),
                Err(SendError::Login(e)) => {
                    refused = e;
                    warn!(channel = "smtp", account = %oauth.account, attempt = attempt + 1, "the server refused the OAuth2 token (XOAUTH2 as {}): {refused}", oauth.username);
                    source.rejected(&token).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(SendError::Setup(format!(
            "the server refused XOAUTH2 login as {} with a fresh OAuth2 token too: {refused}",
            oauth.username
        )))
    }

    async fn connect(&self, oauth: Option<Credentials>) -> Result<AsyncSmtpConnection, SendError> {
        let server = &self.settings.server;
        let hello = ClientId::default();
        let tcp = tokio::time::timeout(
            self.settings.timeout,
            tokio::net::TcpStream::connect((server.host.as_str(), server.port)),
        )
        .await
        .map_err(|_| SendError::Setup(format!("connecting to {}:{} timed out", server.host, server.port)))?
        .map_err(|e| SendError::Setup(format!("cannot connect to {}:{}: {e}", server.host, server.port)))?;
        let _ = tcp.set_nodelay(true);
        let mut conn = match server.security {
            Security::Tls => {
                let config = super::tls::client_config(server.ca_file.as_deref()).map_err(SendError::Setup)?;
                let name = super::tls::server_name(&server.host).map_err(SendError::Setup)?;
                let tls = tokio_rustls::TlsConnector::from(config)
                    .connect(name, tcp)
                    .await
                    .map_err(|e| SendError::Setup(format!("TLS with {} failed: {e}", server.host)))?;
                let stream: Box<dyn AsyncTokioStream> = Box::new(MailStream::Tls(Box::new(tls)));
                AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(SendError::Smtp)?
            }
            Security::StartTls | Security::Plain => {
                let stream: Box<dyn AsyncTokioStream> = Box::new(MailStream::Plain(tcp));
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(SendError::Smtp)?;
                if server.security == Security::StartTls {
                    conn.starttls(tls_parameters(&self.settings).map_err(SendError::Setup)?, &hello)
                        .await
                        .map_err(SendError::Smtp)?;
                }
                conn
            }
        };
        // lettre reports the JSON challenge of a refused token as a client error, a wrong
        // password as a 535: both are a refused login.
        let refused = |e: lettre::transport::smtp::Error| SendError::Login(e.to_string());
        if let Some(credentials) = oauth {
            conn.auth(&[Mechanism::Xoauth2], &credentials).await.map_err(refused)?;
        } else if let Some(login) = &server.login {
            let credentials =
                Credentials::new(login.username.clone(), login.password.read().map_err(SendError::Setup)?);
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await.map_err(refused)?;
        }
        Ok(conn)
    }

    /// Sends one message on an idle connection or a new one; keeps the connection for the
    /// next message unless it broke.
    async fn send(&self, message: &lettre::Message) -> Result<lettre::transport::smtp::response::Response, SendError> {
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        // A connection whose token is about to expire is closed rather than reused.
        let (mut conn, renew_at) = match reused {
            Some((conn, renew_at)) if renew_at.is_none_or(|at| Utc::now() < at) => (conn, renew_at),
            _ => self.open().await?,
        };
        let result =
            tokio::time::timeout(self.settings.timeout * 4, conn.send(message.envelope(), &message.formatted())).await;
        match result {
            Ok(Ok(response)) => {
                self.keep(conn, renew_at);
                Ok(response)
            }
            Ok(Err(e)) => {
                if !conn.has_broken() {
                    self.keep(conn, renew_at);
                }
                Err(SendError::Smtp(e))
            }
            Err(_) => {
                Err(SendError::Setup(format!("the server did not answer within {:?}", self.settings.timeout * 4)))
            }
        }
    }

    fn keep(&self, conn: AsyncSmtpConnection, renew_at: Option<DateTime<Utc>>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < PARALLEL_SENDS {
            idle.push((conn, renew_at));
        }
    }

    /// Forgets every idle connection (after a failure they may all be dead).
    fn reset(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl AsyncTokioStream for MailStream {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        match self {
            MailStream::Plain(s) => s.peer_addr(),
            MailStream::Tls(s) => s.get_ref().0.peer_addr(),
        }
    }
}

/// lettre's TLS parameters for STARTTLS: the operator's CA file, or the public roots.
fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, String> {
    let server = &settings.server;
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(ca) = &server.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read the CA file {}: {e}", ca.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("the CA file {} is not a PEM certificate: {e}", ca.display()))?;
        builder = builder
            .certificate_store(lettre::transport::smtp::client::CertificateStore::None)
            .add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| format!("TLS set-up failed: {e}"))
}

/// Sends one message at once, outside the outbox (the on-call notice about an OAuth2
/// account): on a connection of its own, logging in as the outbox does.
pub async fn send_now(daemon: &Daemon, message: &lettre::Message) -> Result<(), String> {
    let settings = daemon.rules().config.smtp.clone().ok_or("sending is off ([smtp] enabled = false)")?;
    let tokens = settings.server.oauth.as_ref().map(|o| daemon.token_source(&o.account)).transpose()?;
    let connections = Connections { settings, idle: std::sync::Mutex::new(Vec::new()), tokens };
    connections.send(message).await.map(drop).map_err(|e| e.to_string())
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
    // Read only at start: a reload keeps the running [outbox].
    let outbox = daemon.rules().config.outbox.clone();
    let outbox = &outbox;
    let tokens = match settings.server.oauth.as_ref().map(|o| daemon.token_source(&o.account)).transpose() {
        Ok(t) => t,
        Err(e) => {
            error!(channel = "smtp", "{e}");
            return;
        }
    };
    let connections =
        Connections { settings: settings.clone(), idle: std::sync::Mutex::new(Vec::new()), tokens: tokens.clone() };
    let mut token_backoff = super::Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
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
        // With OAuth2, a token first. An account that needs a person stops the outbox
        // (entries wait, none is parked or counted as an attempt) until someone signs in
        // again, without asking the provider meanwhile; a token endpoint that fails is asked
        // again with backoff, not at every turn of this loop.
        if let Some(source) = &tokens {
            match source.token().await {
                Ok(_) => token_backoff.reset(),
                Err(TokenError::NeedsReauthorization(reason)) => {
                    if states.changed(&format!("needs re-authorization: {reason}")) {
                        error!(channel = "smtp", account = %source.account.name, "sending has stopped: the OAuth2 account needs re-authorization ({reason}); run `uketsuke auth login {}`", source.account.name);
                    }
                    let _ = tokio::task::block_in_place(|| {
                        store.set_channel("smtp", "needs re-authorization", false, Some(&reason), now)
                    });
                    source.wait_for_reauthorization(&mut shutdown).await;
                    continue;
                }
                Err(TokenError::Unavailable(e)) => {
                    let answer = format!("no OAuth2 token for {}: {e}", source.account.name);
                    if states.changed(&format!("failing: {answer}")) {
                        error!(channel = "smtp", "sending is waiting for a token, will retry: {answer}");
                    }
                    let _ =
                        tokio::task::block_in_place(|| store.set_channel("smtp", "failing", false, Some(&answer), now));
                    tokio::select! {
                        _ = tokio::time::sleep(token_backoff.next_delay()) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            }
        }
        // Compose every due entry; one that cannot be composed is parked, not retried.
        let mut sendable = Vec::with_capacity(jobs.len());
        let rules = daemon.rules();
        for job in jobs {
            match compose::compose(&job, &rules.templates, &rules.config) {
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
        let connections = &connections;
        let mut results = futures::stream::iter(sendable.into_iter().map(|(job, message)| async move {
            let result = connections.send(&message).await;
            (job, result)
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
            // The connections may be dead: open new ones next time.
            connections.reset();
        }
    }
    info!(channel = "smtp", "outbox worker stopped");
}
