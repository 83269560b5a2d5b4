//! Names of core's category codes (contact mode, life area, support type, initiator, statuses)
//! in the dashboard's languages.

use peerlog_core::model::{CaseStatus, ContactMode, GoalStatus, Initiator, LifeArea, SupportType};

use super::i18n::Lang;
use crate::sync::ports::Role;

fn pick(lang: Lang, en: &'static str, nb: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Nb => nb,
    }
}

pub(crate) fn mode(lang: Lang, m: ContactMode) -> &'static str {
    match m {
        ContactMode::Phone => pick(lang, "Phone", "Telefon"),
        ContactMode::Message => pick(lang, "Message", "Melding"),
        ContactMode::Video => pick(lang, "Video", "Video"),
        ContactMode::Meeting => pick(lang, "Meeting", "Møte"),
        ContactMode::Accompany => pick(lang, "Accompaniment", "Følge"),
        ContactMode::Activity => pick(lang, "Activity", "Aktivitet"),
    }
}

pub(crate) fn area(lang: Lang, a: LifeArea) -> &'static str {
    match a {
        LifeArea::Housing => pick(lang, "Housing", "Bolig"),
        LifeArea::Finances => pick(lang, "Finances", "Økonomi"),
        LifeArea::Work => pick(lang, "Work", "Arbeid"),
        LifeArea::Education => pick(lang, "Education", "Utdanning"),
        LifeArea::Network => pick(lang, "Network", "Nettverk"),
        LifeArea::Health => pick(lang, "Health", "Helse"),
        LifeArea::Treatment => pick(lang, "Treatment", "Behandling"),
        LifeArea::Family => pick(lang, "Family", "Familie"),
        LifeArea::Leisure => pick(lang, "Leisure", "Fritid"),
        LifeArea::Other => pick(lang, "Other", "Annet"),
    }
}

pub(crate) fn support(lang: Lang, s: SupportType) -> &'static str {
    match s {
        SupportType::Emotional => pick(lang, "Emotional", "Emosjonell"),
        SupportType::Informational => pick(lang, "Informational", "Informasjon"),
        SupportType::Instrumental => pick(lang, "Practical", "Praktisk"),
        SupportType::Affiliational => pick(lang, "Belonging", "Tilhørighet"),
    }
}

pub(crate) fn initiator(lang: Lang, i: Initiator) -> &'static str {
    match i {
        Initiator::Prw => pick(lang, "PRW", "Erfaringskonsulent"),
        Initiator::ServiceUser => pick(lang, "Service user", "Tjenestemottaker"),
        Initiator::Other => pick(lang, "Other", "Annen"),
    }
}

pub(crate) fn goal_status(lang: Lang, s: GoalStatus) -> &'static str {
    match s {
        GoalStatus::Open => pick(lang, "Open", "Åpen"),
        GoalStatus::Active => pick(lang, "Working on it", "Under arbeid"),
        GoalStatus::Reached => pick(lang, "Reached", "Nådd"),
        GoalStatus::Dropped => pick(lang, "Dropped", "Lagt bort"),
    }
}

pub(crate) fn case_status(lang: Lang, s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::Active => pick(lang, "Active", "Aktiv"),
        CaseStatus::Paused => pick(lang, "Paused", "Pause"),
        CaseStatus::Closed => pick(lang, "Closed", "Avsluttet"),
    }
}

/// A user's role (the people list, the access log).
pub(crate) fn role_name(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Prw => pick(lang, "PRW", "Erfaringskonsulent"),
        Role::Coordinator => pick(lang, "Coordinator", "Koordinator"),
        Role::Admin => pick(lang, "Admin", "Administrator"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_name_in_both_languages() {
        for lang in Lang::ALL {
            for m in ContactMode::ALL {
                assert!(!mode(lang, *m).is_empty());
            }
            for a in LifeArea::ALL {
                assert!(!area(lang, *a).is_empty());
            }
        }
        assert_eq!(mode(Lang::Nb, ContactMode::Accompany), "Følge");
        assert_eq!(area(Lang::En, LifeArea::Housing), "Housing");
    }
}
