//! Signing in through the company SSO, and who each request is.
pub mod guard;
pub mod oidc;
pub mod routes;
pub mod store;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Session key: the sign-in in progress (state, nonce, PKCE verifier, where to go after).
pub const PENDING_LOGIN: &str = "oidc.pending";
/// Session key: the signed-in session.
pub const SIGNED_IN: &str = "auth";

/// What a signed-in browser session holds. The session row (`user_sessions`) is the truth:
/// ending it there signs the browser out at its next request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub session_id: Uuid,
    pub id_token: String,
}

/// A path to return to after sign-in: only same-site absolute paths, anything else is "/".
pub fn safe_return_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.starts_with("/auth/")
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_same_site_paths_are_returned_to() {
        assert_eq!(safe_return_path(Some("/catalog?q=ledger")), "/catalog?q=ledger");
        for bad in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "evil", "/auth/logout", "/a\nb"] {
            assert_eq!(safe_return_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_path(None), "/");
    }
}
