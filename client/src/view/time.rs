//! Dates and times for display, computed from [`Millis`] in UTC without a date library: the view needs only
//! `HH:MM`, a day name and "3h ago", and doing it here keeps rendering deterministic and dependency-free.

use huddle_shared::Millis;

const MS_PER_DAY: i64 = 86_400_000;
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Days since 1970-01-01 (negative before), the key for "did the day change".
pub fn day(at: Millis) -> i64 {
    at.div_euclid(MS_PER_DAY)
}

/// `(year, month 1..=12, day 1..=31)` of a day number (H. Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // `m` is in 1..=12 by construction.
    (y, usize::try_from(m).unwrap_or(1), d)
}

fn month_name(m: usize) -> &'static str {
    MONTHS.get(m.wrapping_sub(1)).copied().unwrap_or("?")
}

/// `14:05`.
pub fn clock(at: Millis) -> String {
    let minutes = at.rem_euclid(MS_PER_DAY) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `14:30:09`, for `timestamps = "%H:%M:%S"`.
pub fn clock_with_seconds(at: Millis) -> String {
    let seconds = at.rem_euclid(MS_PER_DAY) / 1_000;
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// `21 Nov 2026`.
pub fn date(at: Millis) -> String {
    let (y, m, d) = civil(day(at));
    format!("{d} {} {y}", month_name(m))
}

/// `Sat 21 Nov 2026`, for day separators.
pub fn weekday_date(at: Millis) -> String {
    // 1970-01-01 was a Thursday.
    let weekday = usize::try_from((day(at) + 4).rem_euclid(7)).unwrap_or(0);
    format!("{} {}", WEEKDAYS[weekday % 7], date(at))
}

/// How long ago `at` was, short: "just now", "5 min ago", "3h ago", "2d ago", then a date ("12 Nov", or with the
/// year when it differs from `now`'s).
pub fn ago(at: Millis, now: Millis) -> String {
    let secs = (now - at).max(0) / 1000;
    match secs {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        86_400..604_800 => format!("{}d ago", secs / 86_400),
        _ => {
            let (y, m, d) = civil(day(at));
            let (now_y, _, _) = civil(day(now));
            if y == now_y { format!("{d} {}", month_name(m)) } else { format!("{d} {} {y}", month_name(m)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-21 14:30:00 UTC, a Saturday.
    const NOW: Millis = 1_795_271_400_000;

    #[test]
    fn formats_dates_and_clock_times_in_utc() {
        assert_eq!(clock(NOW), "14:30");
        assert_eq!(clock_with_seconds(NOW + 9_000), "14:30:09");
        assert_eq!(weekday_date(NOW), "Sat 21 Nov 2026");
        assert_eq!(date(0), "1 Jan 1970");
        assert_eq!(weekday_date(0), "Thu 1 Jan 1970");
        // A leap day and the day before the epoch.
        assert_eq!(date(951_782_400_000), "29 Feb 2000");
        assert_eq!(weekday_date(-1), "Wed 31 Dec 1969");
        assert_eq!(clock(-1), "23:59");
    }

    #[test]
    fn says_how_long_ago_briefly() {
        assert_eq!(ago(NOW - 5_000, NOW), "just now");
        assert_eq!(ago(NOW - 5 * 60_000, NOW), "5 min ago");
        assert_eq!(ago(NOW - 3 * 3_600_000, NOW), "3h ago");
        assert_eq!(ago(NOW - 2 * MS_PER_DAY, NOW), "2d ago");
        assert_eq!(ago(NOW - 9 * MS_PER_DAY, NOW), "12 Nov");
        assert_eq!(ago(NOW - 400 * MS_PER_DAY, NOW), "17 Oct 2025");
        // A clock slightly ahead of ours is not "in the future".
        assert_eq!(ago(NOW + 10_000, NOW), "just now");
    }
}
