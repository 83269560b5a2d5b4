//! Monthly and yearly reports through the real router, on a seeded organisation: every number of
//! the CSV (downloaded as a browser does) and of `reports::figures::build` is checked against an
//! independent count of the generator's truth, with month bounds computed here in Europe/Oslo.
//! Also: coordinators get their own teams' numbers only, no alias ever appears, bad parameters
//! are a 400, another team is a 404, and an admin gets the whole organisation's aggregates.

mod common;

use std::collections::{BTreeMap, HashSet};

use axum::http::StatusCode;
use common::TestRelay;
use common::web::{Browser, PASSWORD, base32_decode, totp_now};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use peerlog_core::ids::TeamId;
use peerlog_core::insights::report::Period;
use peerlog_core::model::{ContactMode, Initiator, LifeArea, SupportType};
use peerlog_server::auth::password;
use peerlog_server::clock::now_ms;
use peerlog_server::dashboard::i18n::Lang;
use peerlog_server::dashboard::reports::figures::{self, ReportNumbers};
use peerlog_server::dashboard::scope::Scope;
use peerlog_server::dashboard::session::Viewer;
use peerlog_server::db::{identity, logins};
use peerlog_server::demo::generator::{SeedSpec, SeedTruth, seed_org};
use peerlog_server::sync::ports::Role;

/// The end of the seeded history: 30 weeks back is mid-April 2026.
const NOW: &str = "2026-11-10T11:00:00Z";

struct Org {
    relay: TestRelay,
    truth: SeedTruth,
    /// `kari`, coordinator of team-01.
    kari: String,
}

/// Three teams of seeded cases, and `kari`, a coordinator of team-01 with the test password.
async fn seeded() -> Org {
    let relay = TestRelay::start().await;
    let spec = SeedSpec {
        teams: 3,
        coordinators_per_team: 1,
        prws: 6,
        cases: 18,
        weeks: 30,
        closed_share: 0.25,
        seed: 11,
    };
    let now = NOW.parse::<Timestamp>().unwrap().as_millisecond();
    let truth = seed_org(&relay.relay.state.db, &spec, now).unwrap();
    let kari = relay.add_staff("kari", Role::Coordinator, "team-01");
    relay.reload_access();
    Org { relay, truth, kari }
}

fn team(truth: &SeedTruth, name: &str) -> TeamId {
    truth
        .teams
        .iter()
        .find(|(_, n)| n == name)
        .unwrap()
        .0
        .clone()
}

/// A coordinator of several teams, with the test password.
fn add_coordinator(relay: &TestRelay, name: &str, teams: &[TeamId]) -> String {
    let hash = password::hash(PASSWORD).unwrap();
    let id = relay
        .relay
        .state
        .db
        .write(|tx| {
            let user = identity::add_user(tx, name, Role::Coordinator, teams, now_ms())?;
            logins::set_password(tx, &user.id, &hash, now_ms())?;
            Ok::<_, peerlog_server::db::DbError>(user.id.to_string())
        })
        .unwrap();
    relay.reload_access();
    id
}

// --- The independent count. ---

fn oslo() -> TimeZone {
    TimeZone::get("Europe/Oslo").unwrap()
}

/// Local midnight at the start of `day` in Oslo, as Unix ms.
fn midnight(day: Date) -> i64 {
    day.to_zoned_datetime(oslo())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// The first day of a period and the first day after it.
fn days_of(label: &str) -> (Date, Date) {
    match label.split_once('-') {
        Some((y, m)) => {
            let first = date(y.parse().unwrap(), m.parse().unwrap(), 1);
            (first, first.checked_add(1.month()).unwrap())
        }
        None => {
            let y: i16 = label.parse().unwrap();
            (date(y, 1, 1), date(y + 1, 1, 1))
        }
    }
}

/// What a period should add up to, counted straight from the truth.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expected {
    followed: u32,
    new_cases: u32,
    closed_cases: u32,
    contacts: u32,
    minutes: u64,
    outside: u32,
    weekend: u32,
    by_user: u32,
    accompaniments: u32,
    by_mode: BTreeMap<String, u32>,
    by_topic: BTreeMap<String, u32>,
    by_support: BTreeMap<String, u32>,
}

fn expected(truth: &SeedTruth, teams: &[TeamId], label: &str) -> Expected {
    let (first, after) = days_of(label);
    let (start, end) = (midnight(first), midnight(after));
    let mut e = Expected::default();
    for m in ContactMode::ALL {
        e.by_mode.insert(m.code().to_owned(), 0);
    }
    for a in LifeArea::ALL {
        e.by_topic.insert(a.code().to_owned(), 0);
    }
    for s in SupportType::ALL {
        e.by_support.insert(s.code().to_owned(), 0);
    }
    for case in truth.cases.iter().filter(|c| teams.contains(&c.team)) {
        if case.started_on < after && case.closed_at.is_none_or(|at| at >= start) {
            e.followed += 1;
        }
        if first <= case.started_on && case.started_on < after {
            e.new_cases += 1;
        }
        if case.closed_at.is_some_and(|at| start <= at && at < end) {
            e.closed_cases += 1;
        }
    }
    for c in &truth.contacts {
        if c.deleted || !teams.contains(&c.team) || c.at < start || c.at >= end {
            continue;
        }
        let local = Timestamp::from_millisecond(c.at)
            .unwrap()
            .to_zoned_datetime(oslo());
        let weekend = local.weekday().to_monday_one_offset() >= 6;
        e.contacts += 1;
        e.minutes += u64::from(c.minutes);
        e.outside += u32::from(weekend || local.hour() < 8 || local.hour() >= 16);
        e.weekend += u32::from(weekend);
        e.by_user += u32::from(c.initiated_by == Initiator::ServiceUser);
        e.accompaniments += u32::from(c.mode == ContactMode::Accompany);
        *e.by_mode.get_mut(c.mode.code()).unwrap() += 1;
        let topics: HashSet<_> = c.topics.iter().collect();
        for t in topics {
            *e.by_topic.get_mut(t.code()).unwrap() += 1;
        }
        let support: HashSet<_> = c.support_types.iter().collect();
        for s in support {
            *e.by_support.get_mut(s.code()).unwrap() += 1;
        }
    }
    e
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

// --- Reading the CSV. ---

/// Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CRLF line ends"),
            (false, '\n') => panic!("a bare LF ends a CSV line"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last line ends with CRLF"
    );
    rows
}

/// The CSV's rows as column → value maps, after checking the header.
fn csv_records(text: &str) -> Vec<BTreeMap<String, String>> {
    let rows = parse_csv(text);
    let header = &rows[0];
    let mut want: Vec<String> = [
        "period",
        "team",
        "service_users_followed",
        "new_cases",
        "closed_cases",
        "contacts",
        "hours",
        "outside_office_hours_share",
        "weekend_share",
        "service_user_initiated",
        "accompaniments",
    ]
    .map(str::to_owned)
    .to_vec();
    want.extend(
        ContactMode::ALL
            .iter()
            .map(|m| format!("mode_{}", m.code())),
    );
    want.extend(LifeArea::ALL.iter().map(|a| format!("topic_{}", a.code())));
    want.extend(
        SupportType::ALL
            .iter()
            .map(|s| format!("support_{}", s.code())),
    );
    assert_eq!(header, &want, "the header row");
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

fn int(row: &BTreeMap<String, String>, col: &str) -> u32 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col}: {:?}", row[col]))
}

fn assert_share(got: &str, want: Option<f64>, what: &str) {
    match want {
        None => assert_eq!(got, "", "{what}: no contacts, no share"),
        Some(w) => {
            let g: f64 = got.parse().unwrap();
            assert!((g - w).abs() < 5e-5, "{what}: {g} vs {w}");
        }
    }
}

fn check_csv_row(row: &BTreeMap<String, String>, e: &Expected, label: &str, team: &str) {
    let what = format!("CSV {label} {team}");
    assert_eq!(row["period"], label, "{what}");
    assert_eq!(row["team"], team, "{what}");
    assert_eq!(
        int(row, "service_users_followed"),
        e.followed,
        "{what} followed"
    );
    assert_eq!(int(row, "new_cases"), e.new_cases, "{what} new");
    assert_eq!(int(row, "closed_cases"), e.closed_cases, "{what} closed");
    assert_eq!(int(row, "contacts"), e.contacts, "{what} contacts");
    let hours: f64 = row["hours"].parse().unwrap();
    assert!(
        row["hours"]
            .split_once('.')
            .is_some_and(|(_, d)| d.len() == 1),
        "{what}: one decimal"
    );
    assert!(
        (hours - e.minutes as f64 / 60.0).abs() <= 0.05 + 1e-9,
        "{what} hours {hours} vs {} min",
        e.minutes
    );
    assert_share(
        &row["outside_office_hours_share"],
        share(e.outside, e.contacts),
        &what,
    );
    assert_share(&row["weekend_share"], share(e.weekend, e.contacts), &what);
    assert_eq!(
        int(row, "service_user_initiated"),
        e.by_user,
        "{what} by user"
    );
    assert_eq!(
        int(row, "accompaniments"),
        e.accompaniments,
        "{what} accompaniments"
    );
    for (code, n) in &e.by_mode {
        assert_eq!(int(row, &format!("mode_{code}")), *n, "{what} mode {code}");
    }
    for (code, n) in &e.by_topic {
        assert_eq!(
            int(row, &format!("topic_{code}")),
            *n,
            "{what} topic {code}"
        );
    }
    for (code, n) in &e.by_support {
        assert_eq!(
            int(row, &format!("support_{code}")),
            *n,
            "{what} support {code}"
        );
    }
}

fn owned(map: &BTreeMap<&'static str, u32>) -> BTreeMap<String, u32> {
    map.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn check_numbers(n: &ReportNumbers, e: &Expected, label: &str) {
    let what = format!("build {label}");
    assert_eq!(n.period, label, "{what}");
    assert_eq!(
        (n.service_users_followed, n.new_cases, n.closed_cases),
        (e.followed, e.new_cases, e.closed_cases),
        "{what} cases"
    );
    assert_eq!(
        (n.contacts, n.minutes),
        (e.contacts, e.minutes),
        "{what} contacts"
    );
    assert_eq!(
        (n.hours * 10.0).round(),
        n.hours * 10.0,
        "{what}: one decimal"
    );
    assert!(
        (n.hours - e.minutes as f64 / 60.0).abs() <= 0.05 + 1e-9,
        "{what} hours"
    );
    assert_eq!(
        (n.outside_office_hours, n.weekend),
        (e.outside, e.weekend),
        "{what} timing"
    );
    assert_eq!(
        n.outside_office_hours_share,
        share(e.outside, e.contacts),
        "{what}"
    );
    assert_eq!(n.weekend_share, share(e.weekend, e.contacts), "{what}");
    assert_eq!(
        (n.service_user_initiated, n.accompaniments),
        (e.by_user, e.accompaniments),
        "{what}"
    );
    assert_eq!(owned(&n.by_mode), e.by_mode, "{what} modes");
    assert_eq!(owned(&n.by_topic), e.by_topic, "{what} topics");
    assert_eq!(owned(&n.by_support), e.by_support, "{what} support");
}

/// The `href` of the page's "Download CSV" link.
fn download_link(body: &str) -> String {
    let at = body.find("id=\"download-csv\"").expect("a download link");
    let rest = &body[at..];
    let href = &rest[rest.find("href=\"").unwrap() + 6..];
    href[..href.find('"').unwrap()].replace("&amp;", "&")
}

/// Opens the report page, follows its download link and returns the CSV's records.
async fn download(browser: &mut Browser, query: &str) -> (String, Vec<BTreeMap<String, String>>) {
    let page = browser.get(&format!("/reports?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
    let link = download_link(&page.body);
    assert_eq!(
        link,
        format!("/reports.csv?{query}"),
        "the link keeps the parameters"
    );
    let csv = browser.get(&link).await;
    assert_eq!(csv.status, StatusCode::OK, "{link}: {}", csv.body);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let label = query
        .split('&')
        .next()
        .unwrap()
        .trim_start_matches("period=");
    assert_eq!(
        csv.headers["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"peerlog-report-{label}.csv\"")
    );
    let records = csv_records(&csv.body);
    (csv.body, records)
}

/// `kari`'s viewer, as the session extractor would make it.
fn viewer(user: &str, role: Role, teams: Vec<TeamId>) -> Viewer {
    Viewer {
        user: user.parse().unwrap(),
        name: "test".to_owned(),
        role,
        teams,
        lang: Lang::En,
        csrf: String::new(),
        has_totp: false,
        session: [0; 32],
    }
}

const MONTHS: [&str; 6] = [
    "2026-03", "2026-04", "2026-05", "2026-07", "2026-10", "2026-11",
];

#[tokio::test]
async fn report_numbers_match_an_independent_count_of_the_seeded_truth() {
    let org = seeded().await;
    let truth = &org.truth;
    let mine = team(truth, "team-01");
    let teams = [mine.clone()];
    let mut browser = Browser::new(org.relay.app());
    browser.sign_in("kari", PASSWORD).await;

    // The data is there to be counted: contacts in the months checked, cases closed in the year.
    let year = expected(truth, &teams, "2026");
    assert!(
        year.contacts > 50 && year.closed_cases > 0 && year.new_cases > 0,
        "{year:?}"
    );
    assert!(expected(truth, &teams, "2026-07").contacts > 10);
    assert_eq!(
        expected(truth, &teams, "2026-03").contacts,
        0,
        "before the history"
    );

    let state = &org.relay.relay.state;
    let me = viewer(&org.kari, Role::Coordinator, teams.to_vec());
    let scope = Scope::load(state, &me).await.unwrap();
    let ids = scope.cases.iter().map(|c| c.id).collect();
    let cases = scope.projections(state, ids).await.unwrap();

    for label in MONTHS {
        let e = expected(truth, &teams, label);
        for query in [
            format!("period={label}"),
            format!("period={label}&team={mine}"),
        ] {
            let (_, records) = download(&mut browser, &query).await;
            assert_eq!(records.len(), 1, "a month is one row");
            let team_col = if query.contains("team=") {
                "team-01"
            } else {
                "all"
            };
            check_csv_row(&records[0], &e, label, team_col);
        }
        let period = Period::parse(label).unwrap();
        for team in [None, Some(&mine)] {
            let view = figures::build(&scope, &cases, period, team);
            assert!(view.months.is_empty());
            check_numbers(&view.total, &e, label);
        }
    }

    // A year: twelve month rows, then the year's total.
    for query in ["period=2026".to_owned(), format!("period=2026&team={mine}")] {
        let (_, records) = download(&mut browser, &query).await;
        assert_eq!(records.len(), 13, "{query}");
        let team_col = if query.contains("team=") {
            "team-01"
        } else {
            "all"
        };
        for (m, row) in records[..12].iter().enumerate() {
            let label = format!("2026-{:02}", m + 1);
            check_csv_row(row, &expected(truth, &teams, &label), &label, team_col);
        }
        check_csv_row(&records[12], &year, "2026", team_col);
    }
    let view = figures::build(&scope, &cases, Period::parse("2026").unwrap(), Some(&mine));
    check_numbers(&view.total, &year, "2026");
    assert_eq!(view.months.len(), 12);
    for (m, month) in view.months.iter().enumerate() {
        let label = format!("2026-{:02}", m + 1);
        check_numbers(month, &expected(truth, &teams, &label), &label);
    }
    assert_eq!(view.team_name.as_deref(), Some("team-01"));

    // The JSON shape the API serves.
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["period"], "2026");
    assert_eq!(json["team"], mine.as_str());
    assert_eq!(json["contacts"], year.contacts);
    assert_eq!(json["byMode"]["accompany"], year.accompaniments);
    assert_eq!(json["months"].as_array().unwrap().len(), 12);
    assert!(
        json["months"][0]["outsideOfficeHoursShare"].is_null(),
        "January: no contacts"
    );
    let all = figures::load_report(state, &me, Some(Period::parse("2026-07").unwrap()), None)
        .await
        .unwrap();
    assert!(all.team.is_none());
    check_numbers(&all.total, &expected(truth, &teams, "2026-07"), "2026-07");
}

#[tokio::test]
async fn a_coordinator_gets_only_their_own_teams_numbers() {
    let org = seeded().await;
    let truth = &org.truth;
    let (t1, t2, t3) = (
        team(truth, "team-01"),
        team(truth, "team-02"),
        team(truth, "team-03"),
    );
    add_coordinator(&org.relay, "per", &[t1.clone(), t2.clone()]);
    let mut browser = Browser::new(org.relay.app());
    browser.sign_in("per", PASSWORD).await;

    for label in ["2026-06", "2026-10", "2026"] {
        let e_all = expected(truth, &[t1.clone(), t2.clone(), t3.clone()], label);
        let e_mine = expected(truth, &[t1.clone(), t2.clone()], label);
        assert_ne!(
            e_all.contacts, e_mine.contacts,
            "team-03 has contacts in {label}"
        );

        let (_, all) = download(&mut browser, &format!("period={label}")).await;
        let (_, one) = download(&mut browser, &format!("period={label}&team={t1}")).await;
        let (_, two) = download(&mut browser, &format!("period={label}&team={t2}")).await;
        let total = all.last().unwrap();
        check_csv_row(total, &e_mine, label, "all");
        // Every count of "all" is the sum over the coordinator's two teams, nothing more.
        for col in total.keys() {
            if ["period", "team", "hours"].contains(&col.as_str()) || col.ends_with("_share") {
                continue;
            }
            let sum = int(one.last().unwrap(), col) + int(two.last().unwrap(), col);
            assert_eq!(int(total, col), sum, "{label} {col}");
        }
    }

    // Another team's numbers cannot be asked for, as a page or as CSV.
    for path in [
        format!("/reports?period=2026-06&team={t3}"),
        format!("/reports.csv?period=2026-06&team={t3}"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.body.contains("team-03"));
    }
    let mut kari = Browser::new(org.relay.app());
    kari.sign_in("kari", PASSWORD).await;
    let page = kari
        .get(&format!("/reports.csv?period=2026&team={t2}"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let form = kari.get("/reports").await;
    assert!(
        form.body.contains(t1.as_str()) && !form.body.contains(t2.as_str()),
        "only kari's team is offered"
    );
}

#[tokio::test]
async fn reports_never_show_an_alias_and_refuse_bad_parameters() {
    let org = seeded().await;
    let mut browser = Browser::new(org.relay.app());
    browser.sign_in("kari", PASSWORD).await;
    let mine = team(&org.truth, "team-01");

    let (csv, _) = download(&mut browser, "period=2026").await;
    let (csv_team, _) = download(&mut browser, &format!("period=2026&team={mine}")).await;
    let page = browser.get("/reports?period=2026").await;
    for case in &org.truth.cases {
        for text in [&csv, &csv_team, &page.body] {
            assert!(!text.contains(&case.alias), "{} leaked", case.alias);
            assert!(!text.contains(&case.id.to_string()), "a case id leaked");
        }
    }
    for note in ["Coffee", "benefits office", "clinic"] {
        assert!(!csv.contains(note) && !page.body.contains(note));
    }

    // The page: localized labels, one row per month plus the year's total.
    assert!(
        page.body.contains("Tjenestemottakere fulgt opp"),
        "bokmål by default"
    );
    assert!(
        page.body.contains("Følge")
            && page.body.contains("Bolig")
            && page.body.contains("Emosjonell")
    );
    let summary = page.body.split("id=\"report-summary\"").nth(1).unwrap();
    let summary = &summary[..summary.find("</table>").unwrap()];
    assert_eq!(summary.matches("data-period=").count(), 13);
    assert!(summary.contains("data-period=\"2026-07\"") && summary.contains("juli 2026"));

    // Without a period: the previous full month in Oslo, selected in the form.
    let today = Timestamp::now().to_zoned_datetime(oslo()).date();
    let previous = today.first_of_month().yesterday().unwrap();
    let label = format!("{:04}-{:02}", previous.year(), previous.month());
    let default = browser.get("/reports").await;
    assert_eq!(default.status, StatusCode::OK);
    assert!(
        default
            .body
            .contains(&format!("value=\"{label}\" selected")),
        "default {label}"
    );
    assert_eq!(
        download_link(&default.body),
        format!("/reports.csv?period={label}")
    );

    for query in [
        "period=2026-13",
        "period=march",
        "period=1999",
        "period=2026-3",
        "team=not%20an%20id",
    ] {
        for path in ["/reports", "/reports.csv"] {
            let page = browser.get(&format!("{path}?{query}")).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}?{query}");
            assert!(
                page.body.contains("id=\"report-error\""),
                "{path}?{query}: {}",
                page.body
            );
        }
    }
    let bad = browser.get("/reports?period=2026-13").await;
    assert!(
        bad.body.contains("en måned (som 2026-03) eller et år"),
        "{}",
        bad.body
    );

    // A team name with a comma and quotes survives the CSV (RFC 4180 quoting).
    let name = "Nord, \"Øst\"";
    org.relay.add_staff("lise", Role::Coordinator, name);
    org.relay.reload_access();
    let odd = org
        .relay
        .relay
        .state
        .db
        .read(|tx| identity::find_team(tx, name))
        .unwrap()
        .unwrap();
    let mut lise = Browser::new(org.relay.app());
    lise.sign_in("lise", PASSWORD).await;
    let (raw, rows) = download(&mut lise, &format!("period=2026-07&team={}", odd.id)).await;
    assert!(raw.contains("\"Nord, \"\"Øst\"\"\""), "{raw}");
    assert_eq!(rows[0]["team"], name);
    assert_eq!(int(&rows[0], "contacts"), 0);

    // Signed out: to the sign-in page.
    let mut stranger = Browser::new(org.relay.app());
    assert_eq!(
        stranger.get("/reports.csv?period=2026").await.location(),
        Some("/login")
    );
}

#[tokio::test]
async fn an_admin_downloads_the_whole_organisations_aggregates() {
    let org = seeded().await;
    let truth = &org.truth;
    let all_teams: Vec<TeamId> = truth.teams.iter().map(|(id, _)| id.clone()).collect();
    let t3 = team(truth, "team-03");
    let admin = org.relay.add_staff("root", Role::Admin, "team-01");
    let mut browser = Browser::new(org.relay.app());
    assert_eq!(
        browser.sign_in("root", PASSWORD).await.location(),
        Some("/account/totp")
    );
    let setup = browser.get("/account/totp").await;
    let key = setup.body.split("id=\"totp-key\">").nth(1).unwrap();
    let secret = base32_decode(&key[..key.find('<').unwrap()]);
    let done = browser
        .post(
            "/account/totp",
            &[
                ("csrf", &setup.csrf().unwrap()),
                ("code", &totp_now(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let (csv, records) = download(&mut browser, "period=2026").await;
    assert_eq!(records.len(), 13);
    check_csv_row(
        &records[12],
        &expected(truth, &all_teams, "2026"),
        "2026",
        "all",
    );
    check_csv_row(
        &records[9],
        &expected(truth, &all_teams, "2026-10"),
        "2026-10",
        "all",
    );
    for case in &truth.cases {
        assert!(!csv.contains(&case.alias));
    }
    let (_, one) = download(&mut browser, &format!("period=2026-08&team={t3}")).await;
    check_csv_row(
        &one[0],
        &expected(truth, std::slice::from_ref(&t3), "2026-08"),
        "2026-08",
        "team-03",
    );

    let me = viewer(&admin, Role::Admin, Vec::new());
    let view = figures::load_report(
        &org.relay.relay.state,
        &me,
        Some(Period::parse("2026-09").unwrap()),
        None,
    )
    .await
    .unwrap();
    check_numbers(
        &view.total,
        &expected(truth, &all_teams, "2026-09"),
        "2026-09",
    );

    // Still no case content for an admin.
    assert_eq!(browser.get("/cases").await.status, StatusCode::NOT_FOUND);
}
