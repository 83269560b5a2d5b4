//! Recovery-plan goals counted by status and by life area (never their text).

use std::collections::BTreeMap;

use crate::model::{Case, GoalStatus, LifeArea};

/// Goals counted by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCounts {
    pub open: u32,
    pub active: u32,
    pub reached: u32,
    pub dropped: u32,
}

impl StatusCounts {
    pub fn total(&self) -> u32 {
        self.open
            .saturating_add(self.active)
            .saturating_add(self.reached)
            .saturating_add(self.dropped)
    }

    /// The count for one status.
    pub fn get(&self, status: GoalStatus) -> u32 {
        match status {
            GoalStatus::Open => self.open,
            GoalStatus::Active => self.active,
            GoalStatus::Reached => self.reached,
            GoalStatus::Dropped => self.dropped,
        }
    }

    fn add(&mut self, status: GoalStatus) {
        let n = match status {
            GoalStatus::Open => &mut self.open,
            GoalStatus::Active => &mut self.active,
            GoalStatus::Reached => &mut self.reached,
            GoalStatus::Dropped => &mut self.dropped,
        };
        *n = n.saturating_add(1);
    }

    fn merge(&mut self, other: &StatusCounts) {
        self.open = self.open.saturating_add(other.open);
        self.active = self.active.saturating_add(other.active);
        self.reached = self.reached.saturating_add(other.reached);
        self.dropped = self.dropped.saturating_add(other.dropped);
    }
}

/// A plan's goals by status, overall and per life area.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoalsSummary {
    pub by_status: StatusCounts,
    /// Only areas that have at least one goal.
    pub by_area: BTreeMap<LifeArea, StatusCounts>,
}

impl GoalsSummary {
    pub(crate) fn merge(&mut self, other: &GoalsSummary) {
        self.by_status.merge(&other.by_status);
        for (area, counts) in &other.by_area {
            self.by_area.entry(*area).or_default().merge(counts);
        }
    }
}

/// The goals of one case's plan, by status and by area.
pub fn goals_summary(case: &Case) -> GoalsSummary {
    let mut summary = GoalsSummary::default();
    for goal in case.plan.goals.values() {
        summary.by_status.add(goal.status);
        summary
            .by_area
            .entry(goal.area)
            .or_default()
            .add(goal.status);
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::testutil::{CaseBuilder, goal};

    #[test]
    fn goals_are_counted_by_status_and_area() {
        let case = CaseBuilder::new(1, "prw-a")
            .goal(goal(1, LifeArea::Housing, GoalStatus::Active, None))
            .goal(goal(2, LifeArea::Housing, GoalStatus::Reached, None))
            .goal(goal(3, LifeArea::Work, GoalStatus::Open, None))
            .goal(goal(4, LifeArea::Network, GoalStatus::Dropped, None))
            .build();
        let s = goals_summary(&case);
        assert_eq!(
            s.by_status,
            StatusCounts {
                open: 1,
                active: 1,
                reached: 1,
                dropped: 1
            }
        );
        assert_eq!(s.by_status.total(), 4);
        assert_eq!(s.by_area.len(), 3);
        assert_eq!(s.by_area[&LifeArea::Housing].get(GoalStatus::Reached), 1);
        assert_eq!(s.by_area[&LifeArea::Housing].total(), 2);
        assert_eq!(
            goals_summary(&CaseBuilder::new(2, "prw-a").build()),
            GoalsSummary::default()
        );
    }
}
