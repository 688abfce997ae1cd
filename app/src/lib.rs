//! Switchyard's Leptos application: pages, components and server functions, and (behind
//! `ssr`) the domain services and their SQL.
#![recursion_limit = "256"]

#[macro_use]
mod id;

pub mod apidocs;
pub mod app;
pub mod approvals;
pub mod audit;
pub mod calendar;
pub mod catalog;
pub mod deploys;
pub mod error;
pub mod graph;
pub mod iam;
pub mod integrations;
pub mod pages;
pub mod topology;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
pub mod untrusted;

pub use app::{shell, App};

/// Every kind of change that waits for approval. Each domain implements
/// `approvals::subject::Subject` for its own kinds, in its own module; this list is the one
/// place that puts them together for the engine (which imports no domain).
#[cfg(feature = "ssr")]
pub fn approval_subjects() -> approvals::subject::Subjects {
    approvals::subject::Subjects::new(vec![
        Box::new(iam::approval::AdminRole),
        Box::new(catalog::approval::EntityChange),
        Box::new(catalog::approval::Import),
        Box::new(deploys::approval::DeployApproval),
        Box::new(integrations::approval::IntegrationChange),
        Box::new(topology::approval::NetworkChange),
    ])
}

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(App);
}

/// The seams between domains, checked on the source itself, so a shortcut through one fails
/// here rather than in review.
#[cfg(all(test, feature = "ssr"))]
mod seams {
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("source directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                out.extend(sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source file");
                out.push((path, text));
            }
        }
        out
    }

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    /// The approval engine and the audit log serve every domain and import none: a domain
    /// plugs into approvals by implementing its `Subject`, and names its audit subjects with
    /// `SubjectKind`.
    #[test]
    fn approvals_and_audit_import_no_domain() {
        for module in ["approvals", "audit"] {
            let files = sources(&src().join(module));
            assert!(!files.is_empty(), "no sources under {module}");
            for (path, text) in files {
                for domain in ["catalog", "deploys", "integrations", "topology"] {
                    assert!(
                        !text.contains(&format!("crate::{domain}")),
                        "{} reaches into the {domain} domain",
                        path.display()
                    );
                }
                assert!(!text.contains("crate::iam::repo"), "{} reaches into iam's tables", path.display());
            }
        }
    }

    /// Services, repos and types speak their domain's errors; `AppError` is for the edges (the
    /// server functions in each `api` module, the pages that show errors, and the context they
    /// read).
    #[test]
    fn app_error_only_at_the_edges() {
        let root = src();
        for (path, text) in sources(&root) {
            let rel = path.strip_prefix(&root).expect("under src").to_string_lossy().replace('\\', "/");
            let edge = rel.ends_with("api.rs")
                || rel.contains("pages/")
                || rel.starts_with("ui/")
                || matches!(rel.as_str(), "error.rs" | "context.rs" | "app.rs" | "lib.rs");
            if !edge {
                assert!(!text.contains("AppError"), "{rel} uses AppError: return the domain's own error and map it in its api module");
            }
        }
    }
}
