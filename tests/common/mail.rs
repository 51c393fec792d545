//! A private mail stack per test (Dovecot and Postfix from `scripts/mailstack`, on loopback),
//! `uketsuke run` as a child process, and the helpers that put mail in and read it back:
//! shared by the mail and OAuth2 tests.

use super::{PortBlock, TestDir, die_with_test, repo};
use async_imap::Client;
use futures::TryStreamExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

pub const SUPPORT: &str = "support@uketsuke.example.jp";

/// A private mail stack in its own state folder and ports; stopped, and its folder removed,
/// when dropped (the folder is kept for a failed test with `UKETSUKE_KEEP_TEST_DIRS=1`: see
/// [`TestDir`]).
///
/// The folder is a [`TestDir`] and the ports a [`PortBlock`] reserved for this process: two
/// tests, two runs or two checkouts at once never share either.
pub struct MailStack {
    pub dir: PathBuf,
    pub imap: u16,
    pub imaps: u16,
    pub smtp: u16,
    pub smtps: u16,
    pub ca: PathBuf,
    /// What `scripts/mailstack start` is told through its environment (OAuth2, no IDLE).
    pub env: Vec<(String, String)>,
    ports: PortBlock,
    // Dropped after `Drop::drop` has stopped the daemons: the folder goes last.
    _folder: TestDir,
}

impl MailStack {
    /// A stack for the test `name` (letters, digits, `-`).
    pub fn new(name: &str) -> MailStack {
        MailStack::new_env(name, &[])
    }

    /// A stack whose Dovecot also takes OAuth2 tokens (XOAUTH2, OAUTHBEARER; Postfix through
    /// it), checked at `introspection` (RFC 7662 style).
    pub fn new_oauth(name: &str, introspection: Option<&str>) -> MailStack {
        let env: Vec<(&str, &str)> =
            introspection.map(|url| ("MAILSTACK_OAUTH2_INTROSPECTION_URL", url)).into_iter().collect();
        MailStack::new_env(name, &env)
    }

    /// A stack started with these `MAILSTACK_*` settings (see `scripts/mailstack`).
    pub fn new_env(name: &str, env: &[(&str, &str)]) -> MailStack {
        let folder = TestDir::new(&format!("mail-{name}"));
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        // Ports free a moment ago can still be taken by a program that does not ask
        // `PortBlock` (the start then fails saying so): another block, a few times.
        let mut failures = Vec::new();
        for _ in 0..5 {
            let ports = PortBlock::new(7);
            let out = start_command(&folder, ports.base, &env).output().expect(
                "scripts/mailstack (run the README's test command, scripts/test, which installs the mail servers)",
            );
            let base = ports.base;
            if out.status.success() {
                return MailStack {
                    dir: folder.to_path_buf(),
                    imap: base + 1,
                    imaps: base + 2,
                    smtp: base + 4,
                    smtps: base + 5,
                    ca: folder.join("tls/ca.pem"),
                    env,
                    ports,
                    _folder: folder,
                };
            }
            // A failed start has stopped what it started: the folder is reused with other ports.
            let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(
                ["already in use", "not listening after"].iter().any(|w| said.contains(w)),
                "mail stack did not start: {said}"
            );
            failures.push(format!("PORT_BASE {base}: {said}"));
        }
        panic!("mail stack did not start in 5 tries, every time for a port in use:\n{}", failures.join("\n"));
    }

    /// Same as [`MailStack::new`]: `port_base` is not used any more (ports are reserved per
    /// run, see [`PortBlock`]); kept so that callers written for fixed ports still build.
    pub fn start(name: &str, _port_base: u16) -> MailStack {
        MailStack::new(name)
    }

    /// Same as [`MailStack::new_oauth`]; `port_base` is not used (see [`MailStack::start`]).
    pub fn start_with(name: &str, _port_base: u16, introspection: Option<&str>) -> MailStack {
        MailStack::new_oauth(name, introspection)
    }

    /// Same as [`MailStack::new_env`]; `port_base` is not used (see [`MailStack::start`]).
    pub fn start_env(name: &str, _port_base: u16, env: &[(&str, &str)]) -> MailStack {
        MailStack::new_env(name, env)
    }

    /// The PORT_BASE the stack was started with (its ports are base + 1 to base + 6).
    pub fn port_base(&self) -> u16 {
        self.ports.base
    }

    /// Keeps the stack's folder (logs, mail) after it is stopped: see [`TestDir::keep`].
    pub fn keep_folder(&mut self) {
        self._folder.keep();
    }

    pub fn stop_all(&self) {
        let _ = Command::new(repo().join("scripts/mailstack"))
            .args(["stop", self.dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .output();
    }

    pub fn restart(&self) {
        self.stop_all();
        let out = start_command(&self.dir, self.ports.base, &self.env).output().expect("restart");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn postfix(&self, action: &str) {
        let out = Command::new("postfix")
            .args(["-c", self.dir.join("postfix/etc").to_str().unwrap(), action])
            .stdin(Stdio::null())
            .output()
            .expect("postfix");
        assert!(out.status.success(), "postfix {action}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// `scripts/mailstack start DIR BASE` with the test domains and `env`.
fn start_command(dir: &Path, base: u16, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(repo().join("scripts/mailstack"));
    cmd.arg("start")
        .arg(dir)
        .arg(base.to_string())
        .env("MAILSTACK_EXTRA_DOMAINS", "ops.acme.example.jp")
        .stdin(Stdio::null());
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

impl Drop for MailStack {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The first sections of a test's main configuration: the profile, the shipped templates, our
/// addresses and the store; the test adds its channels.
pub fn config_head(profile: &str, db: &Path) -> String {
    format!(
        r#"[policy]
profile = "{profile}"
[files]
templates = "{templates}"
[mail]
support_address = "{SUPPORT}"
message_id_domain = "uketsuke.example.jp"
team_address = "team@uketsuke.example.jp"
oncall_address = "oncall@uketsuke.example.jp"
ack_rate_per_hour = 1000
[store]
path = "{db}"
"#,
        templates = repo().join("templates").display(),
        db = db.display(),
    )
}

/// A private token key in `dir/secrets/token-key` and the channels of an OAuth2 set-up:
/// `token_key_file` (ending the `[store]` of [`config_head`]), `[imap]` over IMAPS and `[smtp]`
/// with STARTTLS, both logging in as the support mailbox with `[oauth.{account}]`.
pub fn oauth_channels(stack: &MailStack, dir: &Path, account: &str, imap_mechanism: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir.join("secrets")).expect("mkdir");
    // base64 of 32 bytes, as `openssl rand -base64 32` writes it; private.
    std::fs::write(dir.join("secrets/token-key"), "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=\n").expect("token key");
    std::fs::set_permissions(dir.join("secrets/token-key"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    format!(
        r#"token_key_file = "secrets/token-key"
[imap]
enabled = true
host = "127.0.0.1"
port = {imaps}
security = "tls"
ca_file = "{ca}"
username = "{SUPPORT}"
oauth = "{account}"
mechanism = "{imap_mechanism}"
idle_seconds = 60
[smtp]
enabled = true
host = "127.0.0.1"
port = {smtp}
security = "starttls"
ca_file = "{ca}"
username = "{SUPPORT}"
oauth = "{account}"
[outbox]
retry_first_seconds = 1
retry_max_seconds = 2
max_attempts = 1000
"#,
        imaps = stack.imaps,
        smtp = stack.smtp,
        ca = stack.ca.display(),
    )
}

/// `uketsuke run`, killed when dropped (and by the kernel if the test process is killed: see
/// [`die_with_test`]).
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, clock: Option<&Path>) -> Daemon {
        let log = config.parent().unwrap().join(format!(
            "daemon-{}.log",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
        die_with_test(&mut cmd).args(["run", "--config", config.to_str().unwrap()]);
        if let Some(clock) = clock {
            cmd.args(["--clock-file", clock.to_str().unwrap()]);
        }
        let file = std::fs::File::create(&log).expect("log");
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(file);
        Daemon { child: cmd.spawn().expect("uketsuke run"), log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn terminate(mut self) -> String {
        unsafe_kill(self.child.id(), "TERM");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "uketsuke run exited with {status}: {}", self.log());
                return self.log();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("uketsuke run did not stop on SIGTERM: {}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn unsafe_kill(pid: u32, signal: &str) {
    let _ = Command::new("kill").args([format!("-{signal}"), pid.to_string()]).status();
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

pub async fn imap_login(
    stack: &MailStack,
    user: &str,
) -> async_imap::Session<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = uketsuke::channels::tls::client_config(Some(&stack.ca)).expect("tls");
    let tcp = TcpStream::connect(("127.0.0.1", stack.imaps)).await.expect("connect");
    let tls = TlsConnector::from(config).connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("tls");
    let mut client = Client::new(tls);
    client.read_response().await.expect("greeting");
    client.login(user, "secret").await.map_err(|(e, _)| e).expect("login")
}

/// Puts a message into `user`'s INBOX with the given arrival time (INTERNALDATE), as the
/// mail server does on delivery. Dovecot ignores arrival times in the future, so every test
/// uses past dates (the week of 2026-11-20).
pub fn append(stack: &MailStack, user: &str, raw: &[u8], internal: &str) {
    runtime().block_on(async {
        let mut session = imap_login(stack, user).await;
        let date = format!("\"{internal}\"");
        tokio::time::timeout(Duration::from_secs(20), session.append("INBOX", None, Some(&date), raw))
            .await
            .expect("APPEND timed out")
            .expect("append");
        session.logout().await.ok();
    });
}

/// A message as read back from a mailbox.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub auto_submitted: String,
    pub body: String,
    pub attachments: usize,
}

pub fn mailbox(stack: &MailStack, user: &str) -> Vec<Received> {
    let rt = runtime();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), async {
            let mut session = imap_login(stack, user).await;
            let mailbox = session.examine("INBOX").await.expect("examine");
            let mut out = Vec::new();
            if mailbox.exists > 0 {
                let fetched: Vec<_> =
                    session.fetch("1:*", "BODY.PEEK[]").await.expect("fetch").try_collect().await.expect("fetch");
                for f in fetched {
                    let raw = f.body().unwrap_or_default();
                    let m = mail_parser::MessageParser::default().parse(raw).expect("parse");
                    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_string()).unwrap_or_default();
                    out.push(Received {
                        subject: m.subject().unwrap_or("").to_string(),
                        message_id: header("Message-ID"),
                        in_reply_to: header("In-Reply-To"),
                        auto_submitted: header("Auto-Submitted"),
                        body: m.body_text(0).map(|b| b.to_string()).unwrap_or_default(),
                        attachments: m.attachment_count(),
                    });
                }
            }
            session.logout().await.ok();
            out
        })
        .await
    })
    .expect("reading a mailbox timed out")
}

pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(started.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn report(from: &str, id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub fn clock_file(stack: &MailStack, name: &str, at: &str) -> PathBuf {
    let path = stack.dir.join(format!("{name}.clock"));
    std::fs::write(&path, at).expect("clock");
    path
}
