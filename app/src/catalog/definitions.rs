//! API definitions a descriptor names by URL (`$text: https://…/openapi.yaml`). Fetched at
//! import when their host is allow-listed (`catalog.definition_hosts`; these machines reach no
//! other), so the catalog shows the text; otherwise, or when the fetch fails, the URL is kept
//! and shown as a link.
use super::backstage::{self, SourceFile};
use crate::untrusted::Limits;
use std::time::{Duration, Instant};
use url::Url;

/// At most this many definitions are fetched for one import.
const MAX_FETCHES: usize = 100;

pub struct Definitions {
    /// `host` or `host:port`, lowercase.
    hosts: Vec<String>,
    client: reqwest::Client,
    /// For all of one import's fetches together.
    timeout: Duration,
    max_bytes: usize,
}

impl Definitions {
    /// Fetches from `hosts` only, an import's definitions within `timeout` in all and each within
    /// `max_bytes`; no redirects (an allowed host must not send the fetch elsewhere).
    pub fn new(hosts: &[String], timeout: Duration, max_bytes: usize) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let hosts = hosts.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        Ok(Definitions { hosts, client, timeout, max_bytes })
    }

    /// Whether `url` is http(s) on an allowed host (`host` allows it on any port).
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else { return false };
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        matches!(url.scheme(), "http" | "https") && self.hosts.iter().any(|h| *h == host || Some(h) == with_port.as_ref())
    }

    /// Adds to `files`, each as a file named by its URL, the definitions their APIs take from
    /// allowed hosts. One that cannot be fetched stays a link; why is logged.
    pub async fn fetch_into(&self, files: &mut Vec<SourceFile>, limits: &Limits) {
        if self.hosts.is_empty() {
            return;
        }
        // each kept under the URL as the descriptor wrote it: how the import looks it up
        let wanted: Vec<(String, Url)> = backstage::definition_urls(files, limits)
            .into_iter()
            .filter_map(|u| Url::parse(&u).ok().map(|url| (u, url)))
            .filter(|(_, url)| self.allows(url))
            .take(MAX_FETCHES)
            .collect();
        let deadline = Instant::now() + self.timeout;
        for (path, url) in wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(%url, "API definition not fetched: the import's time for fetching is used up; kept as a link");
                continue;
            }
            match self.fetch(&url, left).await {
                Ok(content) => files.push(SourceFile { path, content }),
                Err(reason) => tracing::warn!(%url, %reason, "API definition not fetched; kept as a link"),
            }
        }
    }

    async fn fetch(&self, url: &Url, within: Duration) -> Result<String, String> {
        let mut request = self.client.get(url.clone()).timeout(within);
        for (name, value) in crate::telemetry::trace_headers() {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(format!("larger than {} bytes", self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "not UTF-8 text".to_owned())
    }
}
