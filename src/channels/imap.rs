//! Watching the support mailbox over IMAP.
//!
//! On every (re)connect uketsuke catches up on everything after its checkpoint (UIDVALIDITY
//! and the last UID recorded, kept in the store in the same transaction as the messages), then
//! waits in IDLE (re-issued before the server's timeout) or polls where IDLE is not offered.
//! A message is flagged or moved only after it is on disk. Neither `\Seen` (people read the
//! mailbox) nor a date window is ever used to decide what is new.

use super::stream::MailStream;
use super::{Backoff, StateLog, tls};
use crate::config::channels::{AfterRecording, ImapSettings, Security};
use crate::daemon::Daemon;
use crate::oauth::sasl::SaslClient;
use crate::oauth::{TokenError, TokenSource};
use crate::record::{self, AnyStore, Checkpoint, Store};
use crate::understand::Channel;
use async_imap::{Client, Session};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tracing::{error, info, warn};

type ImapSession = Session<MailStream>;

/// About how much mail one fetch-and-record batch holds in memory.
const BATCH_BYTES: usize = 32 << 20;

/// Runs the intake until shutdown: watches the mailbox while this instance holds its lease,
/// and stands by while another instance does.
pub async fn run(daemon: Arc<Daemon>, settings: ImapSettings) {
    let mut store = match tokio::task::block_in_place(|| daemon.store.open()) {
        Ok(s) => s,
        Err(e) => {
            error!(channel = %settings.channel, "cannot open the store: {e}");
            return;
        }
    };
    let key = format!(
        "{}@{}:{}/{}",
        settings.server.username(),
        settings.server.host,
        settings.server.port,
        settings.mailbox
    );
    let lease = format!("imap:{key}");
    let ttl = daemon.rules().config.store.lease;
    loop {
        let Some(holding) =
            crate::lease::hold(&mut store, &daemon.store, &lease, &daemon.instance, ttl, &daemon.shutdown).await
        else {
            break;
        };
        info!(channel = %settings.channel, mailbox = %settings.mailbox, term = holding.fence.term, "this instance watches the mailbox");
        watch(&daemon, &settings, &key, &mut store, &holding).await;
        if *daemon.shutdown.borrow() {
            holding.release(&daemon.store).await;
            break;
        }
        if holding.lost() {
            warn!(channel = %settings.channel, mailbox = %settings.mailbox, "stopped watching the mailbox: its lease is no longer this instance's");
        }
    }
    info!(channel = %settings.channel, "IMAP intake stopped");
}

/// Watches the mailbox until `holding` says stop (shutdown, or the lease lost).
async fn watch(
    daemon: &Daemon,
    settings: &ImapSettings,
    key: &str,
    store: &mut AnyStore,
    holding: &crate::lease::Holding,
) {
    let mut shutdown = holding.stop.clone();
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
    let mut states = StateLog::default();
    let fence = &holding.fence;
    // When the session was last ended to renew its token, to log how long mail waited.
    let mut renewing: Option<std::time::Instant> = None;
    // Whether this mailbox counts in the daemon's gauge of IMAP sessions up.
    let mut up = false;
    while !*shutdown.borrow() {
        let ended =
            session(daemon, settings, key, store, fence, &shutdown, &mut backoff, &mut states, &mut renewing, &mut up)
                .await;
        if !matches!(ended, Ok(Ended::TokenRenewal)) && std::mem::take(&mut up) {
            daemon.metrics.imap_connected.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        match ended {
            Ok(Ended::Shutdown) => break,
            Ok(Ended::TokenRenewal) => {
                info!(
                    channel = %settings.channel,
                    "re-opening the IMAP session with a fresh OAuth2 token before the old one expires"
                );
                renewing = Some(std::time::Instant::now());
            }
            Err(SessionError::NeedsReauthorization(source, reason)) => {
                if states.changed(&format!("needs re-authorization: {reason}")) {
                    error!(channel = %settings.channel, mailbox = %settings.mailbox, account = %source.account.name, "IMAP intake has stopped: the OAuth2 account needs re-authorization ({reason}); run `uketsuke auth login {}`", source.account.name);
                }
                let now = daemon.clock.now();
                let _ = tokio::task::block_in_place(|| {
                    store.set_channel(&settings.channel, "needs re-authorization", false, Some(&reason), now)
                });
                // No retries against the provider: wait for a person to sign in again.
                source.wait_for_reauthorization(&mut shutdown).await;
                backoff.reset();
            }
            Err(SessionError::Failed(e)) => {
                if states.changed(&format!("down: {e}")) {
                    error!(channel = %settings.channel, mailbox = %settings.mailbox, "IMAP intake is down, retrying with backoff: {e}");
                }
                let now = daemon.clock.now();
                let _ =
                    tokio::task::block_in_place(|| store.set_channel(&settings.channel, "down", false, Some(&e), now));
                let delay = backoff.next_delay();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
    if std::mem::take(&mut up) {
        daemon.metrics.imap_connected.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Why a session ended without an error.
enum Ended {
    Shutdown,
    /// The OAuth2 token is about to expire (Exchange Online ends the session when it does):
    /// log in again with a fresh one.
    TokenRenewal,
}

/// Why a session failed.
enum SessionError {
    Failed(String),
    /// The OAuth2 account needs a person: stop asking the provider and the server.
    NeedsReauthorization(Arc<TokenSource>, String),
}

impl From<String> for SessionError {
    fn from(e: String) -> Self {
        SessionError::Failed(e)
    }
}

async fn connect(settings: &ImapSettings) -> Result<Client<MailStream>, String> {
    let server = &settings.server;
    let addr = (server.host.as_str(), server.port);
    let tcp = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect(addr))
        .await
        .map_err(|_| format!("connecting to {}:{} timed out", server.host, server.port))?
        .map_err(|e| format!("cannot connect to {}:{}: {e}", server.host, server.port))?;
    let tls = || -> Result<tokio_rustls::TlsConnector, String> {
        Ok(tokio_rustls::TlsConnector::from(tls::client_config(server.ca_file.as_deref())?))
    };
    let stream = match server.security {
        Security::Plain => MailStream::Plain(tcp),
        Security::Tls => {
            let s = tls()?
                .connect(tls::server_name(&server.host)?, tcp)
                .await
                .map_err(|e| format!("TLS with {} failed: {e}", server.host))?;
            MailStream::Tls(Box::new(s))
        }
        Security::StartTls => {
            // Greeting and STARTTLS on the plain connection, then TLS over it.
            let mut reader = BufReader::new(tcp);
            let mut line = String::new();
            read_line(&mut reader, &mut line).await?;
            if !line.starts_with("* OK") {
                return Err(format!("unexpected IMAP greeting: {}", line.trim()));
            }
            reader.get_mut().write_all(b"s1 STARTTLS\r\n").await.map_err(|e| format!("STARTTLS failed: {e}"))?;
            loop {
                line.clear();
                read_line(&mut reader, &mut line).await?;
                if line.starts_with("s1 ") {
                    break;
                }
            }
            if !line.starts_with("s1 OK") {
                return Err(format!("the server refused STARTTLS: {}", line.trim()));
            }
            let tcp = reader.into_inner();
            let s = tls()?
                .connect(tls::server_name(&server.host)?, tcp)
                .await
                .map_err(|e| format!("TLS with {} failed: {e}", server.host))?;
            // After STARTTLS there is no new greeting.
            return Ok(Client::new(MailStream::Tls(Box::new(s))));
        }
    };
    let mut client = Client::new(stream);
    let greeting = tokio::time::timeout(Duration::from_secs(30), client.read_response())
        .await
        .map_err(|_| "the server sent no greeting within 30 s".to_string())?
        .map_err(|e| format!("reading the greeting failed: {e}"))?;
    if greeting.is_none() {
        return Err("the server closed the connection before greeting".into());
    }
    Ok(client)
}

async fn read_line(reader: &mut BufReader<TcpStream>, line: &mut String) -> Result<(), String> {
    let n = tokio::time::timeout(Duration::from_secs(30), reader.read_line(line))
        .await
        .map_err(|_| "the server did not answer within 30 s".to_string())?
        .map_err(|e| format!("reading from the server failed: {e}"))?;
    if n == 0 { Err("the server closed the connection".into()) } else { Ok(()) }
}

/// Logs in with the password, or with an OAuth2 token: a refused token is forgotten, a
/// fresh one fetched and tried once more. Returns the session and the token's renewal time.
async fn login(daemon: &Daemon, settings: &ImapSettings) -> Result<(ImapSession, Option<DateTime<Utc>>), SessionError> {
    if let Some(oauth) = &settings.server.oauth {
        let source = daemon.token_source(&oauth.account)?;
        let mut refused = String::new();
        for attempt in 0..2 {
            let token = match source.token().await {
                Ok(token) => token,
                Err(TokenError::NeedsReauthorization(reason)) => {
                    return Err(SessionError::NeedsReauthorization(source.clone(), reason));
                }
                Err(TokenError::Unavailable(e)) => {
                    return Err(SessionError::Failed(format!("no OAuth2 token for {}: {e}", oauth.account)));
                }
            };
            let client = connect(settings).await?;
            let mut sasl = SaslClient::new(oauth.mechanism, &oauth.username, &token.secret);
            let mechanism = oauth.mechanism.name();
            match client.authenticate(mechanism, &mut sasl).await {
                Ok(session) => return Ok((session, Some(token.renew_at()))),
                Err((e, _)) => {
                    refused = match sasl.error.take() {
                        Some(json) => format!("{e}; the server said {json}"),
                        None => e.to_string(),
                    };
                    warn!(channel = %settings.channel, account = %oauth.account, attempt = attempt + 1, "the server refused the OAuth2 token ({mechanism} as {}): {refused}", oauth.username);
                    source.rejected(&token).await;
                }
            }
        }
        return Err(SessionError::Failed(format!(
            "the server refused {mechanism} login as {} with a fresh OAuth2 token too: {refused}",
            oauth.username,
            mechanism = oauth.mechanism.name()
        )));
    }
    let client = connect(settings).await?;
    let login = settings
        .server
        .login
        .as_ref()
        .ok_or("IMAP needs username and password_file or password_env, or oauth".to_string())?;
    let password = login.password.read()?;
    let session = client
        .login(&login.username, &password)
        .await
        .map_err(|(e, _)| format!("login as {} was refused: {e}", login.username))?;
    Ok((session, None))
}

async fn session(
    daemon: &Daemon,
    settings: &ImapSettings,
    key: &str,
    store: &mut AnyStore,
    fence: &crate::lease::Fence,
    stop: &tokio::sync::watch::Receiver<bool>,
    backoff: &mut Backoff,
    states: &mut StateLog,
    renewing: &mut Option<std::time::Instant>,
    up: &mut bool,
) -> Result<Ended, SessionError> {
    let mut shutdown = stop.clone();
    let (mut session, renew_at) = login(daemon, settings).await?;
    let idle = session.capabilities().await.map_err(|e| format!("CAPABILITY failed: {e}"))?.has_str("IDLE");
    let mailbox =
        session.select(&settings.mailbox).await.map_err(|e| format!("cannot select {}: {e}", settings.mailbox))?;
    let uidvalidity = mailbox.uid_validity.unwrap_or(0);
    backoff.reset();
    if !std::mem::replace(up, true) {
        daemon.metrics.imap_connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if states.changed("connected") {
        info!(channel = %settings.channel, mailbox = %settings.mailbox, idle, "IMAP intake connected");
    }
    // New mail the server announces between our catch-up fetch and the start of IDLE
    // arrives as an unsolicited EXISTS; it must not wait for the next IDLE round.
    let unsolicited = session.unsolicited_responses.clone();
    loop {
        while unsolicited.try_recv().is_ok() {}
        // Stopped (the lease lost, or shutdown) while in IDLE: leave before asking the store
        // anything, as a store that no longer answers is one reason to stop.
        if *shutdown.borrow() {
            let _ = session.logout().await;
            return Ok(Ended::Shutdown);
        }
        fetch_new(daemon, settings, key, fence, uidvalidity, &mut session, store).await?;
        let now = daemon.clock.now();
        let _ = tokio::task::block_in_place(|| store.set_channel(&settings.channel, "connected", true, None, now));
        if let Some(started) = renewing.take() {
            info!(
                channel = %settings.channel,
                gap_ms = started.elapsed().as_millis() as u64,
                "IMAP session re-opened with a fresh OAuth2 token and caught up"
            );
        }
        if *shutdown.borrow() {
            let _ = session.logout().await;
            return Ok(Ended::Shutdown);
        }
        // With an OAuth2 token, IDLE ends in time to log in again before it expires.
        let wait = match renew_at {
            Some(at) => {
                let left = (at - Utc::now()).to_std().unwrap_or_default();
                if left.is_zero() {
                    let _ = session.logout().await;
                    return Ok(Ended::TokenRenewal);
                }
                left.min(settings.idle_interval)
            }
            None => settings.idle_interval,
        };
        if idle {
            let mut handle = session.idle();
            handle.init().await.map_err(|e| format!("IDLE failed: {e}"))?;
            let mut announced = false;
            while let Ok(response) = unsolicited.try_recv() {
                announced |= matches!(
                    response,
                    async_imap::types::UnsolicitedResponse::Exists(_)
                        | async_imap::types::UnsolicitedResponse::Recent(_)
                );
            }
            if !announced {
                let (idle_wait, stop) = handle.wait_with_timeout(wait);
                tokio::select! {
                    r = idle_wait => { r.map_err(|e| format!("IDLE failed: {e}"))?; }
                    // Servers answer keep-alives inside IDLE, which resets the library's
                    // timeout: the hard limit is ours.
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                drop(stop);
            }
            session = handle.done().await.map_err(|e| format!("ending IDLE failed: {e}"))?;
        } else {
            tokio::select! {
                _ = tokio::time::sleep(settings.poll_interval.min(wait)) => {}
                _ = shutdown.changed() => {}
            }
            session.noop().await.map_err(|e| format!("NOOP failed: {e}"))?;
        }
    }
}

/// Fetches and records everything after the checkpoint, batch by batch: each batch is one
/// transaction that also moves the checkpoint; flags or moves follow the commit.
async fn fetch_new(
    daemon: &Daemon,
    settings: &ImapSettings,
    key: &str,
    fence: &crate::lease::Fence,
    uidvalidity: u32,
    session: &mut ImapSession,
    store: &mut AnyStore,
) -> Result<(), String> {
    let checkpoint = tokio::task::block_in_place(|| store.checkpoint(key)).map_err(|e| e.to_string())?;
    let after = match checkpoint {
        Some(c) if c.uidvalidity == uidvalidity => c.uid,
        Some(c) => {
            warn!(
                channel = %settings.channel,
                old = c.uidvalidity,
                new = uidvalidity,
                "UIDVALIDITY changed: reading the whole mailbox again (duplicates are recognised)"
            );
            0
        }
        None => 0,
    };
    let found = session
        .uid_search(format!("UID {}:*", after.saturating_add(1)))
        .await
        .map_err(|e| format!("UID SEARCH failed: {e}"))?;
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
    uids.sort_unstable();
    if uids.is_empty() {
        return Ok(());
    }
    // Sizes first, so a batch holds at most `batch` messages and about BATCH_BYTES of mail:
    // a mailbox full of 50 MB attachments is fetched one message at a time, not a hundred.
    // In slices, keeping only the numbers: each response the library returns holds a buffer
    // of its own, and ten thousand of them at once would cost tens of megabytes.
    let mut sizes: std::collections::HashMap<u32, u32> = std::collections::HashMap::with_capacity(uids.len());
    for slice in uids.chunks(500) {
        let set = slice.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let fetched: Vec<_> = session
            .uid_fetch(&set, "(UID RFC822.SIZE)")
            .await
            .map_err(|e| format!("UID FETCH failed: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("UID FETCH failed: {e}"))?;
        sizes.extend(fetched.iter().filter_map(|f| Some((f.uid?, f.size.unwrap_or(0)))));
    }
    let mut chunks: Vec<Vec<u32>> = Vec::new();
    let mut bytes = 0usize;
    for uid in uids {
        let size = sizes.get(&uid).copied().unwrap_or(0) as usize;
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < settings.batch.max(1) && bytes + size <= BATCH_BYTES => {
                chunk.push(uid);
                bytes += size;
            }
            _ => {
                chunks.push(vec![uid]);
                bytes = size;
            }
        }
    }
    for chunk in &chunks {
        let set = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let fetched: Vec<_> = session
            .uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])")
            .await
            .map_err(|e| format!("UID FETCH failed: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("UID FETCH failed: {e}"))?;
        let now = daemon.clock.now();
        // One set of rules for the whole batch, even if a reload comes in the middle.
        let rules = daemon.rules();
        let mut items: Vec<(u32, record::Prepared)> = fetched
            .iter()
            .filter_map(|f| {
                let uid = f.uid?;
                let raw = f.body().unwrap_or_default().to_vec();
                let received = f.internal_date().map(|t| t.with_timezone(&Utc));
                if received.is_none() {
                    warn!(channel = %settings.channel, uid, "the server sent no INTERNALDATE; using the message's own dates");
                }
                Some((uid, record::prepare(raw, Channel::Mail, received, now, &rules.config, &rules.calendars)))
            })
            .collect();
        // The server's responses are no longer needed once each body is copied out.
        drop(fetched);
        items.sort_by_key(|(uid, _)| *uid);
        let last = *chunk.last().unwrap_or(&after);
        if let Some((_, item)) = items.last_mut() {
            item.checkpoint = Some(Checkpoint { mailbox: key.to_string(), uidvalidity, uid: last });
        }
        let outcomes = tokio::task::block_in_place(|| {
            store.write(|tx| {
                fence.check(tx)?;
                let outcomes = items
                    .iter()
                    .map(|(_, p)| record::record(tx, p, &rules.config, &rules.calendars, now))
                    .collect::<record::Result<Vec<_>>>()?;
                if items.is_empty() {
                    tx.set_checkpoint(&Checkpoint { mailbox: key.to_string(), uidvalidity, uid: last }, now)?;
                }
                Ok(outcomes)
            })
        })
        .map_err(|e| format!("recording failed: {e}"))?;
        for ((uid, item), outcome) in items.iter().zip(&outcomes) {
            if !outcome.duplicate {
                daemon.metrics.count_report("mail", &outcome.action);
            }
            let message_id = item.understood.as_ref().ok().and_then(|(r, _)| r.message_id.clone()).unwrap_or_default();
            info!(channel = %settings.channel, uid, case = outcome.case.as_deref().unwrap_or("-"), message_id = %message_id, received = %item.received_at.to_rfc3339(), action = %outcome.action, duplicate = outcome.duplicate, "recorded");
        }
        daemon.outbox_wake.notify_one();
        // On disk: now mark them in the mailbox.
        let marked = match &settings.after {
            AfterRecording::Flag(flag) => match session.uid_store(&set, format!("+FLAGS.SILENT ({flag})")).await {
                // The responses must be read to the end before the next command.
                Ok(responses) => responses.try_collect::<Vec<_>>().await.map(drop),
                Err(e) => Err(e),
            },
            AfterRecording::Move(folder) => session.uid_mv(&set, folder).await,
        };
        if let Err(e) = marked {
            warn!(
                channel = %settings.channel,
                "recorded, but marking the messages in the mailbox failed (they will not be fetched again): {e}"
            );
        }
    }
    Ok(())
}
