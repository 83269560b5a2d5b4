//! The report as CSV for spreadsheets (RFC 4180, CRLF line ends, `.` decimals, no cell a
//! spreadsheet would read as a formula).

use std::collections::BTreeMap;

use peerlog_core::model::{ContactMode, LifeArea, SupportType};

use super::figures::{ReportNumbers, ReportView};

/// The CSV header: the fixed columns, then one per contact mode, topic and support type.
fn csv_header() -> Vec<String> {
    let mut cols: Vec<String> = [
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
    .into_iter()
    .map(str::to_owned)
    .collect();
    cols.extend(
        ContactMode::ALL
            .iter()
            .map(|m| format!("mode_{}", m.code())),
    );
    cols.extend(LifeArea::ALL.iter().map(|a| format!("topic_{}", a.code())));
    cols.extend(
        SupportType::ALL
            .iter()
            .map(|s| format!("support_{}", s.code())),
    );
    cols
}

/// One CSV field per RFC 4180: quoted when it holds a comma, quote or line break (quotes
/// doubled). Text that a spreadsheet would read as a formula gets a leading `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_row(out: &mut String, team: &str, n: &ReportNumbers) {
    let share = |s: Option<f64>| s.map_or_else(String::new, |s| format!("{s:.4}"));
    let mut fields = vec![
        csv_field(&n.period),
        csv_field(team),
        n.service_users_followed.to_string(),
        n.new_cases.to_string(),
        n.closed_cases.to_string(),
        n.contacts.to_string(),
        format!("{:.1}", n.hours),
        share(n.outside_office_hours_share),
        share(n.weekend_share),
        n.service_user_initiated.to_string(),
        n.accompaniments.to_string(),
    ];
    let count = |map: &BTreeMap<&'static str, u32>, code: &str| {
        map.get(code).copied().unwrap_or(0).to_string()
    };
    fields.extend(ContactMode::ALL.iter().map(|m| count(&n.by_mode, m.code())));
    fields.extend(LifeArea::ALL.iter().map(|a| count(&n.by_topic, a.code())));
    fields.extend(
        SupportType::ALL
            .iter()
            .map(|s| count(&n.by_support, s.code())),
    );
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// The report as CSV (RFC 4180, CRLF line ends, `.` decimals): a header row, then a month's
/// row, or a year's twelve month rows and its total row. Aggregates only.
pub fn to_csv(view: &ReportView) -> String {
    let team = match (&view.team_name, &view.team) {
        (Some(name), _) => name.as_str(),
        (None, Some(id)) => id.as_str(),
        (None, None) => "all",
    };
    let mut out = csv_header().join(",");
    out.push_str("\r\n");
    for month in &view.months {
        csv_row(&mut out, team, month);
    }
    csv_row(&mut out, team, &view.total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_per_rfc_4180_and_never_read_as_formulas() {
        assert_eq!(csv_field("team-01"), "team-01");
        assert_eq!(csv_field("Nord, Sør"), "\"Nord, Sør\"");
        assert_eq!(csv_field("the \"A\" team"), "\"the \"\"A\"\" team\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-x,y"), "\"'-x,y\"");
    }
}
