//! Form input shared by the dashboard's pages: the CSRF-only form, comma-separated tags, birth
//! years and caseload limits, each refused with a [`FieldProblem`] the page names next to the
//! field.

use serde::Deserialize;

use super::i18n::{Lang, texts};

texts! {
    err_too_many: "has more than 20 tags", "har flere enn 20 ord";
    err_too_long: "has a tag longer than 40 characters", "har et ord som er lengre enn 40 tegn";
    err_control: "contains characters that are not allowed", "inneholder tegn som ikke er tillatt";
    err_year: "must be empty or a year from 1900 to this year", "må være tomt eller et år fra 1900 til i år";
    err_max_cases: "must be empty or a whole number from 0 to 100", "må være tomt eller et heltall fra 0 til 100";
}

/// Most tags (interests, background) a profile or a new case holds.
pub(crate) const TAGS_MAX: usize = 20;

/// Longest tag, in characters.
pub(crate) const TAG_MAX_CHARS: usize = 40;

/// Largest caseload a profile may name.
pub(crate) const MAX_CASES_LIMIT: u32 = 100;

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// Why a typed field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldProblem {
    TooManyTags,
    TagTooLong,
    ControlCharacters,
    BadYear,
    BadMaxCases,
}

impl FieldProblem {
    /// The problem in words (after the field's label).
    pub(crate) fn message(self, lang: Lang) -> &'static str {
        let t = t(lang);
        match self {
            FieldProblem::TooManyTags => t.err_too_many,
            FieldProblem::TagTooLong => t.err_too_long,
            FieldProblem::ControlCharacters => t.err_control,
            FieldProblem::BadYear => t.err_year,
            FieldProblem::BadMaxCases => t.err_max_cases,
        }
    }
}

/// Comma-separated tags: trimmed, empty ones dropped, duplicates dropped, at most [`TAGS_MAX`]
/// of at most [`TAG_MAX_CHARS`] characters each.
pub(crate) fn parse_tags(input: &str) -> Result<Vec<String>, FieldProblem> {
    let mut out: Vec<String> = Vec::new();
    for tag in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if tag.chars().any(char::is_control) {
            return Err(FieldProblem::ControlCharacters);
        }
        if tag.chars().count() > TAG_MAX_CHARS {
            return Err(FieldProblem::TagTooLong);
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    }
    if out.len() > TAGS_MAX {
        return Err(FieldProblem::TooManyTags);
    }
    Ok(out)
}

/// The current year in the organisation's time zone.
pub(crate) fn current_year(now: i64, tz: &jiff::tz::TimeZone) -> i32 {
    jiff::Timestamp::from_millisecond(now)
        .map(|ts| i32::from(ts.to_zoned_datetime(tz.clone()).year()))
        .unwrap_or(i32::from(i16::MAX))
}

/// An optional birth year: empty, or 1900 to `this_year`.
pub(crate) fn parse_birth_year(input: &str, this_year: i32) -> Result<Option<i32>, FieldProblem> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match input.parse::<i32>() {
        Ok(year) if (1900..=this_year).contains(&year) => Ok(Some(year)),
        _ => Err(FieldProblem::BadYear),
    }
}

/// An optional caseload limit: empty, or 0 to [`MAX_CASES_LIMIT`].
pub(crate) fn parse_max_cases(input: &str) -> Result<Option<u32>, FieldProblem> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match input.parse::<u32>() {
        Ok(n) if n <= MAX_CASES_LIMIT => Ok(Some(n)),
        _ => Err(FieldProblem::BadMaxCases),
    }
}

/// Tags as typed back into a text field.
pub(crate) fn join_tags(tags: &[String]) -> String {
    tags.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_and_limited() {
        assert_eq!(
            parse_tags(" fishing, music ,, fishing,"),
            Ok(vec!["fishing".to_owned(), "music".to_owned()])
        );
        assert_eq!(parse_tags("   "), Ok(vec![]));
        let many = (0..21)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_tags(&many), Err(FieldProblem::TooManyTags));
        let twenty = (0..20)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_tags(&twenty).map(|t| t.len()), Ok(20));
        assert_eq!(parse_tags(&"x".repeat(41)), Err(FieldProblem::TagTooLong));
        assert_eq!(parse_tags(&"ø".repeat(40)).map(|t| t.len()), Ok(1));
        assert_eq!(parse_tags("a\u{7}b"), Err(FieldProblem::ControlCharacters));
    }

    #[test]
    fn years_and_caseloads_are_optional_and_bounded() {
        assert_eq!(parse_birth_year("", 2026), Ok(None));
        assert_eq!(parse_birth_year(" 1984 ", 2026), Ok(Some(1984)));
        assert_eq!(parse_birth_year("1900", 2026), Ok(Some(1900)));
        assert_eq!(parse_birth_year("2026", 2026), Ok(Some(2026)));
        for bad in ["1899", "2027", "nineteen", "19.5", "-1"] {
            assert_eq!(
                parse_birth_year(bad, 2026),
                Err(FieldProblem::BadYear),
                "{bad}"
            );
        }
        assert_eq!(parse_max_cases(""), Ok(None));
        assert_eq!(parse_max_cases("0"), Ok(Some(0)));
        assert_eq!(parse_max_cases("100"), Ok(Some(100)));
        for bad in ["101", "-1", "six"] {
            assert_eq!(
                parse_max_cases(bad),
                Err(FieldProblem::BadMaxCases),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_problem_has_a_message_in_both_languages() {
        for lang in Lang::ALL {
            for p in [
                FieldProblem::TooManyTags,
                FieldProblem::TagTooLong,
                FieldProblem::ControlCharacters,
                FieldProblem::BadYear,
                FieldProblem::BadMaxCases,
            ] {
                assert!(!p.message(lang).is_empty());
            }
        }
    }
}
