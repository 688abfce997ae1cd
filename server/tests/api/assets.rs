//! Static files: what browsers may keep, and for how long.
use crate::helpers::{Options, Persona, spawn_app_with};

/// A site directory of its own, with a hashed bundle file, a plain one and the favicon.
fn site_with_files() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("switchyard-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("pkg")).expect("create site");
    std::fs::write(root.join("pkg/switchyard.0123456789abcdef.wasm"), b"\0asm").expect("write wasm");
    std::fs::write(root.join("pkg/switchyard.css"), b"body{}").expect("write css");
    std::fs::write(root.join("favicon.svg"), b"<svg/>").expect("write favicon");
    root
}

fn cache_control(response: &reqwest::Response) -> Option<&str> {
    response.headers().get("cache-control").and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn hashed_bundle_files_are_kept_a_year_and_pages_are_never_stored() {
    let root = site_with_files();
    let app = spawn_app_with(Options {
        migrate: true,
        settings: vec![("site.root", root.to_string_lossy().into_owned().into())],
        ..Options::default()
    })
    .await;

    let wasm = app.get("/pkg/switchyard.0123456789abcdef.wasm").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(cache_control(&wasm), Some("public, max-age=31536000, immutable"));

    // a name without a content hash may change under the same URL: ask again each time
    let plain = app.get("/pkg/switchyard.css").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(cache_control(&plain), Some("no-cache"));
    assert_eq!(cache_control(&app.get("/favicon.svg").await), Some("no-cache"));

    // a missing hashed file is not cached as missing
    let missing = app.get("/pkg/switchyard.fedcba9876543210.wasm").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(cache_control(&missing), Some("no-store"));

    let dave = app.login_as(Persona::Viewer).await;
    let page = dave.get("/catalog").await;
    assert_eq!(page.status(), 200);
    assert_eq!(cache_control(&page), Some("no-store"));
    let api = dave.get("/api/v1/me").await;
    assert_eq!(api.status(), 200);
    assert_eq!(cache_control(&api), Some("no-store"));

    std::fs::remove_dir_all(&root).ok();
}
