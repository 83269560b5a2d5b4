//! Input validation for case operations: limits, and the typed reasons an input is refused.

use jiff::civil::Date;

use crate::model::{ContactWindow, UnixMillis};

/// Longest contact note, in characters. A note is a few sentences for guidance, not a journal.
pub const NOTE_MAX_CHARS: usize = 2_000;
/// Longest goal, step or agreement text, in characters.
pub const SHORT_TEXT_MAX_CHARS: usize = 500;
/// Longest use-plan or outside-hours plan, in characters.
pub const PLAN_TEXT_MAX_CHARS: usize = 4_000;
/// Longest alias, in characters.
pub const ALIAS_MAX_CHARS: usize = 40;
/// Longest closing reason, in characters.
pub const REASON_MAX_CHARS: usize = 80;
/// Longest interest or background tag, in characters: a word or two.
pub const TAG_MAX_CHARS: usize = 40;
/// Most tags (interests, background) a case or a PRW's profile holds.
pub const TAGS_MAX: usize = 20;
/// Earliest birth year Peerlog takes.
pub const BIRTH_YEAR_MIN: i32 = 1900;
/// Longest single contact: a whole day accompanying someone, not more.
pub const CONTACT_MAX_MINUTES: i64 = 16 * 60;
/// How far in the future a contact may start: allows for clock skew and logging an appointment
/// that begins later today, not more.
pub const FUTURE_TOLERANCE_MS: i64 = 24 * 60 * 60 * 1000;
/// No contact in Peerlog predates this (2000-01-01T00:00:00Z).
pub const EARLIEST_CONTACT_MS: i64 = 946_684_800_000;
/// Nor comes after this (2200-01-01T00:00:00Z), whatever a device's clock says.
pub const LATEST_CONTACT_MS: i64 = 7_258_118_400_000;
/// Most contact windows a boundary agreement holds.
pub const WINDOWS_MAX: usize = 21;
/// Most steps a goal holds.
pub const STEPS_MAX: usize = 50;

/// Why one input field was refused. Never carries the input itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("must not be empty")]
    Empty,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("has more than {max} entries")]
    TooMany { max: usize },
    #[error("contains control characters")]
    ControlCharacters,
    #[error("is out of range")]
    OutOfRange,
    #[error("is too far in the future")]
    InFuture,
    #[error("is before the year 2000")]
    TooOld,
    #[error("is not a known category")]
    UnknownCategory,
    #[error("ends before it starts")]
    EndsBeforeStart,
}

/// An input field and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct Invalid {
    pub field: &'static str,
    pub problem: Problem,
}

pub(crate) fn invalid(field: &'static str, problem: Problem) -> Invalid {
    Invalid { field, problem }
}

/// Checks free text: `required` refuses blank input; newlines and tabs are allowed, other control
/// characters are not. Returns the text trimmed of surrounding whitespace.
pub(crate) fn text(
    field: &'static str,
    value: &str,
    max_chars: usize,
    required: bool,
) -> Result<String, Invalid> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err(invalid(field, Problem::Empty));
    }
    if trimmed.chars().count() > max_chars {
        return Err(invalid(field, Problem::TooLong { max: max_chars }));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(invalid(field, Problem::ControlCharacters));
    }
    Ok(trimmed.to_owned())
}

/// Checks interest or background tags, as the relay's dashboard and CLI and the document itself
/// take them: each trimmed and non-empty, at most [`TAG_MAX_CHARS`], no control characters, at
/// most [`TAGS_MAX`]. Returns them trimmed, repeats dropped.
pub fn tags(field: &'static str, values: &[String]) -> Result<Vec<String>, Invalid> {
    if values.len() > TAGS_MAX {
        return Err(invalid(field, Problem::TooMany { max: TAGS_MAX }));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let tag = text(field, value, TAG_MAX_CHARS, true)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

pub(crate) fn contact_start(at: UnixMillis, now: UnixMillis) -> Result<(), Invalid> {
    if at < EARLIEST_CONTACT_MS {
        return Err(invalid("at", Problem::TooOld));
    }
    if at > now.saturating_add(FUTURE_TOLERANCE_MS) || at > LATEST_CONTACT_MS {
        return Err(invalid("at", Problem::InFuture));
    }
    Ok(())
}

pub(crate) fn minutes(minutes: i64) -> Result<u32, Invalid> {
    if !(0..=CONTACT_MAX_MINUTES).contains(&minutes) {
        return Err(invalid("minutes", Problem::OutOfRange));
    }
    u32::try_from(minutes).map_err(|_| invalid("minutes", Problem::OutOfRange))
}

/// UTC offsets on Earth run from -12:00 to +14:00.
pub(crate) fn tz_offset(offset_min: i32) -> Result<i32, Invalid> {
    if (-12 * 60..=14 * 60).contains(&offset_min) {
        Ok(offset_min)
    } else {
        Err(invalid("tzOffsetMin", Problem::OutOfRange))
    }
}

/// Checks a birth year: [`BIRTH_YEAR_MIN`] to the latest year that has begun anywhere on Earth
/// at `now` (UTC+14 reaches a new year first), so no organisation's time zone refuses its own
/// current year and every caller needs only the clock.
pub fn birth_year(year: i32, now: UnixMillis) -> Result<i32, Invalid> {
    const EARLIEST_ZONE_AHEAD_MS: i64 = 14 * 60 * 60 * 1000;
    let this_year = jiff::Timestamp::from_millisecond(now.saturating_add(EARLIEST_ZONE_AHEAD_MS))
        .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).year())
        .unwrap_or(i16::MAX);
    if (BIRTH_YEAR_MIN..=i32::from(this_year)).contains(&year) {
        Ok(year)
    } else {
        Err(invalid("birthYear", Problem::OutOfRange))
    }
}

pub(crate) fn date_range(start: Date, end: Date) -> Result<(), Invalid> {
    if end < start {
        return Err(invalid("plannedEnd", Problem::EndsBeforeStart));
    }
    Ok(())
}

pub(crate) fn windows(windows: &[ContactWindow]) -> Result<(), Invalid> {
    if windows.len() > WINDOWS_MAX {
        return Err(invalid("windows", Problem::TooMany { max: WINDOWS_MAX }));
    }
    for window in windows {
        if window.days.is_empty() {
            return Err(invalid("windows.days", Problem::Empty));
        }
        if window.days.iter().any(|d| !(1..=7).contains(d)) {
            return Err(invalid("windows.days", Problem::OutOfRange));
        }
        if window.to <= window.from {
            return Err(invalid("windows.to", Problem::EndsBeforeStart));
        }
    }
    Ok(())
}

pub(crate) fn max_contacts_per_week(max: Option<u32>) -> Result<Option<u32>, Invalid> {
    match max {
        Some(0) | Some(101..) => Err(invalid("maxContactsPerWeek", Problem::OutOfRange)),
        other => Ok(other),
    }
}

/// Parses a category code from untrusted input (an app's string), naming the field on failure.
pub fn code<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, Invalid> {
    value
        .parse()
        .map_err(|_| invalid(field, Problem::UnknownCategory))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContactMode;

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(text("note", "  hi  ", 10, true).unwrap(), "hi");
        assert_eq!(
            text("note", "   ", 10, true),
            Err(invalid("note", Problem::Empty))
        );
        assert_eq!(text("note", "", 10, false).unwrap(), "");
        assert_eq!(
            text("note", &"x".repeat(11), 10, true),
            Err(invalid("note", Problem::TooLong { max: 10 }))
        );
        // characters, not bytes
        assert!(text("note", &"ø".repeat(10), 10, true).is_ok());
        assert_eq!(
            text("note", "a\u{0}b", 10, true),
            Err(invalid("note", Problem::ControlCharacters))
        );
        assert!(text("note", "line\nline\tx", 20, true).is_ok());
    }

    #[test]
    fn numbers_have_sane_ranges() {
        assert!(minutes(-1).is_err());
        assert!(minutes(0).is_ok());
        assert!(minutes(CONTACT_MAX_MINUTES).is_ok());
        assert!(minutes(CONTACT_MAX_MINUTES + 1).is_err());
        assert!(minutes(i64::MAX).is_err());
        assert!(tz_offset(-721).is_err());
        assert!(tz_offset(840).is_ok());
        assert!(max_contacts_per_week(Some(0)).is_err());
        assert!(max_contacts_per_week(None).is_ok());
    }

    #[test]
    fn contact_start_must_be_plausible() {
        let now = 1_780_000_000_000;
        assert!(contact_start(now, now).is_ok());
        assert_eq!(
            contact_start(now + FUTURE_TOLERANCE_MS + 1, now),
            Err(invalid("at", Problem::InFuture))
        );
        assert_eq!(contact_start(0, now), Err(invalid("at", Problem::TooOld)));
        assert!(contact_start(i64::MAX, i64::MAX).is_err());
    }

    #[test]
    fn unknown_codes_are_named() {
        assert_eq!(
            code::<ContactMode>("mode", "carrier-pigeon"),
            Err(invalid("mode", Problem::UnknownCategory))
        );
        assert_eq!(code::<ContactMode>("mode", "phone"), Ok(ContactMode::Phone));
    }

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            tags("interests", &owned(&[" fishing ", "music", "fishing"])),
            Ok(owned(&["fishing", "music"]))
        );
        assert_eq!(
            tags("interests", &owned(&[&"ø".repeat(TAG_MAX_CHARS)])).map(|t| t.len()),
            Ok(1)
        );
        assert_eq!(
            tags("interests", &owned(&[&"x".repeat(TAG_MAX_CHARS + 1)])),
            Err(invalid(
                "interests",
                Problem::TooLong { max: TAG_MAX_CHARS }
            ))
        );
        let many: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{i}")).collect();
        assert_eq!(
            tags("background", &many),
            Err(invalid("background", Problem::TooMany { max: TAGS_MAX }))
        );
        assert_eq!(
            tags("background", &owned(&["a\u{7}b"])),
            Err(invalid("background", Problem::ControlCharacters))
        );
    }

    #[test]
    fn a_birth_year_is_from_1900_to_the_year_begun_somewhere() {
        // 2026-12-31T12:00:00Z: already 2027 in Kiribati (UTC+14), not yet in Oslo.
        let new_years_eve_noon = 1_798_718_400_000;
        assert_eq!(birth_year(1900, new_years_eve_noon), Ok(1900));
        assert_eq!(birth_year(2027, new_years_eve_noon), Ok(2027));
        assert!(birth_year(1899, new_years_eve_noon).is_err());
        assert!(birth_year(2028, new_years_eve_noon).is_err());
        // 2026-06-01: 2027 has begun nowhere.
        assert!(birth_year(2027, 1_780_272_000_000).is_err());
        assert!(
            birth_year(2026, i64::MAX).is_ok(),
            "no overflow at the end of time"
        );
    }
}
