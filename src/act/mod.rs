//! Acting on the record: the scheduler that hands held cases to the team when support opens.
//! (The outbox worker that sends acknowledgments, on-call notices and hand-overs arrives with
//! the mail channels.)

pub mod scheduler;
