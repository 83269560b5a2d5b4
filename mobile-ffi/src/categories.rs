//! The closed category sets of the case model (contact mode, initiator, life area, support type,
//! case and goal status) as UniFFI enums, converted to and from core's types one to one.

use peerlog_core::model;

/// Declares a UniFFI enum that mirrors a core category enum variant for variant, with `From`
/// both ways (so a variant added in core without one here fails to compile).
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident = $core:path { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($variant),+ }

        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$core>::$variant),+ }
            }
        }

        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                match v { $(<$core>::$variant => $name::$variant),+ }
            }
        }
    };
}

mirror!(
    /// How a contact took place.
    ContactMode = model::ContactMode { Phone, Message, Video, Meeting, Accompany, Activity }
);

mirror!(
    /// Who took the initiative for a contact.
    Initiator = model::Initiator { Prw, ServiceUser, Other }
);

mirror!(
    /// Life areas: a contact's topics and a goal's area.
    LifeArea = model::LifeArea {
        Housing, Finances, Work, Education, Network, Health, Treatment, Family, Leisure, Other,
    }
);

mirror!(
    /// The kind of support given.
    SupportType = model::SupportType { Emotional, Informational, Instrumental, Affiliational }
);

mirror!(
    /// The life cycle of a case.
    CaseStatus = model::CaseStatus { Active, Paused, Closed }
);

mirror!(
    /// The life cycle of a plan goal.
    GoalStatus = model::GoalStatus { Open, Active, Reached, Dropped }
);

/// Converts a list of app values into core values.
pub(crate) fn to_core<A: Copy + Into<C>, C>(values: &[A]) -> Vec<C> {
    values.iter().map(|v| (*v).into()).collect()
}

/// Converts a list of core values into app values.
pub(crate) fn from_core<C: Copy + Into<A>, A>(values: &[C]) -> Vec<A> {
    values.iter().map(|v| (*v).into()).collect()
}
