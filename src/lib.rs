//! uketsuke (受付, "reception desk"): takes customer support reports by e-mail and web form,
//! reads the incident items out of them, and handles each as a Japanese SaaS support contract
//! says it must be handled.
//!
//! The data flows through one folder per layer:
//! **understand** (MIME, charsets, fields; pure) -> **decide** (calendar, priority, clocks,
//! action; pure, time passed in) -> **record** (one store transaction: message, case,
//! outbox) -> **act** (the scheduler for held cases). `config` holds the operator's
//! settings; `cli` is the command line the `uketsuke` binary is a thin shell over.

pub mod act;
pub mod channels;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod decide;
pub mod http;
pub mod lease;
pub mod oauth;
pub mod record;
pub mod terms;
pub mod understand;
