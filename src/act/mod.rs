//! Acting on the record: composing what the outbox sends ([`compose`]), and the scheduler that
//! hands held cases to the team when support opens ([`scheduler`]).

pub mod compose;
pub mod scheduler;
