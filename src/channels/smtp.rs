//! Sending the outbox over SMTP.
//!
//! An entry is marked sent only after the server accepted it. Every entry keeps the
//! Message-ID it was given when enqueued, so a resend after a crash is recognisably the same
//! message.
//!
//! Up to [`PARALLEL_SENDS`] messages are on their way at once, but the end of DATA is taken
//! one message at a time: from writing the final dot until the store has the entry as sent,
//! no other message may end its DATA. SMTP leaves a window that cannot be closed (the server
//! has taken the message and we have not yet recorded it); this keeps at most one message
//! inside it, so a crash or a SIGKILL sends at most one message twice, and none when it lands
//! anywhere else.
//!
//! Two kinds of failure are kept apart, because they call for different waits:
//!
//! - A failure of the *channel* (no connection, TLS, a 421 or any refusal in the greeting,
//!   EHLO or STARTTLS, a refused login, a connection that broke or hung): nothing about one
//!   message. The worker pauses the whole channel, leaves every entry as it is (no attempt
//!   counted, no later `not_before`), and probes the server on its own short backoff (1 s
//!   doubling to [`PROBE_MAX`]; [`PROBE_MAX_LOGIN`] for a refused login, which a person has to
//!   mend and which servers punish when hammered). When a probe gets in, everything waiting
//!   goes at once. The outage is logged when it starts and when it ends, with its length, and
//!   the `smtp` channel is recorded `down` meanwhile, for `uketsuke status` and `/healthz`.
//! - A failure of one *message* (the server's 4xx or 5xx to its MAIL, RCPT or DATA): a 4xx is
//!   retried with the entry's own backoff (`[outbox]`), a 5xx parks it with the server's
//!   answer for an operator to see in `uketsuke cases show`.

use super::StateLog;
use super::stream::MailStream;
use crate::act::compose;
use crate::config::channels::{Security, SmtpSettings};
use crate::daemon::Daemon;
use crate::oauth::{TokenError, TokenSource};
use crate::record::Store;
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

/// How long a claimed batch of outbox entries stays this instance's.
const CLAIM: Duration = Duration::from_secs(120);

/// How long after its claim was asked for an entry may still be sent. Another instance takes
/// a claim over when it runs out (`CLAIM`) or when the claimant has not been heard from for a
/// lease time (`dead_after`; claiming counts as being heard from). Entries not sent by then
/// are claimed again before they are sent, so a pause (a stopped process, a slow server)
/// never sends an entry whose claim may have passed to another instance. A fifth of the
/// lease time is kept in hand, as for leases.
fn sendable_within(dead_after: Duration) -> Duration {
    (CLAIM / 2).min(dead_after - dead_after / 5)
}

/// The longest wait between two probes of a server that cannot be reached: recovery is
/// noticed within this long (plus the connection's own set-up).
pub const PROBE_MAX: Duration = Duration::from_secs(8);

/// The longest wait between two probes while the server refuses our login: a person has to
/// mend the password or the account, and servers lock out clients that keep trying.
pub const PROBE_MAX_LOGIN: Duration = Duration::from_secs(60);

/// A message during which a fresh connection broke this many times in a row is taken for the
/// cause and retried on its own backoff, so that one odd message cannot keep the channel
/// pausing and resuming for ever.
const BREAKS_BEFORE_BLAME: u32 = 3;

/// Why a send failed.
#[derive(Debug)]
enum SendError {
    /// The channel cannot be used: no connection, TLS, the greeting, EHLO or STARTTLS
    /// refused (a 421 among them), or our own set-up (TLS files, the password source).
    Unavailable(String),
    /// The server refused our login (a wrong password, a refused token): an operator's
    /// problem, never a reason to park a customer's reply.
    Login(String),
    /// The OAuth2 account needs a person; nothing is sent until then.
    NeedsReauthorization(String),
    /// The connection broke, hung, or was closed with a 421 while a message was on it.
    Broken(String),
    /// The server's answer to this message (its MAIL, RCPT or DATA), or lettre's refusal to
    /// send it (a non-ASCII address to a server without SMTPUTF8).
    Message(lettre::transport::smtp::Error),
    /// The message cannot go to this server at all (it needs an extension the server lacks).
    Unsendable(String),
    /// The final dot was sent and no clear answer came: the server may have the message.
    Unconfirmed(String),
}

/// What a failure means for the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blame {
    /// The channel is down: pause it, leave the entries as they are.
    Channel,
    /// The server refused our login: pause the channel, probe less often.
    Login,
    /// This message, for now: its own backoff.
    Temporary,
    /// This message, for good: parked.
    Permanent,
}

impl SendError {
    fn blame(&self) -> Blame {
        match self {
            SendError::Unavailable(_) | SendError::Broken(_) => Blame::Channel,
            SendError::Login(_) | SendError::NeedsReauthorization(_) => Blame::Login,
            SendError::Message(e) if e.is_permanent() => Blame::Permanent,
            SendError::Unsendable(_) => Blame::Permanent,
            SendError::Unconfirmed(_) => Blame::Temporary,
            SendError::Message(_) => Blame::Temporary,
        }
    }
}

/// A 421 ("service not available, closing transmission channel") is about the server, not
/// the message it answers.
fn is_421(e: &lettre::transport::smtp::Error) -> bool {
    e.status().is_some_and(|code| code.to_string() == "421")
}

/// Sorts an error lettre returned while a message was on an established connection: an
/// answer of the server to the message, or the connection failing under it.
fn while_sending(e: lettre::transport::smtp::Error) -> SendError {
    if is_421(&e) {
        SendError::Broken(format!("the server closed the channel: {e}"))
    } else if e.status().is_some() || e.is_client() {
        SendError::Message(e)
    } else {
        SendError::Broken(format!("the connection failed: {e}"))
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Unavailable(e) | SendError::Broken(e) | SendError::Unsendable(e) | SendError::Unconfirmed(e) => {
                f.write_str(e)
            }
            SendError::Message(e) => write!(f, "{e}"),
            SendError::Login(e) => write!(f, "the server refused the login: {e}"),
            SendError::NeedsReauthorization(e) => write!(f, "the OAuth2 account needs re-authorization: {e}"),
        }
    }
}

/// Open SMTP connections, reused between messages. uketsuke opens them itself (rather than
/// through lettre's transport) to set TCP_NODELAY: lettre writes the final "." of a message
/// separately, and with Nagle's algorithm that small write waits for the server's delayed
/// ACK, about 40 ms per message.
/// A message the server took: its answer, and the turn at the last word, held until the
/// outbox has recorded the message as sent.
struct Accepted {
    response: lettre::transport::smtp::response::Response,
    last_word: tokio::sync::OwnedMutexGuard<()>,
}

/// MAIL, RCPT and DATA for one message (several messages do this side by side, each on its
/// connection); the message's bytes, to be sent after DATA's 354.
async fn begin(
    conn: &mut AsyncSmtpConnection,
    envelope: &lettre::address::Envelope,
    message: &lettre::Message,
) -> Result<Vec<u8>, SendError> {
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
    use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
    let email = message.formatted();
    let mut options = Vec::new();
    let ascii = |a: &lettre::Address| AsRef::<str>::as_ref(a).is_ascii();
    let non_ascii = envelope.from().is_some_and(|a| !ascii(a)) || envelope.to().iter().any(|a| !ascii(a));
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(SendError::Unsendable("an address is not ASCII and the server has no SMTPUTF8".into()));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !email.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(SendError::Unsendable("the message is not ASCII and the server has no 8BITMIME".into()));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let step = async |conn: &mut AsyncSmtpConnection, command: String| match conn.command(command).await {
        Ok(_) => Ok(()),
        Err(e) => {
            // As lettre does: a refused step ends the transaction (RSET by QUIT).
            conn.abort().await;
            Err(while_sending(e))
        }
    };
    step(conn, Mail::new(envelope.from().cloned(), options).to_string()).await?;
    for to in envelope.to() {
        step(conn, Rcpt::new(to.clone(), vec![]).to_string()).await?;
    }
    step(conn, Data.to_string()).await?;
    Ok(email)
}

struct Connections {
    /// The turn at the end of DATA (see [`Accepted`]).
    last_word: Arc<tokio::sync::Mutex<()>>,
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
                TokenError::Unavailable(e) => {
                    SendError::Unavailable(format!("no OAuth2 token for {}: {e}", oauth.account))
                }
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
        Err(SendError::Login(format!("XOAUTH2 as {}, with a fresh OAuth2 token too: {refused}", oauth.username)))
    }

    /// [`Connections::set_up`] within the channel's timeout (twice `timeout_seconds` for the
    /// TLS handshake, the greeting, EHLO, STARTTLS and the login together): a server that takes
    /// the connection and never answers is a channel that is down, not a send that hangs.
    async fn connect(&self, oauth: Option<Credentials>) -> Result<AsyncSmtpConnection, SendError> {
        let limit = self.settings.timeout * 2;
        let server = &self.settings.server;
        match tokio::time::timeout(limit, self.set_up(oauth)).await {
            Ok(done) => done,
            Err(_) => Err(SendError::Unavailable(format!(
                "{}:{} did not finish greeting and login within {limit:?}",
                server.host, server.port
            ))),
        }
    }

    async fn set_up(&self, oauth: Option<Credentials>) -> Result<AsyncSmtpConnection, SendError> {
        let server = &self.settings.server;
        let hello = ClientId::default();
        let tcp = tokio::time::timeout(
            self.settings.timeout,
            tokio::net::TcpStream::connect((server.host.as_str(), server.port)),
        )
        .await
        .map_err(|_| SendError::Unavailable(format!("connecting to {}:{} timed out", server.host, server.port)))?
        .map_err(|e| SendError::Unavailable(format!("cannot connect to {}:{}: {e}", server.host, server.port)))?;
        // Whatever goes wrong before the login is about the server, never about a message: a
        // 421 or 554 greeting, EHLO, STARTTLS.
        let greeting = |e: lettre::transport::smtp::Error| {
            SendError::Unavailable(format!("{}:{} did not take the connection: {e}", server.host, server.port))
        };
        let _ = tcp.set_nodelay(true);
        let mut conn = match server.security {
            Security::Tls => {
                let config = super::tls::client_config(server.ca_file.as_deref()).map_err(SendError::Unavailable)?;
                let name = super::tls::server_name(&server.host).map_err(SendError::Unavailable)?;
                let tls = tokio_rustls::TlsConnector::from(config)
                    .connect(name, tcp)
                    .await
                    .map_err(|e| SendError::Unavailable(format!("TLS with {} failed: {e}", server.host)))?;
                let stream: Box<dyn AsyncTokioStream> = Box::new(MailStream::Tls(Box::new(tls)));
                AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(greeting)?
            }
            Security::StartTls | Security::Plain => {
                let stream: Box<dyn AsyncTokioStream> = Box::new(MailStream::Plain(tcp));
                let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &hello).await.map_err(greeting)?;
                if server.security == Security::StartTls {
                    conn.starttls(tls_parameters(&self.settings).map_err(SendError::Unavailable)?, &hello)
                        .await
                        .map_err(greeting)?;
                }
                conn
            }
        };
        // lettre reports the JSON challenge of a refused token as a client error, a wrong
        // password as a 535: both are a refused login.
        // Anything else while logging in (the connection failing, a timeout, a 454 "try again
        // later") is the channel being unavailable, probed at the short backoff.
        let refused = |e: lettre::transport::smtp::Error| {
            if e.is_permanent() || e.is_client() {
                SendError::Login(e.to_string())
            } else {
                SendError::Unavailable(format!("logging in to {} failed: {e}", server.host))
            }
        };
        if let Some(credentials) = oauth {
            conn.auth(&[Mechanism::Xoauth2], &credentials).await.map_err(refused)?;
        } else if let Some(login) = &server.login {
            let credentials =
                Credentials::new(login.username.clone(), login.password.read().map_err(SendError::Unavailable)?);
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await.map_err(refused)?;
        }
        Ok(conn)
    }

    /// Sends one message on an idle connection or a new one; keeps the connection for the
    /// next message unless it broke. An idle connection the server has closed meanwhile (its
    /// idle timeout, a restart) is no outage: the message is tried once more on a fresh one,
    /// and only that answer counts.
    async fn send(&self, message: &lettre::Message) -> Result<Accepted, SendError> {
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        // A connection whose token is about to expire is closed rather than reused.
        if let Some((conn, renew_at)) = reused.filter(|(_, at)| at.is_none_or(|at| Utc::now() < at)) {
            match self.send_on(conn, renew_at, message).await {
                Err(SendError::Broken(_)) => self.reset(),
                done => return done,
            }
        }
        let (conn, renew_at) = self.open().await?;
        self.send_on(conn, renew_at, message).await
    }

    async fn send_on(
        &self,
        mut conn: AsyncSmtpConnection,
        renew_at: Option<DateTime<Utc>>,
        message: &lettre::Message,
    ) -> Result<Accepted, SendError> {
        let limit = self.settings.timeout * 4;
        let hung = || SendError::Broken(format!("the server did not answer within {limit:?}"));
        let envelope = message.envelope();
        let prepared = match tokio::time::timeout(limit, begin(&mut conn, envelope, message)).await {
            Ok(Ok(email)) => email,
            Ok(Err(e)) => {
                if !conn.has_broken() {
                    self.keep(conn, renew_at);
                }
                return Err(e);
            }
            Err(_) => return Err(hung()),
        };
        // The last word: from the end of DATA until the caller has recorded the message as
        // sent, one message at a time. A crash can then find at most one message that the
        // server took and the store does not know of (sent again, with the same Message-ID).
        let last_word = self.last_word.clone().lock_owned().await;
        match tokio::time::timeout(limit, conn.message(&prepared)).await {
            Ok(Ok(response)) => {
                self.keep(conn, renew_at);
                Ok(Accepted { response, last_word })
            }
            // The server's answer to the message: the connection stays usable.
            Ok(Err(e)) if e.status().is_some() && !is_421(&e) => {
                self.keep(conn, renew_at);
                Err(SendError::Message(e))
            }
            // A 421 refuses the message and closes the channel: nothing was taken.
            Ok(Err(e)) if is_421(&e) => {
                conn.abort().await;
                Err(SendError::Broken(format!("the server closed the channel: {e}")))
            }
            // No clear answer after the final dot: the server may have taken the message. It
            // is never sent again at once (not on a fresh connection, not by the outage pause)
            // but on its own backoff, as an attempt; the connection is not used again.
            Ok(Err(e)) => {
                conn.abort().await;
                Err(SendError::Unconfirmed(format!("no clear answer to the end of the message: {e}")))
            }
            Err(_) => Err(SendError::Unconfirmed(format!("no answer to the end of the message within {limit:?}"))),
        }
    }

    /// Opens a connection and logs in, to learn whether the channel is back; the connection
    /// is kept for the first message.
    async fn probe(&self) -> Result<(), SendError> {
        let (conn, renew_at) = self.open().await?;
        self.keep(conn, renew_at);
        Ok(())
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
    let connections =
        Connections { last_word: Arc::default(), settings, idle: std::sync::Mutex::new(Vec::new()), tokens };
    connections.send(message).await.map(drop).map_err(|e| e.to_string())
}

/// Sends due outbox entries until shutdown.
pub async fn run(daemon: Arc<Daemon>, settings: SmtpSettings) {
    let mut shutdown = daemon.shutdown.clone();
    let mut states = StateLog::default();
    let mut store = match tokio::task::block_in_place(|| daemon.store.open()) {
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
    let connections = Connections {
        last_word: Arc::default(),
        settings: settings.clone(),
        idle: std::sync::Mutex::new(Vec::new()),
        tokens: tokens.clone(),
    };
    let mut token_backoff = super::Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
    // Entries under which a fresh connection broke, and how many times in a row.
    let mut breaks: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
    let claimant = daemon.instance.id.as_str();
    while !*shutdown.borrow() {
        let now = daemon.clock.now();
        let claimed_at = std::time::Instant::now();
        let jobs = match tokio::task::block_in_place(|| {
            store.claim_outbox(&daemon.instance.id, now, CLAIM, daemon.dead_after(), 32)
        }) {
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
                    let _ = tokio::task::block_in_place(|| {
                        store.mark_failed(job.id, claimant, &format!("compose: {e}"), None)
                    });
                }
            }
        }
        // Several at once over the pooled connections: one message's round trips do not hold
        // up the next.
        let connections = &connections;
        let within = sendable_within(daemon.dead_after());
        let mut results = futures::stream::iter(sendable.into_iter().map(|(job, message)| async move {
            if claimed_at.elapsed() > within {
                // Claimed too long ago to be sure it is still ours: claimed again next round.
                return (job, None);
            }
            let result = connections.send(&message).await;
            (job, Some(result))
        }))
        .buffer_unordered(PARALLEL_SENDS);
        // The channel's failure, if this batch met one: the entries it held stay as they were.
        let mut outage: Option<(Blame, String)> = None;
        // Each result is recorded as soon as it is known, so at most the messages in flight
        // could be sent again (with the same Message-ID) after a crash.
        while let Some((job, result)) = results.next().await {
            let Some(result) = result else { continue };
            let case = job.case.as_ref().map(|c| c.number.as_str()).unwrap_or("-").to_string();
            let now = daemon.clock.now();
            let result = match result {
                Err(SendError::Broken(e)) => {
                    // A connection that breaks under the same message again and again: that
                    // message, not the channel, is what fails.
                    let count = breaks.entry(job.id).or_insert(0);
                    *count += 1;
                    if *count >= BREAKS_BEFORE_BLAME {
                        breaks.remove(&job.id);
                        Err((Blame::Temporary, format!("{e} ({BREAKS_BEFORE_BLAME} times in a row with this message)")))
                    } else {
                        Err((Blame::Channel, e))
                    }
                }
                Err(e) => Err((e.blame(), e.to_string())),
                Ok(accepted) => Ok(accepted),
            };
            match result {
                Ok(Accepted { response, last_word }) => {
                    breaks.remove(&job.id);
                    daemon.metrics.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let marked = tokio::task::block_in_place(|| store.mark_sent(job.id, claimant, now));
                    // Recorded (or failed to be): the next message may have the last word.
                    drop(last_word);
                    if let Err(e) = marked {
                        error!(channel = "smtp", case = %case, "the message was sent but could not be recorded as sent (it may go again): {e}");
                    }
                    let _ = tokio::task::block_in_place(|| store.set_channel("smtp", "sending", true, None, now));
                    if states.changed("sending") {
                        info!(channel = "smtp", "SMTP is accepting messages");
                    }
                    info!(channel = "smtp", case = %case, kind = %job.kind, to = %job.recipient, message_id = %job.our_message_id, code = %response.code(), "sent");
                }
                Err((Blame::Permanent, answer)) => {
                    daemon.metrics.send_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    warn!(channel = "smtp", case = %case, kind = %job.kind, to = %job.recipient, "the server refused the message for good; parked: {answer}");
                    let _ = tokio::task::block_in_place(|| store.mark_failed(job.id, claimant, &answer, None));
                }
                Err((Blame::Temporary, answer)) => {
                    // The server answered, about this message: its own backoff.
                    daemon.metrics.send_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let attempts = job.attempts as u32 + 1;
                    let retry = if attempts >= outbox.max_attempts {
                        warn!(channel = "smtp", case = %case, kind = %job.kind, attempts, "giving up after {attempts} attempts; parked: {answer}");
                        None
                    } else {
                        let wait = outbox.retry_first.saturating_mul(1u32 << attempts.min(16)).min(outbox.retry_max);
                        warn!(channel = "smtp", case = %case, kind = %job.kind, to = %job.recipient, attempts, "the server put the message off, will retry in {} s: {answer}", wait.as_secs());
                        Some(now + ChronoDuration::from_std(wait).unwrap_or(ChronoDuration::seconds(60)))
                    };
                    let _ = tokio::task::block_in_place(|| store.mark_failed(job.id, claimant, &answer, retry));
                }
                Err((blame, answer)) => {
                    // The channel: the entry is left as it was, to go when the server is back.
                    daemon.metrics.send_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if outage.as_ref().is_none_or(|(b, _)| *b != Blame::Login) {
                        outage = Some((blame, answer));
                    }
                }
            }
        }
        drop(results);
        if let Some((blame, answer)) = outage {
            // Paused: nothing is sent until a probe gets in, then everything waiting goes.
            connections.reset();
            let began = std::time::Instant::now();
            let state = if blame == Blame::Login { "login refused" } else { "down" };
            if states.changed(&format!("{state}: {answer}")) {
                error!(
                    channel = "smtp",
                    "sending has paused, the SMTP server {}: {answer}; every message waits, none is counted as an attempt, and the server is tried again within {} s",
                    if blame == Blame::Login { "refuses our login" } else { "cannot be used" },
                    if blame == Blame::Login { PROBE_MAX_LOGIN } else { PROBE_MAX }.as_secs()
                );
            }
            let now = daemon.clock.now();
            let _ = tokio::task::block_in_place(|| store.set_channel("smtp", "down", false, Some(&answer), now));
            let cap = if blame == Blame::Login { PROBE_MAX_LOGIN } else { PROBE_MAX };
            let mut probes = super::Backoff::new(Duration::from_secs(1), cap);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(probes.next_delay()) => {}
                    _ = shutdown.changed() => break,
                }
                match connections.probe().await {
                    Ok(()) => {
                        info!(
                            channel = "smtp",
                            "the SMTP server is back after {} s; sending what waited",
                            began.elapsed().as_secs()
                        );
                        let now = daemon.clock.now();
                        let _ = tokio::task::block_in_place(|| store.set_channel("smtp", "sending", true, None, now));
                        states.changed("sending");
                        break;
                    }
                    Err(e) => {
                        let answer = e.to_string();
                        let now = daemon.clock.now();
                        let _ = tokio::task::block_in_place(|| {
                            store.set_channel("smtp", "down", false, Some(&answer), now)
                        });
                    }
                }
            }
        }
    }
    info!(channel = "smtp", "outbox worker stopped");
}
