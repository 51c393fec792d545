//! Deciding what happens to a report, by the contract: the business calendar, who may
//! report, the priority, the response clock, and the action at receipt. Pure: time is passed
//! in, nothing is read from the clock, the disk or the network.

pub mod calendar;
pub mod decision;
pub mod holidays;

pub use calendar::{Calendar, ClosedDay, ClosureKind};
pub use decision::{Action, Calendars, ChangeRequest, Decision, decide};
