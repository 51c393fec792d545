//! The `uketsuke` command line. Each subcommand is a small function over the library; the
//! binary in `src/main.rs` only calls [`main`].
//!
//! Exit status: 0 success, 1 the input could not be read, 2 the configuration or the command
//! line is wrong.

mod cases;

use crate::config::{Config, Overrides, Problem};
use crate::decide::{self, Calendar, Calendars};
use crate::understand::{self, FormSubmission, Report};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "uketsuke",
    version,
    about = "Support-report intake: reads reports, opens cases, and routes them by the support contract's business calendar."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Understand one report and show what would be decided, as one JSON object.
    Inspect {
        /// Policy profile to use instead of the one the configuration selects.
        #[arg(long)]
        policy: Option<String>,
        /// Main configuration file (default: the configuration built into the binary).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Customers file to use instead of the one the configuration names.
        #[arg(long)]
        customers: Option<PathBuf>,
        /// Time of receipt (RFC 3339); default: the newest Received header, else Date.
        #[arg(long)]
        at: Option<String>,
        /// The input is a JSON form submission, not a mail message.
        #[arg(long)]
        form: bool,
        /// With --form: decide as for the signed webhook, whose partner vouches for the sender
        /// (a submission without it, or without `"signed": true` in the file, is decided as
        /// one from the unsigned page: its sender is unproven and it never pages on-call).
        #[arg(long, requires = "form")]
        signed: bool,
        /// The message file, or - for standard input.
        file: PathBuf,
    },
    /// Put messages through the whole pipeline into the store (as the IMAP channel will).
    Ingest {
        #[command(flatten)]
        store: StoreOptions,
        /// Policy profile to use instead of the one the configuration selects.
        #[arg(long)]
        policy: Option<String>,
        /// Time of receipt (RFC 3339); default: the newest Received header, else Date, else now.
        #[arg(long)]
        at: Option<String>,
        /// The inputs are JSON form submissions.
        #[arg(long)]
        form: bool,
        /// Commit this many items per transaction.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// One JSON object per item.
        #[arg(long)]
        json: bool,
        /// Message files, or - for standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run the daemon: IMAP intake, SMTP acknowledgments, the scheduler (until SIGTERM).
    Run {
        #[command(flatten)]
        store: StoreOptions,
        /// Log lines as JSON objects instead of text.
        #[arg(long)]
        log_json: bool,
        /// Read the current time from this file (RFC 3339) instead of the system clock; for
        /// tests that move time forward.
        #[arg(long)]
        clock_file: Option<PathBuf>,
    },
    /// What runs, what waits, and what is wrong: channels, outbox, held and quarantined cases.
    Status {
        #[command(flatten)]
        store: StoreOptions,
        #[arg(long)]
        json: bool,
    },
    /// OAuth2 accounts of the mailbox (Microsoft 365, Google): sign in, see their state.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// The cases on record.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// Check a configuration file and every file it names; report every problem.
    CheckConfig {
        /// The main configuration file, e.g. config/uketsuke.toml.
        file: PathBuf,
    },
    /// List the closed days (national and company holidays) of a year.
    Calendar {
        /// Policy profile whose calendar to list.
        #[arg(long)]
        policy: Option<String>,
        /// Main configuration file (default: the configuration built into the binary).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print a JSON array of {date, name, kind}.
        #[arg(long)]
        json: bool,
        year: i32,
    },
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Sign an [oauth.NAME] account in: device code (Microsoft delegated), browser on
    /// 127.0.0.1 (Google), or a token check (app-only); stores the refresh token, sealed.
    Login {
        #[command(flatten)]
        store: StoreOptions,
        /// The account: the NAME of an [oauth.NAME] table.
        account: String,
    },
    /// Each account: token expiry, refresh token stored, secret or certificate expiry, and
    /// whether it needs re-authorization (exit 1 if any account needs attention).
    Status {
        #[command(flatten)]
        store: StoreOptions,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct StoreOptions {
    /// Main configuration file (default: $UKETSUKE_CONFIG, else the first of
    /// ./config/uketsuke.toml and /etc/uketsuke/uketsuke.toml that exists).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The store: a SQLite file, or a postgres:// URL (default: [store] of the configuration).
    #[arg(long)]
    db: Option<PathBuf>,
}

impl StoreOptions {
    fn into_args(self, profile: Option<String>) -> cases::StoreArgs {
        cases::StoreArgs { config: self.config, db: self.db, overrides: Overrides { profile, customers: None } }
    }
}

#[derive(Subcommand)]
enum CasesCommand {
    /// List cases.
    List {
        #[command(flatten)]
        store: StoreOptions,
        /// Only cases in this state (await_info, not_covered, dispatched, escalated, held, quarantined).
        #[arg(long)]
        state: Option<String>,
        /// Only this customer's cases.
        #[arg(long)]
        customer: Option<String>,
        /// Only cases whose first response is due before this time (RFC 3339).
        #[arg(long)]
        due_before: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one case: its items, messages, outbox and history.
    Show {
        #[command(flatten)]
        store: StoreOptions,
        case: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a case's priority; the due time is recomputed from the same clock start.
    Reclassify {
        #[command(flatten)]
        store: StoreOptions,
        case: String,
        priority: String,
        /// Why (kept with the case).
        #[arg(long)]
        reason: String,
        /// Who (default: $USER).
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Hand a held case over to the team now.
    Release {
        #[command(flatten)]
        store: StoreOptions,
        case: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// Put a quarantined message through understanding again (after a fix).
    Reprocess {
        #[command(flatten)]
        store: StoreOptions,
        case: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// Release every held case whose time has come (one scheduler tick).
    ReleaseDue {
        #[command(flatten)]
        store: StoreOptions,
        /// The time to release at (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if !matches!(cli.command, Command::Run { .. }) {
        restore_sigpipe();
    }
    match cli.command {
        Command::Inspect { policy, config, customers, at, form, signed, file } => {
            let input = match (form, signed) {
                (false, _) => Input::Mail,
                (true, signed) => Input::Form { signed },
            };
            inspect(config.as_deref(), Overrides { profile: policy, customers }, at.as_deref(), input, &file)
        }
        Command::CheckConfig { file } => check_config(&file),
        Command::Ingest { store, policy, at, form, batch, json, files } => {
            cases::ingest(&store.into_args(policy), &files, form, at.as_deref(), batch, json)
        }
        Command::Run { store, log_json, clock_file } => run(store.into_args(None), log_json, clock_file),
        Command::Status { store, json } => cases::status(&store.into_args(None), json),
        Command::Auth { command } => match command {
            AuthCommand::Login { store, account } => cases::auth_login(&store.into_args(None), &account),
            AuthCommand::Status { store, json } => cases::auth_status(&store.into_args(None), json),
        },
        Command::Cases { command } => match command {
            CasesCommand::List { store, state, customer, due_before, json } => {
                cases::list(&store.into_args(None), state.as_deref(), customer, due_before.as_deref(), json)
            }
            CasesCommand::Show { store, case, json } => cases::show(&store.into_args(None), &case, json),
            CasesCommand::Reclassify { store, case, priority, reason, by, json } => {
                cases::reclassify(&store.into_args(None), &case, &priority, &reason, by, json)
            }
            CasesCommand::Release { store, case, by } => cases::release(&store.into_args(None), &case, by),
            CasesCommand::Reprocess { store, case, by } => cases::reprocess(&store.into_args(None), &case, by),
            CasesCommand::ReleaseDue { store, at } => cases::release_due(&store.into_args(None), at.as_deref()),
        },
        Command::Calendar { policy, config, json, year } => {
            calendar(config.as_deref(), Overrides { profile: policy, customers: None }, json, year)
        }
    }
}

fn load(config: Option<&Path>, overrides: &Overrides) -> Result<Config, ExitCode> {
    Config::load(config, overrides).map_err(|problems| {
        print_problems(&problems);
        ExitCode::from(2)
    })
}

fn print_problems(problems: &[Problem]) {
    for p in problems {
        eprintln!("{p}");
    }
    let n = problems.len();
    eprintln!(
        "uketsuke: {n} configuration problem{} found; fix {} and run `uketsuke check-config` again.",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "them" }
    );
}

fn check_config(file: &Path) -> ExitCode {
    let problems = Config::check(file);
    if problems.is_empty() {
        println!("{}: configuration is valid", file.display());
        ExitCode::SUCCESS
    } else {
        print_problems(&problems);
        ExitCode::from(2)
    }
}

fn read_input(file: &Path) -> Result<Vec<u8>, String> {
    if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }
}

/// What `inspect` reads.
#[derive(Debug, Clone, Copy)]
enum Input {
    Mail,
    /// A JSON form submission; `signed` as if it came through the signed webhook.
    Form {
        signed: bool,
    },
}

fn inspect(config: Option<&Path>, overrides: Overrides, at: Option<&str>, input: Input, file: &Path) -> ExitCode {
    let config = match load(config, &overrides) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let at = match at.map(DateTime::parse_from_rfc3339).transpose() {
        Ok(at) => at.map(|t| t.with_timezone(&Utc)),
        Err(e) => {
            eprintln!("uketsuke: --at is not an RFC 3339 time ({e}); write it like 2026-11-25T11:00:00+09:00");
            return ExitCode::from(2);
        }
    };
    let bytes = match read_input(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("uketsuke: {e}");
            return ExitCode::from(1);
        }
    };
    let report = if let Input::Form { signed } = input {
        match serde_json::from_slice::<FormSubmission>(&bytes) {
            Ok(mut f) => {
                f.signed |= signed;
                understand::understand_form(&f, &config)
            }
            Err(e) => {
                eprintln!("uketsuke: {} is not a form submission: {e}", file.display());
                return ExitCode::from(1);
            }
        }
    } else {
        match understand::understand_mail(&bytes, &config) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("uketsuke: {}: {e}", file.display());
                return ExitCode::from(1);
            }
        }
    };
    // The edge of the system: the only place a clock may be read, when nothing says when
    // the report arrived.
    let (received, source) = match (at, report.received, report.date) {
        (Some(t), _, _) => (t, "--at"),
        (None, Some(t), _) => (t.with_timezone(&Utc), "the newest Received header"),
        (None, None, Some(t)) => (t.with_timezone(&Utc), "the Date header"),
        (None, None, None) => (Utc::now(), "the current time (the report carries no date)"),
    };
    let calendars = Calendars::new(&config.policy);
    let decision = decide::decide(&report, &config.customers, &config.policy, &calendars, received);
    let json = inspect_json(&report, &decision, &config, received, source);
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    ExitCode::SUCCESS
}

fn inspect_json(
    report: &Report,
    d: &decide::Decision,
    config: &Config,
    received: DateTime<Utc>,
    source: &str,
) -> Value {
    let time = |t: Option<DateTime<chrono_tz::Tz>>| t.map(|t| t.to_rfc3339());
    let f = &report.fields;
    let mut reasons = vec![format!("receipt time from {source}")];
    reasons.extend(d.reasons.iter().cloned());
    json!({
        "policy": config.policy.name,
        "channel": report.channel,
        "from": report.from,
        "subject": report.subject,
        "message_id": report.message_id,
        "received_at": received.with_timezone(&config.policy.time_zone).to_rfc3339(),
        "language": report.language,
        "reply_language": d.reply_language,
        "customer_id": d.customer_id,
        "customer_inferred": d.customer_inferred,
        "case_ref": report.case_ref,
        "priority": d.priority,
        "priority_source": d.priority_source,
        "declared_priority": report.declared_priority,
        "feature_request": report.feature_request,
        "change_request": d.change_request,
        "fields": {
            "repro_steps": f.repro_steps,
            "error_messages": f.error_messages,
            "description": f.description,
            "expected_result": f.expected_result,
            "circumstances": f.circumstances,
        },
        "missing": d.missing,
        "missing_required": d.missing_required,
        "signals": report.signals,
        "attachments": report.attachments,
        "action": d.action,
        "rejection": d.rejection,
        "eligible_24h": d.eligible_24h,
        "clock": d.clock,
        "clock_start": time(d.clock_start),
        "release_at": time(d.release_at),
        "response_due": time(d.response_due),
        "reasons": reasons,
        "warnings": report.warnings,
        "body": report.body,
    })
}

fn calendar(config: Option<&Path>, overrides: Overrides, json: bool, year: i32) -> ExitCode {
    if !(1900..=2200).contains(&year) {
        eprintln!(
            "uketsuke: year {year} is out of range; give a year from 1900 to 2200 (national holidays are verified for 1970-2099)"
        );
        return ExitCode::from(2);
    }
    let config = match load(config, &overrides) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let days = Calendar::business(&config.policy).closed_days(year);
    if json {
        println!("{}", serde_json::to_string_pretty(&days).unwrap_or_default());
    } else {
        println!("Closed days of {year} under the {} profile (weekends not listed):", config.policy.name);
        for d in &days {
            let kind = match d.kind {
                decide::ClosureKind::National => "national",
                decide::ClosureKind::Company => "company",
            };
            println!("{}  {}  {:<8}  {}", d.date, d.date.format("%a"), kind, d.name);
        }
    }
    ExitCode::SUCCESS
}

fn run(args: cases::StoreArgs, log_json: bool, clock_file: Option<PathBuf>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("UKETSUKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let (config, config_path) = match cases::load_for_store(&args) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let store = match args.location(&config) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let clock: std::sync::Arc<dyn crate::act::scheduler::Clock> = match clock_file {
        Some(path) => std::sync::Arc::new(crate::act::scheduler::FileClock::new(path)),
        None => std::sync::Arc::new(crate::act::scheduler::SystemClock),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("uketsuke: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(crate::daemon::run(config, config_path, args.overrides.clone(), store, clock));
    // Threads still inside a blocking call (a store that does not answer) are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uketsuke: {e}");
            ExitCode::from(1)
        }
    }
}

/// A command piped into `head` ends quietly when the reader goes away, as Unix tools do,
/// instead of panicking on a failed write. (Rust ignores SIGPIPE by default; the daemon keeps
/// ignoring it.)
fn restore_sigpipe() {
    // SAFETY: setting the disposition of SIGPIPE to its default before any thread is spawned
    // has no memory-safety implications.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
