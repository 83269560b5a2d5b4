//! Languages of the dashboard: Norwegian bokmål and English, chosen per user. Each page module
//! declares its own strings with [`texts!`], English and bokmål side by side, so a missing
//! translation is a compile error rather than a blank on screen.

/// A dashboard language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    /// The stored and `lang` attribute code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    /// The language's own name, for the language picker.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Nb => "Norsk (bokmål)",
            Lang::En => "English",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "nb" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header (for pages before sign-in);
    /// bokmål if none matches ("no" and "nn" read bokmål well enough).
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::Nb;
        };
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or("");
            match primary {
                "nb" | "no" | "nn" => return Lang::Nb,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::Nb
    }

    /// A number with the language's decimal separator and one decimal.
    pub fn decimal(self, value: f64) -> String {
        let s = format!("{value:.1}");
        match self {
            Lang::Nb => s.replace('.', ","),
            Lang::En => s,
        }
    }

    /// A share (0..=1) as a whole percentage, or a dash when there is nothing to divide.
    pub fn percent(self, share: Option<f64>) -> String {
        share.map_or_else(|| "–".to_owned(), |s| format!("{:.0}\u{a0}%", s * 100.0))
    }
}

/// Declares a module's dashboard strings: `key: "English", "bokmål";` per line. Generates a
/// `Texts` struct, one static per language and `t(lang)`.
macro_rules! texts {
    ($($key:ident: $en:expr, $nb:expr;)*) => {
        #[derive(Debug)]
        pub(crate) struct Texts {
            $(pub(crate) $key: &'static str,)*
        }
        static TEXTS_EN: Texts = Texts { $($key: $en,)* };
        static TEXTS_NB: Texts = Texts { $($key: $nb,)* };
        /// This module's strings in `lang`.
        pub(crate) fn t(lang: $crate::dashboard::i18n::Lang) -> &'static Texts {
            match lang {
                $crate::dashboard::i18n::Lang::En => &TEXTS_EN,
                $crate::dashboard::i18n::Lang::Nb => &TEXTS_NB,
            }
        }
    };
}
pub(crate) use texts;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_supported_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::Nb);
        assert_eq!(Lang::from_accept_language(Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("de, nn;q=0.5, en")),
            Lang::Nb
        );
        assert_eq!(Lang::from_accept_language(Some("fr")), Lang::Nb);
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse("sv"), None);
    }

    #[test]
    fn numbers_use_the_languages_separator() {
        assert_eq!(Lang::Nb.decimal(2.25), "2,2");
        assert_eq!(Lang::En.decimal(2.26), "2.3");
        assert_eq!(Lang::En.percent(Some(0.256)), "26\u{a0}%");
        assert_eq!(Lang::Nb.percent(None), "–");
    }
}
