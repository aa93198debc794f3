//! Topic schedules: a cron expression (`0 18 * * FRI`, parsed by croner) or a one-off local time
//! (`2026-12-24T18:00`), read in an IANA time zone (jiff, with its own copy of the time-zone database). Only the
//! next time after a given moment is ever computed; the core keeps it as a deadline.

use std::str::FromStr;

use huddle_shared::Millis;
use jiff::tz::TimeZone;

/// The longest schedule text.
pub const MAX_SCHEDULE_CHARS: usize = 100;

/// A schedule, read.
#[derive(Debug, Clone)]
enum When {
    Cron(Box<croner::Cron>),
    Once(jiff::civil::DateTime),
}

fn zone(time_zone: Option<&str>) -> Result<TimeZone, String> {
    match time_zone {
        None => Ok(TimeZone::UTC),
        Some(name) => {
            TimeZone::get(name).map_err(|_| format!("{name:?} is not a time zone (try Europe/Berlin or UTC)"))
        }
    }
}

fn read(schedule: &str) -> Result<When, String> {
    if schedule.chars().count() > MAX_SCHEDULE_CHARS {
        return Err(format!("a schedule is at most {MAX_SCHEDULE_CHARS} characters"));
    }
    if let Ok(at) = jiff::civil::DateTime::from_str(schedule) {
        return Ok(When::Once(at));
    }
    croner::Cron::from_str(schedule).map(|c| When::Cron(Box::new(c))).map_err(|e| {
        format!(
            "{schedule:?} is neither a cron expression (like \"0 18 * * FRI\") nor a time (like 2026-12-24T18:00): {e}"
        )
    })
}

/// Checks a schedule and its time zone; the error is a sentence for the person who wrote it.
pub fn check(schedule: &str, time_zone: Option<&str>) -> Result<(), String> {
    zone(time_zone)?;
    read(schedule).map(|_| ())
}

/// The first time the schedule names strictly after `after`, if there is one.
pub fn next_after(schedule: &str, time_zone: Option<&str>, after: Millis) -> Option<Millis> {
    let tz = zone(time_zone).ok()?;
    let start = jiff::Timestamp::from_millisecond(after).ok()?.to_zoned(tz.clone());
    let next = match read(schedule).ok()? {
        When::Cron(cron) => cron.find_next_occurrence(&start, false).ok()?,
        When::Once(at) => at.to_zoned(tz).ok().filter(|z| z.timestamp() > start.timestamp())?,
    };
    Some(next.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Millis {
        jiff::Timestamp::from_str(text).unwrap().as_millisecond()
    }

    #[test]
    fn cron_expressions_are_read_in_their_time_zone() {
        // Fridays at 18:00 in Berlin: 17:00 UTC in winter.
        let after = ms("2026-11-30T12:00:00Z");
        assert_eq!(next_after("0 18 * * FRI", Some("Europe/Berlin"), after), Some(ms("2026-12-04T17:00:00Z")));
        assert_eq!(next_after("0 18 * * FRI", None, after), Some(ms("2026-12-04T18:00:00Z")));
        // Strictly after: a time exactly on a match gives the next one.
        let on = ms("2026-12-04T18:00:00Z");
        assert_eq!(next_after("0 18 * * FRI", None, on), Some(ms("2026-12-11T18:00:00Z")));
    }

    #[test]
    fn a_one_off_time_fires_once() {
        let after = ms("2026-11-30T12:00:00Z");
        let at = next_after("2026-12-24T18:00", Some("Europe/Berlin"), after);
        assert_eq!(at, Some(ms("2026-12-24T17:00:00Z")));
        assert_eq!(next_after("2026-12-24T18:00", Some("Europe/Berlin"), at.unwrap()), None, "never again");
    }

    #[test]
    fn bad_schedules_and_zones_are_explained() {
        assert!(check("every friday", None).unwrap_err().contains("neither a cron expression"));
        assert!(check("0 18 * * FRI", Some("Mars/Olympus")).unwrap_err().contains("not a time zone"));
        assert!(check("0 18 * * FRI", Some("America/New_York")).is_ok());
    }
}
