//! The site's static files: content-hashed names, and how long browsers may keep what we send.
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The hash file the build writes into the site it built, naming the bundle's and the CSS's hashes,
/// when there is one. It lives with the files it names, so whichever server binary serves a site
/// names that site's files. (Leptos joins the name to the binary's directory; an absolute path
/// replaces it.)
pub fn hash_file(site_root: &str) -> Option<String> {
    let path = std::path::absolute(std::path::Path::new(site_root).join("hash.txt")).ok()?;
    path.is_file().then(|| path.to_string_lossy().into_owned())
}

/// What a response may be kept for: a file whose name carries its content's hash never changes,
/// so browsers keep it for a year without asking again; other static files are asked about
/// each time; pages, API answers and everything else are not stored at all (they are personal
/// and current). A handler that set its own `Cache-Control` keeps it.
pub async fn cache_control(req: Request, next: Next) -> Response {
    let policy = policy_for(req.uri().path());
    let mut response = next.run(req).await;
    let ok = response.status().is_success();
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        let policy = if ok { policy } else { NO_STORE };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const NO_STORE: &str = "no-store";

fn policy_for(path: &str) -> &'static str {
    match path.strip_prefix("/pkg/") {
        Some(file) if !file.contains('/') && is_hashed(file) => IMMUTABLE,
        Some(_) => REVALIDATE,
        None if path == "/favicon.svg" => REVALIDATE,
        None => NO_STORE,
    }
}

/// `name.<hash>.ext`, where the hash is what the build (or cargo-leptos) put there: at least 16
/// characters of a URL-safe alphabet, digits among them.
fn is_hashed(file: &str) -> bool {
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(_stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    hash.len() >= 16
        && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && hash.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_files_are_immutable_and_the_rest_is_not() {
        assert_eq!(policy_for("/pkg/switchyard.3f9a0c1d2e4b5a69.wasm"), IMMUTABLE);
        assert_eq!(policy_for("/pkg/switchyard.3f9a0c1d2e4b5a69.js"), IMMUTABLE);
        assert_eq!(policy_for("/pkg/switchyard.wasm"), REVALIDATE);
        assert_eq!(policy_for("/pkg/switchyard_bg.wasm"), REVALIDATE);
        assert_eq!(policy_for("/pkg/__wasm_split.______________________.js"), REVALIDATE);
        assert_eq!(policy_for("/pkg/snippets/x-3f9a0c1d2e4b5a69/inline0.js"), REVALIDATE);
        assert_eq!(policy_for("/favicon.svg"), REVALIDATE);
        assert_eq!(policy_for("/catalog"), NO_STORE);
        assert_eq!(policy_for("/api/v1/me"), NO_STORE);
    }
}
