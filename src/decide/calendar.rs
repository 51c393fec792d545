//! The business calendar of a contract: when support is open, and business-time arithmetic.
//!
//! Open hours are half-open intervals `[open, close)` in the profile's time zone on open
//! weekdays that are neither Japanese national holidays nor company holidays (docs/POLICY.md
//! section 1). [`Calendar::next_open`] and [`Calendar::add`] are what every due time and
//! release time is computed with; the 24x7 calendar is the same interface, always open.

use super::holidays;
use crate::config::policy::{BusinessHours, CompanyHoliday, Policy, Target};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

/// A calendar the response clock can run on.
#[derive(Debug, Clone)]
pub struct Calendar {
    time_zone: Tz,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Open at all times: plain wall-clock arithmetic; one business day is 24 hours.
    Always,
    Business {
        open: NaiveTime,
        close: NaiveTime,
        /// Indexed by `Weekday::num_days_from_monday`.
        days: [bool; 7],
        national_holidays: bool,
        company: Vec<CompanyHoliday>,
    },
}

/// A day on which a business calendar is closed although it is an open weekday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedDay {
    pub date: NaiveDate,
    pub name: String,
    pub kind: ClosureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosureKind {
    National,
    Company,
}

impl Calendar {
    /// The business calendar of a policy profile.
    pub fn business(policy: &Policy) -> Calendar {
        let BusinessHours { open, close, days: open_days } = &policy.hours;
        let mut days = [false; 7];
        for d in open_days {
            days[d.num_days_from_monday() as usize] = true;
        }
        Calendar {
            time_zone: policy.time_zone,
            kind: Kind::Business {
                open: *open,
                close: *close,
                days,
                national_holidays: policy.national_holidays,
                company: policy.company_holidays.clone(),
            },
        }
    }

    /// The 24x7 calendar in a time zone.
    pub fn always(time_zone: Tz) -> Calendar {
        Calendar { time_zone, kind: Kind::Always }
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    pub fn is_always_open(&self) -> bool {
        matches!(self.kind, Kind::Always)
    }

    /// The length of one business day (24 hours on the 24x7 calendar).
    pub fn day_length(&self) -> Duration {
        match &self.kind {
            Kind::Always => Duration::hours(24),
            Kind::Business { open, close, .. } => *close - *open,
        }
    }

    /// Why `date` is closed although its weekday is open: a national or company holiday.
    pub fn holiday(&self, date: NaiveDate) -> Option<ClosedDay> {
        let Kind::Business { national_holidays, company, .. } = &self.kind else { return None };
        if *national_holidays && let Some(h) = holidays::national_holiday(date) {
            return Some(ClosedDay { date, name: h.name_ja.to_string(), kind: ClosureKind::National });
        }
        company.iter().find(|c| company_covers(c, date)).map(|c| ClosedDay {
            date,
            name: match c {
                CompanyHoliday::Dates { name, .. } | CompanyHoliday::Yearly { name, .. } => name.clone(),
            },
            kind: ClosureKind::Company,
        })
    }

    /// Whether support works on `date` at all.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        match &self.kind {
            Kind::Always => true,
            Kind::Business { days, .. } => {
                days[date.weekday().num_days_from_monday() as usize] && self.holiday(date).is_none()
            }
        }
    }

    /// Every holiday of `year` that falls on any day (weekends included), in date order:
    /// national holidays by name, then company holidays. What `uketsuke calendar` lists.
    pub fn closed_days(&self, year: i32) -> Vec<ClosedDay> {
        let Some(mut date) = NaiveDate::from_ymd_opt(year, 1, 1) else { return Vec::new() };
        let mut out = Vec::new();
        while date.year() == year {
            if let Some(day) = self.holiday(date) {
                out.push(day);
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        out
    }

    /// Whether support is open at instant `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        match &self.kind {
            Kind::Always => true,
            Kind::Business { open, close, .. } => {
                let local = t.with_timezone(&self.time_zone).naive_local();
                self.is_business_day(local.date()) && local.time() >= *open && local.time() < *close
            }
        }
    }

    /// `t` itself when open, else the first opening after `t`.
    pub fn next_open(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let Kind::Business { open, close, .. } = &self.kind else { return t };
        let local = t.with_timezone(&self.time_zone).naive_local();
        let mut date = local.date();
        if self.is_business_day(date) {
            if local.time() < *open {
                return self.instant(date, *open);
            }
            if local.time() < *close {
                return t;
            }
        }
        // Ten years of closed days would be a configuration error; stop rather than spin.
        for _ in 0..3660 {
            let Some(next) = date.succ_opt() else { break };
            date = next;
            if self.is_business_day(date) {
                return self.instant(date, *open);
            }
        }
        t
    }

    /// The instant that closes the open period containing `t` (which must be open).
    fn close_of(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        match &self.kind {
            Kind::Always => DateTime::<Utc>::MAX_UTC,
            Kind::Business { close, .. } => {
                let date = t.with_timezone(&self.time_zone).date_naive();
                self.instant(date, *close)
            }
        }
    }

    /// `t` plus `amount` of open time: starts at `next_open(t)` and consumes open time. A due
    /// time that lands exactly on a close is that close.
    pub fn add(&self, t: DateTime<Utc>, amount: Duration) -> DateTime<Utc> {
        if self.is_always_open() {
            return t.checked_add_signed(amount).unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        let mut cursor = self.next_open(t);
        let mut remaining = amount.max(Duration::zero());
        loop {
            let close = self.close_of(cursor);
            let available = close - cursor;
            if remaining <= available {
                return cursor + remaining;
            }
            remaining -= available;
            let next = self.next_open(close);
            if next <= close {
                // No further opening (a calendar that never opens again): give up at close.
                return close;
            }
            cursor = next;
        }
    }

    /// `t` plus a contract target: N hours, or N business days of `day_length` each.
    pub fn add_target(&self, t: DateTime<Utc>, target: Target) -> DateTime<Utc> {
        match target {
            Target::Hours(h) => self.add(t, Duration::hours(h as i64)),
            Target::Days(d) => self.add(t, self.day_length() * d as i32),
        }
    }

    /// The instant of a local date and time; in a DST gap, the first valid instant after it.
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let naive = NaiveDateTime::new(date, time);
        match self.time_zone.from_local_datetime(&naive).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => {
                let later = naive + Duration::hours(1);
                self.time_zone
                    .from_local_datetime(&later)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
            }
        }
    }
}

fn company_covers(holiday: &CompanyHoliday, date: NaiveDate) -> bool {
    match holiday {
        CompanyHoliday::Dates { from, to, .. } => *from <= date && date <= *to,
        CompanyHoliday::Yearly { from, to, .. } => {
            let md = (date.month(), date.day());
            if from <= to { *from <= md && md <= *to } else { md >= *from || md <= *to }
        }
    }
}

/// The English name of a weekday, for reasons and notices.
pub fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}
