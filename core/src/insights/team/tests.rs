//! Tests of the team overview and its signals, and properties of the weekly numbers.

use jiff::civil::date;
use proptest::prelude::*;

use super::*;
use crate::insights::prw::{prw_week, weekly_series};
use crate::insights::testutil::{CaseBuilder, contact, contact_at, entry, goal, ms, oslo, user};
use crate::model::{GoalStatus, Initiator, LifeArea};
use crate::settings::SignalThresholds;

/// Wednesday 2026-06-17 12:00 local, week 2026-W25.
fn now() -> UnixMillis {
    ms("2026-06-17T10:00:00Z")
}

fn by_user(n: u64, at: &str) -> crate::model::Contact {
    let mut c = contact(n, at, 10);
    c.initiated_by = Initiator::ServiceUser;
    c
}

#[test]
fn contacts_above_the_agreed_max_this_week_and_last_are_signalled() {
    let case = CaseBuilder::new(1, "prw-a")
        .max_per_week(1)
        // Last week (W24): two by the service user.
        .contact(by_user(1, "2026-06-09T10:00:00Z"))
        .contact(by_user(2, "2026-06-10T10:00:00Z"))
        // This week (W25): one by the service user, one by the PRW: not above.
        .contact(by_user(3, "2026-06-15T10:00:00Z"))
        .contact(contact(4, "2026-06-16T10:00:00Z", 10))
        .build();
    let team = team_signals([&case], &oslo(), now());
    assert_eq!(team.week.to_string(), "2026-W25");
    assert_eq!(
        team.signals,
        vec![Signal::AboveAgreedContacts {
            prw: user("prw-a"),
            case: case.id,
            week: "2026-W24".parse().unwrap(),
            count: 2,
            max: 1,
            source: LimitSource::Agreed,
        }]
    );
    assert_eq!(team.signals[0].prw(), &user("prw-a"));
    assert_eq!(team.signals[0].case(), Some(&case.id));
}

#[test]
fn the_org_default_max_applies_when_the_case_agrees_none() {
    let case = CaseBuilder::new(1, "prw-a")
        .contact(by_user(1, "2026-06-15T10:00:00Z"))
        .contact(by_user(2, "2026-06-16T10:00:00Z"))
        .build();
    assert!(team_signals([&case], &oslo(), now()).signals.is_empty());
    let th = SignalThresholds {
        default_max_contacts_per_week: Some(1),
        ..SignalThresholds::default()
    };
    let settings = oslo().with_thresholds(th).unwrap();
    let team = team_signals([&case], &settings, now());
    assert!(matches!(
        team.signals.as_slice(),
        [Signal::AboveAgreedContacts {
            count: 2,
            max: 1,
            source: LimitSource::OrgDefault,
            ..
        }]
    ));
}

#[test]
fn many_contacts_outside_office_hours_and_late_nights_are_signalled() {
    let case = CaseBuilder::new(1, "prw-a")
        // W25 (CEST): Mon 10:00 office; Mon 19:00 evening; Tue 23:00 and Wed 01:00 late night.
        .contact(contact(1, "2026-06-15T08:00:00Z", 30))
        .contact(contact(2, "2026-06-15T17:00:00Z", 30))
        .contact(contact(3, "2026-06-16T21:00:00Z", 30))
        .contact(contact(4, "2026-06-16T23:00:00Z", 30))
        .build();
    let team = team_signals([&case], &oslo(), now());
    let week: IsoWeek = "2026-W25".parse().unwrap();
    assert_eq!(
        team.signals,
        vec![
            Signal::ManyOutsideHours {
                prw: user("prw-a"),
                week,
                share: 0.75,
                outside: 3,
                contacts: 4,
            },
            Signal::RepeatedLateNight {
                prw: user("prw-a"),
                week,
                count: 2,
            },
        ]
    );
    assert_eq!(team.signals[0].case(), None);
    // Below the minimum number of contacts a high share is not a pattern.
    let few = CaseBuilder::new(1, "prw-a")
        .contact(contact(1, "2026-06-15T17:00:00Z", 30))
        .contact(contact(2, "2026-06-13T10:00:00Z", 30))
        .build();
    assert!(team_signals([&few], &oslo(), now()).signals.is_empty());
}

#[test]
fn no_contact_is_counted_in_local_calendar_days() {
    // Last contact Wednesday 2026-06-03 23:30 local (21:30 UTC): 14 days before now's date.
    let quiet = CaseBuilder::new(1, "prw-a")
        .contact(contact(1, "2026-06-03T21:30:00Z", 30))
        .build();
    let team = team_signals([&quiet], &oslo(), now());
    assert_eq!(
        team.signals,
        vec![Signal::NoContactFor {
            prw: user("prw-a"),
            case: quiet.id,
            days: 14,
            last_contact_at: Some(ms("2026-06-03T21:30:00Z")),
        }]
    );
    // 00:30 local the next day (22:30 UTC the same UTC day) is 13 days: no signal.
    let recent = CaseBuilder::new(1, "prw-a")
        .contact(contact(1, "2026-06-03T22:30:00Z", 30))
        .build();
    assert!(team_signals([&recent], &oslo(), now()).signals.is_empty());
    assert_eq!(
        team_signals([&recent], &oslo(), now()).prws[0].cases[0].days_since_last_contact,
        Some(13)
    );
}

#[test]
fn deleted_contacts_do_not_count_as_contact() {
    let mut gone = contact(2, "2026-06-16T08:00:00Z", 30);
    gone.deleted = true;
    gone.flag_for_guidance = true;
    let case = CaseBuilder::new(1, "prw-a")
        .contact(contact(1, "2026-05-01T08:00:00Z", 30))
        .contact(gone)
        .build();
    let team = team_signals([&case], &oslo(), now());
    assert!(matches!(
        team.signals.as_slice(),
        [Signal::NoContactFor { days: 47, .. }]
    ));
    assert_eq!(team.prws[0].totals.contacts, 0);
}

#[test]
fn a_case_without_contacts_counts_from_its_start_and_closed_or_paused_cases_are_left_out() {
    let new = CaseBuilder::new(1, "prw-a")
        .started_on(date(2026, 6, 10))
        .build();
    assert!(team_signals([&new], &oslo(), now()).signals.is_empty());
    let stale = CaseBuilder::new(1, "prw-a")
        .started_on(date(2026, 5, 1))
        .build();
    assert!(matches!(
        team_signals([&stale], &oslo(), now()).signals.as_slice(),
        [Signal::NoContactFor {
            days: 47,
            last_contact_at: None,
            ..
        }]
    ));
    let future = CaseBuilder::new(1, "prw-a")
        .started_on(date(2026, 9, 1))
        .build();
    assert!(team_signals([&future], &oslo(), now()).signals.is_empty());
    for status in [CaseStatus::Closed, CaseStatus::Paused] {
        let quiet = CaseBuilder::new(1, "prw-a")
            .contact(contact(1, "2026-01-03T10:00:00Z", 30))
            .status(status)
            .build();
        let team = team_signals([&quiet], &oslo(), now());
        assert!(team.signals.is_empty(), "{status:?}");
    }
}

#[test]
fn overdue_reviews_of_boundaries_and_pending_goals_are_signalled() {
    let case = CaseBuilder::new(1, "prw-a")
        .contact(contact(1, "2026-06-16T08:00:00Z", 30))
        .review_on(date(2026, 6, 1))
        .goal(goal(
            1,
            LifeArea::Housing,
            GoalStatus::Active,
            Some(date(2026, 6, 16)),
        ))
        .goal(goal(
            2,
            LifeArea::Work,
            GoalStatus::Reached,
            Some(date(2026, 1, 1)),
        ))
        .goal(goal(
            3,
            LifeArea::Work,
            GoalStatus::Open,
            Some(date(2026, 6, 17)),
        ))
        .build();
    let team = team_signals([&case], &oslo(), now());
    assert_eq!(
        team.signals,
        vec![
            Signal::PlanReviewOverdue {
                prw: user("prw-a"),
                case: case.id,
                goal: None,
                since: date(2026, 6, 1),
                days: 16,
            },
            Signal::PlanReviewOverdue {
                prw: user("prw-a"),
                case: case.id,
                goal: Some(entry(1)),
                since: date(2026, 6, 16),
                days: 1,
            },
        ]
    );
    let closed = CaseBuilder::from(case).status(CaseStatus::Closed).build();
    assert!(team_signals([&closed], &oslo(), now()).signals.is_empty());
}

#[test]
fn flagged_contacts_within_the_lookback_are_on_the_agenda() {
    let flag = |n, at| {
        let mut c = contact(n, at, 30);
        c.flag_for_guidance = true;
        c
    };
    let case = CaseBuilder::new(1, "prw-a")
        .contact(flag(1, "2026-06-16T08:00:00Z"))
        .contact(flag(2, "2026-05-01T08:00:00Z")) // older than 28 days
        .contact(flag(3, "2026-05-25T08:00:00Z"))
        .contact(contact(4, "2026-06-15T08:00:00Z", 30))
        .build();
    let team = team_signals([&case], &oslo(), now());
    let flagged: Vec<_> = team
        .signals
        .iter()
        .filter_map(|s| match s {
            Signal::FlaggedForGuidance { contact, at, .. } => Some((contact.clone(), *at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        flagged,
        vec![
            (entry(3), ms("2026-05-25T08:00:00Z")),
            (entry(1), ms("2026-06-16T08:00:00Z")),
        ]
    );
    assert_eq!(
        team.prws[0].flagged().len(),
        1,
        "this week's flags in the PRW's week"
    );
}

#[test]
fn a_team_of_ten_prws_is_summarised_per_prw() {
    let mut cases = Vec::new();
    for p in 0..10u8 {
        for k in 0..3u8 {
            let n = p * 3 + k + 1;
            let mut b = CaseBuilder::new(n, &format!("prw-{p}"));
            for j in 0..u64::from(p) {
                let at = ms("2026-06-15T06:00:00Z") + i64::try_from(j).unwrap() * 3_600_000;
                b = b.contact(contact_at(u64::from(n) * 100 + j, at, 15));
            }
            cases.push(b.build());
        }
    }
    let team = team_signals(&cases, &oslo(), now());
    assert_eq!(team.prws.len(), 10);
    for (p, pw) in team.prws.iter().enumerate() {
        assert_eq!(pw.prw, user(&format!("prw-{p}")));
        assert_eq!(pw.caseload, 3);
        assert_eq!(pw.cases.len(), 3);
        assert_eq!(pw.totals.contacts, 3 * p as u32);
        assert_eq!(pw.totals.minutes, 45 * p as u64);
        assert_eq!(pw, &prw_week(&cases, &pw.prw, team.week, &oslo(), now()));
    }
    // Contacts start Monday 08:00 local, one an hour: only prw-9's ninth (16:00) is outside
    // office hours, 3 of 27, which is no pattern. prw-0 has had no contact in any case.
    assert_eq!(team.prws[9].totals.outside_office_hours, 3);
    assert_eq!(team.prws[8].totals.outside_office_hours, 0);
    let about: Vec<(&UserId, bool)> = team
        .signals
        .iter()
        .map(|s| (s.prw(), matches!(s, Signal::NoContactFor { .. })))
        .collect();
    let prw0 = user("prw-0");
    assert_eq!(about, vec![(&prw0, true); 3]);
    assert!(!format!("{team:?}").contains("SECRET"));
    assert!(!format!("{team:?}").contains("must never appear"));
}

#[test]
fn empty_inputs_give_an_empty_overview() {
    let none: [Case; 0] = [];
    let team = team_signals(&none, &oslo(), now());
    assert!(team.prws.is_empty() && team.signals.is_empty());
    let team = team_signals(&none, &oslo(), i64::MIN);
    assert!(team.prws.is_empty());
    let idle = CaseBuilder::new(1, "prw-a").build();
    let team = team_signals([&idle], &oslo(), i64::MAX);
    assert_eq!(team.prws[0].totals.outside_office_hours_share, None);
}

/// An arbitrary contact within a few weeks around the 2026 spring change.
fn arb_contact() -> impl Strategy<Value = crate::model::Contact> {
    (
        0u64..1_000_000,
        ms("2026-03-09T00:00:00Z")..ms("2026-04-13T00:00:00Z"),
        any::<u32>(),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(Initiator::ALL),
    )
        .prop_map(|(n, at, minutes, deleted, flagged, initiator)| {
            let mut c = contact_at(n, at, minutes);
            c.deleted = deleted;
            c.flag_for_guidance = flagged;
            c.initiated_by = initiator;
            c
        })
}

fn arb_cases() -> impl Strategy<Value = Vec<Case>> {
    prop::collection::vec(
        (
            prop::collection::vec(arb_contact(), 0..25),
            prop::sample::select(vec!["prw-a", "prw-b"]),
            prop::sample::select(CaseStatus::ALL),
            prop::option::of(0u32..4),
        ),
        0..6,
    )
    .prop_map(|cases| {
        cases
            .into_iter()
            .enumerate()
            .map(|(i, (contacts, prw, status, max))| {
                let mut b = CaseBuilder::new(u8::try_from(i).unwrap_or(0), prw).status(status);
                if let Some(max) = max {
                    b = b.max_per_week(max);
                }
                contacts.into_iter().fold(b, CaseBuilder::contact).build()
            })
            .collect()
    })
}

fn share_ok(share: Option<f64>, contacts: u32) -> bool {
    match share {
        None => contacts == 0,
        Some(s) => contacts > 0 && (0.0..=1.0).contains(&s),
    }
}

proptest! {
    #[test]
    fn shares_stay_in_range_and_week_totals_are_the_sum_of_the_cases(
        cases in arb_cases(),
        now in ms("2026-03-01T00:00:00Z")..ms("2026-04-20T00:00:00Z"),
    ) {
        let settings = oslo();
        let team = team_signals(&cases, &settings, now);
        for pw in &team.prws {
            let t = &pw.totals;
            prop_assert!(share_ok(t.outside_office_hours_share, t.contacts));
            prop_assert!(share_ok(t.weekend_share, t.contacts));
            prop_assert_eq!(t.contacts, pw.cases.iter().map(|c| c.totals.contacts).sum::<u32>());
            prop_assert_eq!(t.minutes, pw.cases.iter().map(|c| c.totals.minutes).sum::<u64>());
            prop_assert_eq!(
                t.outside_office_hours,
                pw.cases.iter().map(|c| c.totals.outside_office_hours).sum::<u32>()
            );
            prop_assert_eq!(t.weekend, pw.cases.iter().map(|c| c.totals.weekend).sum::<u32>());
            prop_assert_eq!(t.evening, pw.cases.iter().map(|c| c.totals.evening).sum::<u32>());
            prop_assert_eq!(t.late_night, pw.cases.iter().map(|c| c.totals.late_night).sum::<u32>());
            prop_assert_eq!(
                t.service_user_initiated,
                pw.cases.iter().map(|c| c.totals.service_user_initiated).sum::<u32>()
            );
            prop_assert_eq!(t.by_mode.values().sum::<u32>(), t.contacts);
            for cw in &pw.cases {
                prop_assert!(share_ok(cw.totals.outside_office_hours_share, cw.totals.contacts));
                prop_assert!(share_ok(cw.totals.weekend_share, cw.totals.contacts));
            }
            // The week total is every live contact of the PRW's cases inside the week.
            let expected = cases
                .iter()
                .filter(|c| c.prw == pw.prw)
                .flat_map(Case::live_contacts)
                .filter(|c| pw.bounds.contains(c.at))
                .count();
            prop_assert_eq!(t.contacts as usize, expected);
        }
        for signal in &team.signals {
            if let Signal::ManyOutsideHours { share, .. } = signal {
                prop_assert!((0.0..=1.0).contains(share));
            }
        }
        // The weekly series agrees with the week-by-week numbers.
        let from = team.week.checked_add_weeks(-4).unwrap();
        for prw in ["prw-a", "prw-b"] {
            let series = weekly_series(&cases, &user(prw), from, 5, &settings);
            for p in &series {
                let pw = prw_week(&cases, &user(prw), p.week, &settings, now);
                prop_assert_eq!(&p.totals, &pw.totals);
            }
        }
    }
}

proptest! {
    #[test]
    fn any_instants_and_durations_never_panic(
        ats in prop::collection::vec(any::<i64>(), 0..8),
        minutes in any::<u32>(),
        now in any::<i64>(),
        week in (i16::MIN..i16::MAX, 0i8..60),
    ) {
        let settings = oslo();
        let case = ats
            .iter()
            .enumerate()
            .fold(CaseBuilder::new(1, "prw-a").max_per_week(0), |b, (i, at)| {
                let mut c = contact_at(i as u64, *at, minutes);
                c.flag_for_guidance = true;
                c.initiated_by = Initiator::ServiceUser;
                b.contact(c)
            })
            .review_on(date(2026, 1, 1))
            .build();
        let team = team_signals([&case], &settings, now);
        prop_assert_eq!(team.prws.len(), 1);
        if let Ok(w) = IsoWeek::new(week.0, week.1) {
            let pw = prw_week([&case], &user("prw-a"), w, &settings, now);
            prop_assert!(pw.bounds.start <= pw.bounds.end);
            let series = weekly_series([&case], &user("prw-a"), w, 3, &settings);
            prop_assert!(series.len() <= 3);
        }
    }
}
