//! Dates and times as the pages and the API show them, formatted here in Rust from the `time`
//! values the queries return (all in UTC), so that no statement formats a date.

use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

/// `2026-12-07 14:05`
pub fn minute(at: OffsetDateTime) -> String {
    utc(at).format(format_description!("[year]-[month]-[day] [hour]:[minute]")).unwrap_or_default()
}

/// `2026-12-07 14:05 UTC`
pub fn minute_utc(at: OffsetDateTime) -> String {
    format!("{} UTC", minute(at))
}

/// `2026-12-07 14:05:09`
pub fn second(at: OffsetDateTime) -> String {
    utc(at).format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second]")).unwrap_or_default()
}

/// `2026-12-07 14:05:09 UTC`
pub fn second_utc(at: OffsetDateTime) -> String {
    format!("{} UTC", second(at))
}

/// `2026-12-07T14:05:09Z` (RFC 3339, whole seconds)
pub fn rfc3339(at: OffsetDateTime) -> String {
    utc(at).format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_default()
}

/// `14:05:09`
pub fn clock_seconds(at: OffsetDateTime) -> String {
    utc(at).format(format_description!("[hour]:[minute]:[second]")).unwrap_or_default()
}

/// `14:05` (a time of day, such as a nightly stop)
pub fn clock(at: Time) -> String {
    at.format(format_description!("[hour]:[minute]")).unwrap_or_default()
}

/// `2026-12-07`
pub fn day(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
}

fn utc(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(time::UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn dates_read_as_the_pages_always_showed_them() {
        let at = datetime!(2026-12-07 14:05:09 +01:00);
        assert_eq!(minute(at), "2026-12-07 13:05");
        assert_eq!(minute_utc(at), "2026-12-07 13:05 UTC");
        assert_eq!(second(at), "2026-12-07 13:05:09");
        assert_eq!(second_utc(at), "2026-12-07 13:05:09 UTC");
        assert_eq!(rfc3339(at), "2026-12-07T13:05:09Z");
        assert_eq!(clock_seconds(at), "13:05:09");
        assert_eq!(clock(time!(07:30)), "07:30");
        assert_eq!(day(date!(2026 - 01 - 02)), "2026-01-02");
    }
}
