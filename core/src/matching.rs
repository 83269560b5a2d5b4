//! Matching a new service user with a PRW: a ranked list of suggestions for the coordinator.
//!
//! The ranking is a prompt for the coordinator's judgement, not a decision. It is pure and
//! deterministic: the same newcomer and profiles always give the same list.
//!
//! # Scoring
//!
//! Tags (interests, background) compare after trimming and Unicode lowercasing, so `"Fiske"` and
//! `"fiske "` are the same tag; empty tags and repeats are ignored. A PRW's score is the sum of:
//!
//! | what                                                              | points         |
//! |-------------------------------------------------------------------|----------------|
//! | each background tag shared with the newcomer (lived experience)   | 4              |
//! | each interest shared with the newcomer                            | 3              |
//! | both birth years known and in the same ten-year band (1990–1999)  | 2              |
//! | each free case slot, up to 3                                      | 1              |
//!
//! Free slots are `max_cases - active_cases` when the PRW has a maximum; without one they count
//! as one free slot.
//!
//! # Order
//!
//! PRWs with room come first, best score first; PRWs at or over their maximum follow, also by
//! score (they are listed, marked [`Suggestion::at_capacity`], so the coordinator sees the whole
//! picture). Ties go to the PRW with fewer active cases, then to the smaller user id.

use std::cmp::{Ordering, Reverse};
use std::collections::BTreeSet;

use crate::ids::UserId;

/// Points per shared background tag.
pub const BACKGROUND_POINTS: u32 = 4;
/// Points per shared interest.
pub const INTEREST_POINTS: u32 = 3;
/// Points when both birth years lie in the same ten-year band.
pub const AGE_BAND_POINTS: u32 = 2;
/// At most this many free slots add a point each.
pub const MAX_CAPACITY_POINTS: u32 = 3;

/// What matching knows about a PRW.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrwProfile {
    pub prw: UserId,
    pub interests: Vec<String>,
    /// Lived experience the PRW is willing to draw on.
    pub background: Vec<String>,
    pub birth_year: Option<i32>,
    /// The most cases the PRW should follow at once; `None` when no maximum is set.
    pub max_cases: Option<u32>,
    /// The cases the PRW follows now.
    pub active_cases: u32,
}

/// What matching knows about the service user to be matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Newcomer {
    pub interests: Vec<String>,
    pub background: Vec<String>,
    pub birth_year: Option<i32>,
}

/// One PRW in the ranked list, with the reasons for their score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub prw: UserId,
    /// See the [module documentation](self) for the points.
    pub score: u32,
    /// Shared interests in the newcomer's spelling (trimmed) and order.
    pub shared_interests: Vec<String>,
    /// Shared background tags in the newcomer's spelling (trimmed) and order.
    pub shared_background: Vec<String>,
    /// Both birth years are known and in the same ten-year band.
    pub same_age_band: bool,
    /// `max_cases - active_cases` (0 when over); `None` when the PRW has no maximum.
    pub free_capacity: Option<u32>,
    /// The PRW follows at least their maximum number of cases.
    pub at_capacity: bool,
}

/// Ranks every profile for the newcomer, best match first (see the module documentation).
pub fn suggest(newcomer: &Newcomer, profiles: &[PrwProfile]) -> Vec<Suggestion> {
    let interests = Tags::new(&newcomer.interests);
    let background = Tags::new(&newcomer.background);
    let mut ranked: Vec<(u32, Suggestion)> = profiles
        .iter()
        .map(|p| {
            let s = score(&interests, &background, newcomer.birth_year, p);
            (p.active_cases, s)
        })
        .collect();
    ranked.sort_by(|(a_active, a), (b_active, b)| rank(a, *a_active, b, *b_active));
    ranked.into_iter().map(|(_, s)| s).collect()
}

/// The order of two suggestions: room before full, higher score, fewer active cases, user id.
fn rank(a: &Suggestion, a_active: u32, b: &Suggestion, b_active: u32) -> Ordering {
    let key = |s: &Suggestion, active: u32| (s.at_capacity, Reverse(s.score), active);
    key(a, a_active)
        .cmp(&key(b, b_active))
        .then_with(|| a.prw.cmp(&b.prw))
}

fn score(
    interests: &Tags<'_>,
    background: &Tags<'_>,
    birth_year: Option<i32>,
    p: &PrwProfile,
) -> Suggestion {
    let shared_interests = interests.shared_with(&p.interests);
    let shared_background = background.shared_with(&p.background);
    let same_age_band = match (birth_year, p.birth_year) {
        (Some(a), Some(b)) => a.div_euclid(10) == b.div_euclid(10),
        _ => false,
    };
    let free_capacity = p.max_cases.map(|max| max.saturating_sub(p.active_cases));
    let at_capacity = p.max_cases.is_some_and(|max| p.active_cases >= max);
    let score = points(shared_background.len(), BACKGROUND_POINTS)
        .saturating_add(points(shared_interests.len(), INTEREST_POINTS))
        .saturating_add(if same_age_band { AGE_BAND_POINTS } else { 0 })
        .saturating_add(free_capacity.unwrap_or(1).min(MAX_CAPACITY_POINTS));
    Suggestion {
        prw: p.prw.clone(),
        score,
        shared_interests,
        shared_background,
        same_age_band,
        free_capacity,
        at_capacity,
    }
}

fn points(count: usize, each: u32) -> u32 {
    u32::try_from(count)
        .unwrap_or(u32::MAX)
        .saturating_mul(each)
}

/// A tag as compared: trimmed and lowercased.
fn normalise(tag: &str) -> String {
    tag.trim().to_lowercase()
}

/// The newcomer's tags: each distinct one once, in first-seen order, with its trimmed spelling.
struct Tags<'a> {
    tags: Vec<(String, &'a str)>,
}

impl<'a> Tags<'a> {
    fn new(tags: &'a [String]) -> Self {
        let mut seen = BTreeSet::new();
        let tags = tags
            .iter()
            .filter_map(|t| {
                let key = normalise(t);
                (!key.is_empty() && seen.insert(key.clone())).then(|| (key, t.trim()))
            })
            .collect();
        Self { tags }
    }

    /// The newcomer's tags that are among `theirs`, in the newcomer's spelling and order.
    fn shared_with(&self, theirs: &[String]) -> Vec<String> {
        if self.tags.is_empty() {
            return Vec::new();
        }
        let theirs: BTreeSet<String> = theirs.iter().map(|t| normalise(t)).collect();
        self.tags
            .iter()
            .filter(|(key, _)| theirs.contains(key))
            .map(|(_, spelling)| (*spelling).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| (*t).to_owned()).collect()
    }

    fn prw(id: &str) -> PrwProfile {
        PrwProfile {
            prw: id.parse().unwrap(),
            interests: Vec::new(),
            background: Vec::new(),
            birth_year: None,
            max_cases: Some(3),
            active_cases: 3,
        }
    }

    fn newcomer() -> Newcomer {
        Newcomer::default()
    }

    fn only(newcomer: &Newcomer, profile: PrwProfile) -> Suggestion {
        let mut list = suggest(newcomer, &[profile]);
        assert_eq!(list.len(), 1);
        list.remove(0)
    }

    fn order(list: &[Suggestion]) -> Vec<&str> {
        list.iter().map(|s| s.prw.as_str()).collect()
    }

    #[test]
    fn shared_background_scores_four_each() {
        let n = Newcomer {
            background: tags(&["Rus", "fengsel", "bostedsløs"]),
            ..newcomer()
        };
        let s = only(
            &n,
            PrwProfile {
                background: tags(&["rus", "Fengsel", "psykiatri"]),
                ..prw("a")
            },
        );
        assert_eq!(s.shared_background, tags(&["Rus", "fengsel"]));
        assert!(s.shared_interests.is_empty());
        assert_eq!(s.score, 8);
    }

    #[test]
    fn shared_interests_score_three_each() {
        let n = Newcomer {
            interests: tags(&["Fiske", "musikk"]),
            ..newcomer()
        };
        let s = only(
            &n,
            PrwProfile {
                interests: tags(&["fiske ", "fotball", "MUSIKK"]),
                ..prw("a")
            },
        );
        assert_eq!(s.shared_interests, tags(&["Fiske", "musikk"]));
        assert_eq!(s.score, 6);
        // Interests and background are separate lists: an interest does not match a background tag.
        let s = only(
            &n,
            PrwProfile {
                background: tags(&["fiske"]),
                ..prw("a")
            },
        );
        assert_eq!(s.score, 0);
    }

    #[test]
    fn tags_compare_trimmed_unicode_lowercase_without_repeats() {
        let n = Newcomer {
            interests: tags(&[
                "  Ølbrygging ",
                "ølbrygging",
                "ØLBRYGGING",
                "",
                "   ",
                "Ski",
            ]),
            ..newcomer()
        };
        let s = only(
            &n,
            PrwProfile {
                interests: tags(&["ølbrygging", "ølbrygging", "", "SKI\t"]),
                ..prw("a")
            },
        );
        // Reported once, in the newcomer's first spelling, trimmed.
        assert_eq!(s.shared_interests, tags(&["Ølbrygging", "Ski"]));
        assert_eq!(s.score, 6);
        // Empty tags never match each other.
        let n = Newcomer {
            interests: tags(&["", " "]),
            ..newcomer()
        };
        let s = only(
            &n,
            PrwProfile {
                interests: tags(&["", " "]),
                ..prw("a")
            },
        );
        assert!(s.shared_interests.is_empty());
        assert_eq!(s.score, 0);
    }

    #[test]
    fn same_ten_year_band_scores_two() {
        let born = |year| Newcomer {
            birth_year: year,
            ..newcomer()
        };
        let prw_born = |year| PrwProfile {
            birth_year: year,
            ..prw("a")
        };
        for (a, b, same) in [
            (Some(1990), Some(1999), true),
            (Some(1995), Some(1995), true),
            (Some(1989), Some(1990), false),
            (Some(1999), Some(2000), false),
            (Some(1990), None, false),
            (None, Some(1990), false),
            (None, None, false),
            (Some(-5), Some(-1), true),
            (Some(-1), Some(1), false),
            (Some(i32::MIN), Some(i32::MAX), false),
        ] {
            let s = only(&born(a), prw_born(b));
            assert_eq!(s.same_age_band, same, "{a:?} {b:?}");
            assert_eq!(s.score, if same { 2 } else { 0 });
        }
    }

    #[test]
    fn free_slots_score_one_each_up_to_three() {
        let n = newcomer();
        let with = |max: Option<u32>, active| PrwProfile {
            max_cases: max,
            active_cases: active,
            ..prw("a")
        };
        let s = only(&n, with(Some(3), 1));
        assert_eq!(
            (s.free_capacity, s.at_capacity, s.score),
            (Some(2), false, 2)
        );
        let s = only(&n, with(Some(10), 0));
        assert_eq!(
            (s.free_capacity, s.at_capacity, s.score),
            (Some(10), false, 3)
        );
        let s = only(&n, with(Some(3), 3));
        assert_eq!(
            (s.free_capacity, s.at_capacity, s.score),
            (Some(0), true, 0)
        );
        let s = only(&n, with(Some(2), 5));
        assert_eq!(
            (s.free_capacity, s.at_capacity, s.score),
            (Some(0), true, 0)
        );
        let s = only(&n, with(Some(0), 0));
        assert_eq!(
            (s.free_capacity, s.at_capacity, s.score),
            (Some(0), true, 0)
        );
        // No maximum: one free slot, never at capacity.
        let s = only(&n, with(None, 40));
        assert_eq!((s.free_capacity, s.at_capacity, s.score), (None, false, 1));
    }

    #[test]
    fn points_add_up() {
        let n = Newcomer {
            interests: tags(&["fiske", "sjakk"]),
            background: tags(&["rus"]),
            birth_year: Some(1991),
        };
        let s = only(
            &n,
            PrwProfile {
                interests: tags(&["Sjakk", "Fiske"]),
                background: tags(&["Rus"]),
                birth_year: Some(1998),
                max_cases: Some(3),
                active_cases: 1,
                ..prw("a")
            },
        );
        assert_eq!(s.score, 4 + 2 * 3 + 2 + 2);
        assert!(s.same_age_band);
        // Shared tags follow the newcomer's order, not the PRW's.
        assert_eq!(s.shared_interests, tags(&["fiske", "sjakk"]));
    }

    #[test]
    fn at_capacity_comes_last_whatever_the_score() {
        let n = Newcomer {
            background: tags(&["rus", "fengsel"]),
            ..newcomer()
        };
        let full_match = PrwProfile {
            background: tags(&["rus", "fengsel"]),
            ..prw("a-full")
        };
        let no_match = PrwProfile {
            active_cases: 2,
            ..prw("z-room")
        };
        let over = PrwProfile {
            background: tags(&["rus"]),
            max_cases: Some(1),
            active_cases: 2,
            ..prw("b-over")
        };
        let list = suggest(&n, &[full_match, over, no_match]);
        assert_eq!(order(&list), ["z-room", "a-full", "b-over"]);
        assert_eq!(list[0].score, 1);
        assert!(!list[0].at_capacity && list[1].at_capacity && list[2].at_capacity);
        // Among the full ones, the better score first.
        assert!(list[1].score > list[2].score);
    }

    #[test]
    fn higher_scores_first_then_fewer_active_cases_then_user_id() {
        let n = Newcomer {
            interests: tags(&["fiske"]),
            ..newcomer()
        };
        let p = |id: &str, interests: &[&str], max, active| PrwProfile {
            interests: tags(interests),
            max_cases: max,
            active_cases: active,
            ..prw(id)
        };
        let profiles = [
            // 1 point (no max): ties with "b" and "c" on score.
            p("d", &[], None, 5),
            // 1 free slot: 1 point, 2 active.
            p("c", &[], Some(3), 2),
            // 3 + 1 = 4 points.
            p("e", &["Fiske"], Some(3), 2),
            // 1 point, 2 active: ties with "c" on active cases too, so by id.
            p("b", &[], Some(3), 2),
            // 3 free slots: 3 points, 0 active.
            p("a", &[], Some(3), 0),
        ];
        let list = suggest(&n, &profiles);
        assert_eq!(order(&list), ["e", "a", "b", "c", "d"]);
        let scores: Vec<u32> = list.iter().map(|s| s.score).collect();
        assert_eq!(scores, [4, 3, 1, 1, 1]);
        // Deterministic whatever the input order.
        let mut reversed = profiles.clone();
        reversed.reverse();
        assert_eq!(suggest(&n, &reversed), list);
    }

    #[test]
    fn fewer_active_cases_wins_a_tie_before_the_id() {
        let n = Newcomer {
            birth_year: Some(1985),
            ..newcomer()
        };
        // Both: same band (2) + no maximum (1) = 3 points.
        let busy = PrwProfile {
            birth_year: Some(1980),
            max_cases: None,
            active_cases: 4,
            ..prw("a")
        };
        let quiet = PrwProfile {
            birth_year: Some(1989),
            max_cases: None,
            active_cases: 1,
            ..prw("b")
        };
        let list = suggest(&n, &[busy, quiet]);
        assert_eq!(order(&list), ["b", "a"]);
        assert_eq!(list[0].score, list[1].score);
    }

    #[test]
    fn nothing_to_rank() {
        assert!(suggest(&newcomer(), &[]).is_empty());
    }
}
