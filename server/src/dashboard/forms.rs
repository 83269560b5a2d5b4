//! Form input shared by the dashboard's pages: the CSRF-only form, comma-separated tags, birth
//! years and caseload limits, each refused with a [`FieldProblem`] the page names next to the
//! field. Tags and birth years are checked by core's rules, the ones the CLI and the case
//! document use.

use peerlog_core::document::validate::{self, BIRTH_YEAR_MIN, Problem, TAG_MAX_CHARS, TAGS_MAX};
use serde::Deserialize;

use super::i18n::{Lang, texts};

texts! {
    err_too_many: "has more than {} tags", "har flere enn {} ord";
    err_too_long: "has a tag longer than {} characters", "har et ord som er lengre enn {} tegn";
    err_control: "contains characters that are not allowed", "inneholder tegn som ikke er tillatt";
    err_year: "must be empty or a year from {} to this year", "må være tomt eller et år fra {} til i år";
    err_max_cases: "must be empty or a whole number from 0 to 100", "må være tomt eller et heltall fra 0 til 100";
}

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
    pub(crate) fn message(self, lang: Lang) -> String {
        let t = t(lang);
        let with = |text: &str, n: String| text.replacen("{}", &n, 1);
        match self {
            FieldProblem::TooManyTags => with(t.err_too_many, TAGS_MAX.to_string()),
            FieldProblem::TagTooLong => with(t.err_too_long, TAG_MAX_CHARS.to_string()),
            FieldProblem::ControlCharacters => t.err_control.to_owned(),
            FieldProblem::BadYear => with(t.err_year, BIRTH_YEAR_MIN.to_string()),
            FieldProblem::BadMaxCases => t.err_max_cases.to_owned(),
        }
    }
}

/// Comma-separated tags, checked by core's rule ([`validate::tags`]): empty ones dropped,
/// repeats dropped.
pub(crate) fn parse_tags(input: &str) -> Result<Vec<String>, FieldProblem> {
    let typed: Vec<String> = input
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    validate::tags("tags", &typed).map_err(|e| match e.problem {
        Problem::TooMany { .. } => FieldProblem::TooManyTags,
        Problem::TooLong { .. } => FieldProblem::TagTooLong,
        _ => FieldProblem::ControlCharacters,
    })
}

/// An optional birth year, checked by core's rule ([`validate::birth_year`]).
pub(crate) fn parse_birth_year(input: &str, now: i64) -> Result<Option<i32>, FieldProblem> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let year = input.parse::<i32>().map_err(|_| FieldProblem::BadYear)?;
    validate::birth_year(year, now)
        .map(Some)
        .map_err(|_| FieldProblem::BadYear)
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
        assert_eq!(
            parse_tags(&"x".repeat(TAG_MAX_CHARS + 1)),
            Err(FieldProblem::TagTooLong)
        );
        assert_eq!(
            parse_tags(&"ø".repeat(TAG_MAX_CHARS)).map(|t| t.len()),
            Ok(1)
        );
        assert_eq!(parse_tags("a\u{7}b"), Err(FieldProblem::ControlCharacters));
    }

    #[test]
    fn years_and_caseloads_are_optional_and_bounded() {
        // 2026-06-01T00:00:00Z
        let june = 1_780_272_000_000;
        assert_eq!(parse_birth_year("", june), Ok(None));
        assert_eq!(parse_birth_year(" 1984 ", june), Ok(Some(1984)));
        assert_eq!(parse_birth_year("1900", june), Ok(Some(1900)));
        assert_eq!(parse_birth_year("2026", june), Ok(Some(2026)));
        for bad in ["1899", "2027", "nineteen", "19.5", "-1"] {
            assert_eq!(
                parse_birth_year(bad, june),
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
                let message = p.message(lang);
                assert!(!message.is_empty() && !message.contains("{}"), "{message}");
            }
        }
    }
}
