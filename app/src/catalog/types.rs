//! Catalog data shared by server and browser.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceId(pub Uuid);

/// Where a service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Experimental,
    Production,
    Deprecated,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Experimental => "experimental",
            Lifecycle::Production => "production",
            Lifecycle::Deprecated => "deprecated",
        }
    }

    /// Parses the stored or typed name of a lifecycle.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "experimental" => Ok(Lifecycle::Experimental),
            "production" => Ok(Lifecycle::Production),
            "deprecated" => Ok(Lifecycle::Deprecated),
            other => Err(format!(
                "unknown lifecycle \"{other}\": use experimental, production or deprecated"
            )),
        }
    }
}

/// Criticality, 0 (most critical: money stops if it stops) to 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tier(u8);

impl Tier {
    pub fn parse(n: i64) -> Result<Self, String> {
        u8::try_from(n)
            .ok()
            .filter(|t| *t <= 3)
            .map(Tier)
            .ok_or_else(|| format!("tier must be 0, 1, 2 or 3, not {n}"))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// One row of the catalog list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub id: ServiceId,
    pub name: String,
    pub title: String,
    pub description: String,
    pub owner_slug: String,
    pub owner_name: String,
    pub tier: Tier,
    pub lifecycle: Lifecycle,
    pub language: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A team and how many services it owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub services: i64,
}

/// The numbers and lists the home page opens with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogOverview {
    pub services: i64,
    pub production: i64,
    pub tier_zero: i64,
    pub teams: Vec<TeamSummary>,
    pub recently_changed: Vec<ServiceSummary>,
}

/// A catalog search: trimmed text, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "search text is longer than {} characters",
                Self::MAX_LEN
            ));
        }
        Ok(SearchText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_accepts_zero_to_three_only() {
        assert_eq!(Tier::parse(0).map(Tier::get), Ok(0));
        assert_eq!(Tier::parse(3).map(Tier::get), Ok(3));
        assert!(Tier::parse(4).is_err());
        assert!(Tier::parse(-1).is_err());
    }

    #[test]
    fn lifecycle_round_trips_and_names_bad_input() {
        for l in [Lifecycle::Experimental, Lifecycle::Production, Lifecycle::Deprecated] {
            assert_eq!(Lifecycle::parse(l.as_str()), Ok(l));
        }
        let err = Lifecycle::parse("retired").unwrap_err();
        assert!(err.contains("retired"), "{err}");
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(SearchText::parse("  ledger ").map(|s| s.as_str().to_owned()), Ok("ledger".into()));
        assert!(SearchText::parse(&"x".repeat(201)).is_err());
    }
}
