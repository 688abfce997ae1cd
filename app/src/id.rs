//! Typed ids: a UUID that says what it names, so a deploy's id cannot be passed where an
//! approval's is wanted. Serialised and stored as the bare UUID (`sqlx(transparent)`), shown as it.

/// Declares a typed id over a UUID; extra attributes (a doc comment, `utoipa::ToSchema`) go first.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub uuid::Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
