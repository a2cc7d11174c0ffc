//! The one clock: every date and time costgate compares or writes (re-baseline due dates, drift
//! weeks, override windows, ticket due dates) comes from a [`Clock`] the command layer builds once,
//! so a test or a re-run can pin it (`COSTGATE_TODAY`) and the library never reads the system time
//! behind a caller's back.

use chrono::{DateTime, NaiveDate, Utc};

/// A point in time that stands for "now" during one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now: DateTime<Utc>,
}

impl Clock {
    /// The system's time, read once.
    pub fn system() -> Clock {
        Clock { now: Utc::now() }
    }

    /// Midnight UTC of `date`, the system's time of day otherwise unknown.
    pub fn on(date: NaiveDate) -> Clock {
        Clock {
            now: date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        }
    }

    /// The system clock, or the date in `pinned` (`YYYY-MM-DD`, as `COSTGATE_TODAY` holds it). A
    /// value that is not a date is an error naming it, not silently the system time.
    pub fn pinned_or_system(pinned: Option<&str>) -> Result<Clock, String> {
        match pinned.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Clock::system()),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Clock::on)
                .map_err(|_| format!("COSTGATE_TODAY `{s}` is not a date (YYYY-MM-DD)")),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_date_wins_and_bad_dates_are_named() {
        let c = Clock::pinned_or_system(Some("2026-10-01")).unwrap();
        assert_eq!(c.today().to_string(), "2026-10-01");
        let e = Clock::pinned_or_system(Some("01/10/2026")).unwrap_err();
        assert!(e.contains("01/10/2026"), "{e}");
        assert!(Clock::pinned_or_system(Some(" ")).is_ok());
    }
}
