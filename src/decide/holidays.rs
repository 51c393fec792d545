//! Japanese national holidays (国民の祝日に関する法律, 1948 Act No. 178), computed offline.
//!
//! uketsuke's business calendar has to know Japan's national holidays to the day, with no
//! network and no yearly data file to refresh, and it also has to be right for past dates
//! (old tickets, SLA reports). So this module encodes the law itself, with its history, as
//! data tables plus three derived rules.
//!
//! * **祝日 (`RULES`)**: each holiday is a fixed date, an n-th Monday (the 2000/2003
//!   "Happy Monday" amendments) or an equinox, valid for a range of years. The law's
//!   history: 成人の日 Jan 15 → 2nd Mon of Jan (2000); 建国記念の日 from 1967; 敬老の日 and
//!   体育の日 from 1966; 体育の日 → 2nd Mon of Oct (2000), renamed スポーツの日 (2020);
//!   海の日 Jul 20 from 1996 → 3rd Mon (2003); 敬老の日 → 3rd Mon of Sep (2003); 天皇誕生日
//!   Apr 29 (to 1988), Dec 23 (1989-2018), none in 2019, Feb 23 (from 2020); Apr 29 was
//!   みどりの日 1989-2006 and is 昭和の日 from 2007, when みどりの日 moved to May 4; 山の日
//!   Aug 11 from 2016.
//! * **Special days (`SPECIAL`)**: days set by their own laws: imperial ceremonies (1959,
//!   1989, 1990, 1993, 2019) and the Tokyo Olympics moves of 海の日, スポーツの日 and 山の日
//!   in 2020 and 2021. All count as 祝日 for the two rules below: the Olympic days are the
//!   祝日 themselves (2021-08-08 was a Sunday, hence 振替休日 on 08-09), the 2019 law deems
//!   its days 祝日 (hence 国民の休日 on 2019-04-30 and 05-02), and the older ceremony days
//!   were never next to a Sunday holiday or a one-day gap, so it changes nothing for them.
//! * **Equinoxes**: the law says "春分日"/"秋分日" and the real dates are announced each
//!   February in the 官報. We use the standard approximation formula (1900-1979, 1980-2099
//!   and 2100-2150 constants); it agrees with jpholiday's astronomical computation for
//!   every year 1948-2099 (and 2100-2150 except 2107's autumn, off by one).
//! * **振替休日** (substitute holiday, from 1973-04-12): a 祝日 on a Sunday makes the next
//!   day a holiday if it is not a 祝日 itself (Monday only); from 2007 the nearest following
//!   day that is not a 祝日 (e.g. May 3 Sunday → May 6).
//! * **国民の休日** (citizens' holiday, from 1985-12-27): a day that is not Sunday, not a
//!   祝日 and not a 振替休日, whose previous and next days are both 祝日. Before 2007 this
//!   made May 4 a holiday in most years; since then it happens in September (2009-09-22,
//!   2015-09-22, …) and happened around the 2019 enthronement.
//!
//! Verified against the `PyPI` package `jpholiday` 1.0.3 for 1970-2099 (every date equal),
//! except 14 days where `jpholiday` applies a rule before the law made it: 1973-02-12
//! (振替休日 started 1973-04-12) and May 4 of 1970-1974, 1976-1979 and 1982-1985 (国民の
//! 休日 started 1985-12-27; the first one was 1988-05-04). Future years can change by
//! amendment or by the 官報 equinox announcement.

use chrono::{Datelike, NaiveDate, Weekday};
use std::sync::OnceLock;

/// A national holiday: the date and its official name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NationalHoliday {
    pub date: NaiveDate,
    pub name_ja: &'static str,
    pub name_en: &'static str,
}

/// Years for which the rules are verified against an independent oracle.
pub const VERIFIED_YEARS: std::ops::RangeInclusive<i32> = 1970..=2099;

/// Years this module computes at all (the 1948 Act took effect on 1948-07-20).
const FIRST_YEAR: i32 = 1949;
const LAST_YEAR: i32 = 2150;
/// Date the 振替休日 rule took effect (1973 amendment), and when it became "next non-祝日".
const SUBSTITUTE_FROM: (i32, u32, u32) = (1973, 4, 12);
const SUBSTITUTE_CHAIN_FROM_YEAR: i32 = 2007;
/// Date the 国民の休日 rule took effect (1985 amendment).
const CITIZENS_FROM: (i32, u32, u32) = (1985, 12, 27);

type Name = (&'static str, &'static str);
const NEW_YEAR: Name = ("元日", "New Year's Day");
const COMING_OF_AGE: Name = ("成人の日", "Coming of Age Day");
const FOUNDATION: Name = ("建国記念の日", "National Foundation Day");
const EMPEROR: Name = ("天皇誕生日", "The Emperor's Birthday");
const VERNAL: Name = ("春分の日", "Vernal Equinox Day");
const GREENERY: Name = ("みどりの日", "Greenery Day");
const SHOWA: Name = ("昭和の日", "Showa Day");
const CONSTITUTION: Name = ("憲法記念日", "Constitution Memorial Day");
const CHILDREN: Name = ("こどもの日", "Children's Day");
const MARINE: Name = ("海の日", "Marine Day");
const MOUNTAIN: Name = ("山の日", "Mountain Day");
const AGED: Name = ("敬老の日", "Respect for the Aged Day");
const AUTUMNAL: Name = ("秋分の日", "Autumnal Equinox Day");
const HEALTH_SPORTS: Name = ("体育の日", "Health and Sports Day");
const SPORTS: Name = ("スポーツの日", "Sports Day");
const CULTURE: Name = ("文化の日", "Culture Day");
const LABOR: Name = ("勤労感謝の日", "Labor Thanksgiving Day");
const ENTHRONEMENT_CEREMONY: Name = ("即位礼正殿の儀", "Enthronement Ceremony");
const SUBSTITUTE: Name = ("振替休日", "Substitute Holiday");
const CITIZENS: Name = ("国民の休日", "Citizens' Holiday");

/// How a 祝日 falls in a given year.
#[derive(Clone, Copy)]
enum Day {
    Fixed(u32, u32),
    /// (month, n): the n-th Monday of the month.
    NthMonday(u32, u32),
    VernalEquinox,
    AutumnalEquinox,
}
use Day::*;

/// The 祝日: (first year, last year, day, name). `LAST_YEAR` means "still in force".
const RULES: &[(i32, i32, Day, Name)] = &[
    (1949, LAST_YEAR, Fixed(1, 1), NEW_YEAR),
    (1949, 1999, Fixed(1, 15), COMING_OF_AGE),
    (2000, LAST_YEAR, NthMonday(1, 2), COMING_OF_AGE),
    (1967, LAST_YEAR, Fixed(2, 11), FOUNDATION),
    (2020, LAST_YEAR, Fixed(2, 23), EMPEROR),
    (1949, LAST_YEAR, VernalEquinox, VERNAL),
    (1949, 1988, Fixed(4, 29), EMPEROR),
    (1989, 2006, Fixed(4, 29), GREENERY),
    (2007, LAST_YEAR, Fixed(4, 29), SHOWA),
    (1949, LAST_YEAR, Fixed(5, 3), CONSTITUTION),
    (2007, LAST_YEAR, Fixed(5, 4), GREENERY),
    (1949, LAST_YEAR, Fixed(5, 5), CHILDREN),
    (1996, 2002, Fixed(7, 20), MARINE),
    (2003, 2019, NthMonday(7, 3), MARINE), // 2020, 2021: see SPECIAL
    (2022, LAST_YEAR, NthMonday(7, 3), MARINE),
    (2016, 2019, Fixed(8, 11), MOUNTAIN),
    (2022, LAST_YEAR, Fixed(8, 11), MOUNTAIN),
    (1966, 2002, Fixed(9, 15), AGED),
    (2003, LAST_YEAR, NthMonday(9, 3), AGED),
    (1949, LAST_YEAR, AutumnalEquinox, AUTUMNAL),
    (1966, 1999, Fixed(10, 10), HEALTH_SPORTS),
    (2000, 2019, NthMonday(10, 2), HEALTH_SPORTS),
    (2022, LAST_YEAR, NthMonday(10, 2), SPORTS),
    (1949, LAST_YEAR, Fixed(11, 3), CULTURE),
    (1949, LAST_YEAR, Fixed(11, 23), LABOR),
    (1989, 2018, Fixed(12, 23), EMPEROR),
];

/// Single days set by special laws (ceremonies, Olympic moves): (year, month, day, name).
const SPECIAL: &[(i32, u32, u32, Name)] = &[
    (1959, 4, 10, ("皇太子明仁親王の結婚の儀", "Wedding of Crown Prince Akihito")),
    (1989, 2, 24, ("昭和天皇の大喪の礼", "Funeral of Emperor Showa")),
    (1990, 11, 12, ENTHRONEMENT_CEREMONY),
    (1993, 6, 9, ("皇太子徳仁親王の結婚の儀", "Wedding of Crown Prince Naruhito")),
    (2019, 5, 1, ("天皇の即位の日", "Emperor's Enthronement Day")),
    (2019, 10, 22, ENTHRONEMENT_CEREMONY),
    (2020, 7, 23, MARINE),
    (2020, 7, 24, SPORTS),
    (2020, 8, 10, MOUNTAIN),
    (2021, 7, 22, MARINE),
    (2021, 7, 23, SPORTS),
    (2021, 8, 8, MOUNTAIN),
];

fn ymd((y, m, d): (i32, u32, u32)) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Day of month of an equinox by the standard formula; `c` holds the constants for
/// 1900-1979, 1980-2099 and 2100-2150. Integer division truncates, as in the formula.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a day of month, 19..=24
fn equinox(year: i32, c: [f64; 3]) -> u32 {
    let (c, leaps) = match year {
        ..=1979 => (c[0], (year - 1983) / 4),
        1980..=2099 => (c[1], (year - 1980) / 4),
        _ => (c[2], (year - 1980) / 4),
    };
    (c + 0.242_194 * f64::from(year - 1980) - f64::from(leaps)) as u32
}

impl Day {
    fn date(self, year: i32) -> Option<NaiveDate> {
        match self {
            Fixed(m, d) => ymd((year, m, d)),
            NthMonday(m, n) => {
                let first = ymd((year, m, 1))?;
                let to_monday = (7 - first.weekday().num_days_from_monday()) % 7;
                ymd((year, m, 1 + to_monday + 7 * (n - 1)))
            }
            VernalEquinox => ymd((year, 3, equinox(year, [20.8357, 20.8431, 21.8510]))),
            AutumnalEquinox => ymd((year, 9, equinox(year, [23.2588, 23.2488, 24.2488]))),
        }
    }
}

fn holiday(date: NaiveDate, (name_ja, name_en): Name) -> NationalHoliday {
    NationalHoliday { date, name_ja, name_en }
}

/// Every national holiday of `year`, in date order, including 振替休日 (substitute holiday,
/// name "振替休日"/"Substitute Holiday") and 国民の休日 ("国民の休日"/"Citizens' Holiday").
/// Years before 1949 or after 2150: empty vec.
#[must_use]
pub fn national_holidays(year: i32) -> Vec<NationalHoliday> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Vec::new();
    }
    let rules = RULES.iter().filter(|r| (r.0..=r.1).contains(&year));
    let specials = SPECIAL.iter().filter(|s| s.0 == year);
    let mut days: Vec<NationalHoliday> = rules
        .filter_map(|&(_, _, day, name)| Some(holiday(day.date(year)?, name)))
        .chain(specials.filter_map(|&(y, m, d, name)| Some(holiday(ymd((y, m, d))?, name))))
        .collect();
    days.sort_by_key(|h| h.date);
    let is_shukujitsu = |d: NaiveDate| days.iter().any(|h| h.date == d);

    let mut extra = Vec::new();
    for h in days.iter().filter(|h| h.date.weekday() == Weekday::Sun) {
        if ymd(SUBSTITUTE_FROM).is_some_and(|from| h.date >= from) {
            let mut next = h.date.succ_opt();
            while year >= SUBSTITUTE_CHAIN_FROM_YEAR && next.is_some_and(is_shukujitsu) {
                next = next.and_then(|d| d.succ_opt());
            }
            if let Some(d) = next.filter(|&d| !is_shukujitsu(d)) {
                extra.push(holiday(d, SUBSTITUTE));
            }
        }
    }
    for pair in days.windows(2) {
        let Some(mid) = pair[0].date.succ_opt() else {
            continue;
        };
        if pair[1].date.pred_opt() == Some(mid)
            && ymd(CITIZENS_FROM).is_some_and(|from| mid >= from)
            && mid.weekday() != Weekday::Sun
            && !is_shukujitsu(mid)
            && !extra.iter().any(|h| h.date == mid)
        {
            extra.push(holiday(mid, CITIZENS));
        }
    }
    days.extend(extra);
    days.sort_by_key(|h| h.date);
    days
}

/// Lookup table over `FIRST_YEAR..=LAST_YEAR`: one byte per day (0 = no holiday, k = `names[k - 1]`).
struct Table {
    names: Vec<Name>,
    days: Vec<u8>,
}

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

fn day_index(date: NaiveDate) -> Option<usize> {
    usize::try_from(date.num_days_from_ce() - EPOCH.num_days_from_ce()).ok()
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let len = ymd((LAST_YEAR + 1, 1, 1)).and_then(day_index).unwrap_or(0);
        let mut t = Table { names: Vec::new(), days: vec![0; len] };
        for h in (FIRST_YEAR..=LAST_YEAR).flat_map(national_holidays) {
            let name = (h.name_ja, h.name_en);
            let k = t.names.iter().position(|&n| n == name).unwrap_or_else(|| {
                t.names.push(name);
                t.names.len() - 1
            });
            let slot = day_index(h.date).and_then(|i| t.days.get_mut(i));
            if let (Some(slot), Ok(code)) = (slot, u8::try_from(k + 1)) {
                *slot = code;
            }
        }
        t
    })
}

/// The holiday on `date`, if any. O(1) after a one-time lazily built table over 1949..=2150.
#[must_use]
pub fn national_holiday(date: NaiveDate) -> Option<NationalHoliday> {
    let t = table();
    let k = usize::from(*t.days.get(day_index(date)?)?).checked_sub(1)?;
    t.names.get(k).map(|&name| holiday(date, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn name(y: i32, m: u32, day: u32) -> Option<&'static str> {
        national_holiday(d(y, m, day)).map(|h| h.name_ja)
    }

    #[test]
    fn spot_checks() {
        assert_eq!(name(2026, 11, 23), Some("勤労感謝の日"));
        assert_eq!(national_holiday(d(2026, 11, 23)).unwrap().name_en, "Labor Thanksgiving Day");
        assert_eq!(name(2021, 8, 8), Some("山の日"));
        assert_eq!(name(2021, 8, 9), Some("振替休日"));
        assert_eq!(name(1989, 2, 24), Some("昭和天皇の大喪の礼"));
        assert_eq!(name(1970, 1, 2), None);
        assert_eq!(name(2019, 12, 23), None); // no 天皇誕生日 in 2019
        assert_eq!(name(2020, 2, 24), Some("振替休日"));
        assert_eq!(name(2009, 9, 22), Some("国民の休日"));
        assert_eq!(name(2026, 5, 6), Some("振替休日")); // May 3 Sunday, chained (2007 rule)
    }

    #[test]
    fn law_start_dates() {
        assert_eq!(name(1973, 2, 12), None); // before 振替休日 existed (1973-04-12)
        assert_eq!(name(1973, 4, 30), Some("振替休日")); // the first one
        assert_eq!(name(1982, 5, 4), None); // before 国民の休日 existed (1985-12-27)
        assert_eq!(name(1987, 5, 4), Some("振替休日"));
        assert_eq!(name(1988, 5, 4), Some("国民の休日")); // the first one
    }

    #[test]
    fn golden_week_2019_is_ten_days_off() {
        for day in 27..=36 {
            let date = d(2019, 4, 1) + chrono::Days::new(day - 1);
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            assert!(weekend || national_holiday(date).is_some(), "{date}");
        }
        assert_eq!(name(2019, 4, 30), Some("国民の休日"));
        assert_eq!(name(2019, 5, 1), Some("天皇の即位の日"));
        assert_eq!(name(2019, 5, 2), Some("国民の休日"));
        assert_eq!(name(2019, 5, 6), Some("振替休日"));
        assert_eq!(name(2019, 4, 26), None);
        assert_eq!(name(2019, 5, 7), None);
    }

    #[test]
    fn out_of_range_is_empty() {
        for year in [i32::MIN, -1, 0, 1948, 2151, i32::MAX] {
            assert!(national_holidays(year).is_empty(), "{year}");
        }
        assert_eq!(national_holiday(NaiveDate::MIN), None);
        assert_eq!(national_holiday(NaiveDate::MAX), None);
        assert_eq!(national_holiday(d(1948, 11, 23)), None);
        assert!(national_holiday(d(2150, 1, 1)).is_some());
    }

    #[test]
    fn lookup_agrees_with_year_lists() {
        let (mut date, end) = (d(*VERIFIED_YEARS.start(), 1, 1), d(*VERIFIED_YEARS.end(), 12, 31));
        let mut expected = VERIFIED_YEARS.flat_map(national_holidays).peekable();
        while date <= end {
            let want = expected.next_if(|h| h.date == date);
            assert_eq!(national_holiday(date), want, "{date}");
            date = date.succ_opt().unwrap();
        }
        assert!(expected.next().is_none());
        for year in VERIFIED_YEARS {
            assert!(national_holidays(year).windows(2).all(|w| w[0].date < w[1].date), "{year}");
        }
    }
}
