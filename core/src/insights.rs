//! Insights: pure functions from cases, organisation settings and `now` to the numbers and signals
//! PRWs and coordinators see (the PRW's own week, the team overview, goal progress).
//!
//! The same code runs on the phone and on the relay, so both agree. Everything is computed in the
//! organisation's time zone ([`OrgSettings`](crate::settings::OrgSettings)), DST included; weeks
//! are ISO weeks starting Monday 00:00 local time. Only live (not deleted) contacts count. Outputs
//! hold ids, counts, times and categories — never notes, aliases or other free text.
//!
//! Nothing here reads a clock, touches IO or panics on any input.

mod goals;
mod prw;
pub mod report;
mod team;
mod timing;
mod totals;
mod week;

#[cfg(test)]
mod testutil;

pub use goals::{GoalsSummary, StatusCounts, goals_summary};
pub use prw::{
    CaseWeek, ContactLimit, FlaggedContact, LimitSource, MAX_SERIES_WEEKS, PrwWeek, WeekPoint,
    prw_week, weekly_series,
};
pub use team::{Signal, TeamSignals, team_signals};
pub use timing::{ContactTiming, DayPart, classify};
pub use totals::WeekTotals;
pub use week::{IsoWeek, WeekBounds, WeekError, week_bounds, week_of};
