//! The page shell every dashboard page shares (head, navigation, sign-out form) and small
//! rendering helpers: dates in the organisation's zone, the CSRF hidden field, inline SVG bar
//! charts.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::i18n::{Lang, texts};
use super::session::Viewer;

texts! {
    overview: "Team overview", "Teamoversikt";
    cases: "Cases", "Saker";
    new_case: "New case", "Ny sak";
    people: "People and devices", "Personer og enheter";
    reports: "Reports", "Rapporter";
    account: "Account", "Konto";
    access_log: "Access log", "Tilgangslogg";
    sign_out: "Sign out", "Logg ut";
    skip: "Skip to content", "Hopp til innholdet";
}

/// The hidden CSRF field of a signed-in form.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A whole page. `live` adds the script that refreshes the page when a device syncs.
pub(crate) fn page(
    lang: Lang,
    viewer: Option<&Viewer>,
    title: &str,
    live: bool,
    body: Markup,
) -> Markup {
    let t = t(lang);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Peerlog" }
                link rel="stylesheet" href="/assets/app.css";
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
                @if live {
                    script src="/assets/live.js" defer {}
                    noscript { meta http-equiv="refresh" content="60"; }
                }
            }
            body {
                a.skip href="#main" { (t.skip) }
                @if let Some(v) = viewer {
                    header.top {
                        span.brand { "Peerlog" }
                        nav {
                            @if v.is_admin() {
                                a href="/people" { (t.people) }
                                a href="/reports" { (t.reports) }
                                a href="/access-log" { (t.access_log) }
                            } @else {
                                a href="/overview" { (t.overview) }
                                a href="/cases" { (t.cases) }
                                a href="/cases/new" { (t.new_case) }
                                a href="/people" { (t.people) }
                                a href="/reports" { (t.reports) }
                            }
                            a href="/account" { (t.account) }
                        }
                        form.signout method="post" action="/logout" {
                            (csrf_field(&v.csrf))
                            span.who { (v.name) }
                            button type="submit" { (t.sign_out) }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    }
}

/// A page answered with 400 (a refused form, shown again with its message).
pub(crate) fn bad_request(markup: Markup) -> Response {
    (StatusCode::BAD_REQUEST, markup).into_response()
}

/// A date and time in the organisation's zone, `YYYY-MM-DD HH:MM`.
pub(crate) fn datetime(at_ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|ts| {
            ts.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| "–".to_owned())
}

/// A small bar chart: one bar per `(value, tooltip)`, labelled for screen readers by `label`.
pub(crate) fn bar_chart(bars: &[(u32, String)], label: &str) -> Markup {
    const W: u32 = 12;
    const GAP: u32 = 3;
    const H: u32 = 32;
    let max = bars.iter().map(|(v, _)| *v).max().unwrap_or(0).max(1);
    let width = (W + GAP) * u32::try_from(bars.len()).unwrap_or(0);
    html! {
        svg.chart role="img" aria-label=(label) width=(width) height=(H) viewBox=(format!("0 0 {width} {H}")) xmlns="http://www.w3.org/2000/svg" {
            @for (i, (v, tip)) in bars.iter().enumerate() {
                @let h = (v * H).div_ceil(max).max(u32::from(*v > 0));
                rect x=((W + GAP) * u32::try_from(i).unwrap_or(0)) y=(H - h) width=(W) height=(h) {
                    title { (tip) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_scale_to_the_largest_value_and_escape_labels() {
        let bars = [
            (0, "w1".to_owned()),
            (2, "w2".to_owned()),
            (4, "<w3>".to_owned()),
        ];
        let svg = bar_chart(&bars, "<b>").into_string();
        assert!(
            svg.contains(r#"height="32"><title>&lt;w3&gt;</title>"#),
            "{svg}"
        );
        assert!(svg.contains(r#"height="16"><title>w2</title>"#), "{svg}");
        assert!(svg.contains(r#"height="0"><title>w1</title>"#), "{svg}");
        assert!(svg.contains("&lt;b&gt;"), "labels are escaped: {svg}");
    }

    #[test]
    fn pages_escape_their_title_and_carry_the_language() {
        let page = page(Lang::En, None, "<script>", false, html! {}).into_string();
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("&lt;script&gt; · Peerlog"));
        assert!(!page.contains("live.js"));
    }
}
