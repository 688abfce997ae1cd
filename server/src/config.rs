//! Typed, layered configuration: defaults, then an optional TOML file, then `SWITCHYARD_*`
//! environment variables (nested keys joined with `__`, e.g. `SWITCHYARD_SERVER__ADDR`).
use figment::providers::{Env, Format, Serialized, Toml};
use app::iam::service::GroupMapping;
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub site: SiteSettings,
    pub oidc: OidcSettings,
    pub session: SessionSettings,
    pub audit: AuditSettings,
    /// How the IdP's groups become roles and teams.
    pub iam: GroupMapping,
    pub deploys: DeploySettings,
    pub catalog: CatalogSettings,
    pub telemetry: TelemetrySettings,
    pub integrations: IntegrationSettings,
    pub topology: TopologySettings,
}

/// The network's sources.
#[derive(Debug, Clone, Deserialize)]
pub struct TopologySettings {
    pub netbox: NetboxSettings,
}

/// The NetBox an admin's sync reads (`POST /api/v1/topology/sync/netbox`): its address and an API
/// token (a v2 `nbt_…` token, sent as `Bearer`, or an older one, sent as `Token`). Empty: no sync.
#[derive(Debug, Clone, Deserialize)]
pub struct NetboxSettings {
    pub url: String,
    pub token: SecretString,
    /// Seconds between scheduled syncs (0: only when an admin starts one).
    pub sync_every_secs: f64,
}

impl NetboxSettings {
    /// A client for it, or why there is none.
    pub fn client(&self) -> Result<app::topology::netbox::NetBox, String> {
        if self.url.trim().is_empty() {
            return Err("no NetBox is configured: set topology.netbox.url and topology.netbox.token".into());
        }
        app::topology::netbox::NetBox::new(&self.url, self.token.expose_secret())
    }
}

/// Integrations' upkeep: how long runs are kept, how often schedules are checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntegrationSettings {
    /// Months of runs and events kept; older months are dropped whole (their partitions).
    pub retention_months: u32,
    /// How often due schedule slots (late, missed) and stale successes are looked for.
    pub check_secs: f64,
}

/// Metrics and traces (the README's Operations section).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TelemetrySettings {
    /// Where Prometheus scrapes `/metrics`: a listener of its own, never the app's; empty turns
    /// metrics off.
    pub metrics_addr: String,
    /// Seconds a scrape's figures read from the database (deploys by state, the queue, approvals
    /// waiting) are reused, so scrapes never load the database.
    pub metrics_db_cache_secs: f64,
    /// OTLP/HTTP collector base URL (`http://collector:4318`; traces go to `/v1/traces`);
    /// empty: the standard `OTEL_EXPORTER_OTLP_ENDPOINT` when set, else no traces at all.
    pub otlp_endpoint: String,
    /// The traced service's name, unless `OTEL_SERVICE_NAME` says otherwise.
    pub service_name: String,
}

impl TelemetrySettings {
    /// The metrics listener's address, None when metrics are off.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, String> {
        let addr = self.metrics_addr.trim();
        if addr.is_empty() {
            return Ok(None);
        }
        addr.parse().map(Some).map_err(|_| format!("telemetry.metrics_addr: {addr:?} is not an address like 127.0.0.1:9464"))
    }

    /// Where traces go, None when they go nowhere.
    pub fn otlp_traces_url(&self) -> Option<String> {
        let base = match self.otlp_endpoint.trim() {
            "" => std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|e| !e.trim().is_empty())?,
            e => e.to_owned(),
        };
        Some(format!("{}/v1/traces", base.trim().trim_end_matches('/')))
    }
}

/// The catalog's reach outside: API definitions named by URL (`$text: https://…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogSettings {
    /// Hosts (`host` or `host:port`) an import may fetch API definitions from; empty (the
    /// default): none, the URL is kept and shown as a link.
    pub definition_hosts: Vec<String>,
    /// Time for all of one import's fetches.
    pub definition_timeout_secs: f64,
    /// Largest definition fetched.
    pub definition_max_bytes: usize,
}

/// Which executor runs an environment's deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    Command,
    Webhook,
}

impl ExecutorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Command => "command",
            ExecutorKind::Webhook => "webhook",
        }
    }
}

/// The deploy worker and its executors.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploySettings {
    /// Run a worker in this process (every process may: they share the queue).
    pub worker: bool,
    /// Deploys one worker runs at once.
    pub concurrency: usize,
    /// A worker's hold on a job; heartbeats renew it every third of this.
    pub lease_secs: f64,
    /// How often a worker looks for lost jobs and missed wake-ups.
    pub sweep_secs: f64,
    /// Environment name → executor; environments not named use `default_executor`.
    pub executors: std::collections::HashMap<String, ExecutorKind>,
    pub default_executor: ExecutorKind,
    pub command: CommandSettings,
    pub webhook: WebhookSettings,
    /// Origins of code hosts (like `https://github.com`) whose compare links approvers see.
    pub code_hosts: Vec<String>,
}

impl DeploySettings {
    pub fn executor_for(&self, environment: &str) -> ExecutorKind {
        self.executors.get(environment).copied().unwrap_or(self.default_executor)
    }
}

/// A local command run per deploy, with the deploy's parameters in its environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandSettings {
    pub program: String,
    pub args: Vec<String>,
    /// Variables set for the command besides the deploy's (it inherits nothing else but PATH).
    pub env: std::collections::BTreeMap<String, String>,
    /// Killed and failed after this long.
    pub timeout_secs: f64,
}

/// A signed POST to an external CD system, which reports back through the events API.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    pub url: String,
    /// Signs requests out and checks events in (HMAC-SHA256).
    pub secret: SecretString,
    /// A deploy that hears no result this long after dispatch fails.
    pub timeout_secs: f64,
    /// Attempts to deliver the request (connection errors, 429 and 5xx are retried).
    pub attempts: u32,
    /// The first retry's wait; each later one doubles it.
    pub backoff_ms: u64,
    pub request_timeout_secs: f64,
    /// Signed events older or newer than this are refused as stale.
    pub max_skew_secs: i64,
}

/// The company SSO (an OpenID Connect provider) and this app's client there.
#[derive(Debug, Clone, Deserialize)]
pub struct OidcSettings {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle_timeout_mins: i64,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout_hours: i64,
    /// How often expired sessions (and sign-ins never finished) are deleted.
    pub purge_secs: f64,
    /// A personal token stops working when its owner has not signed in for this long (their
    /// roles and teams are those of their last sign-in).
    pub token_owner_idle_days: i32,
}

/// The audit log's upkeep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditSettings {
    /// How often the heads of the sixteen chains are recorded in a checkpoint.
    pub checkpoint_secs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Where to listen. Port 0 picks a free port (tests do).
    pub addr: SocketAddr,
    /// The URL people reach the portal at; CSRF checks compare Origin against it.
    pub public_url: String,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// An `EnvFilter` directive, e.g. `info,server=debug`.
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteSettings {
    /// Where the build put the compiled CSS, JS and WASM: each build profile has a site of its
    /// own (`make build` and `make release`), so a release build never replaces a debug
    /// server's files under it.
    pub root: String,
    pub pkg_dir: String,
}

impl ServerSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Cookies get `Secure` and the `__Host-` prefix when the portal is served over https.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `scheme://host[:port]` of the public URL: what a same-site request's Origin is.
    pub fn public_origin(&self) -> String {
        let url = self.public_url.trim_end_matches('/');
        match url.find("://").map(|i| i + 3) {
            Some(start) => match url[start..].find('/') {
                Some(slash) => url[..start + slash].to_owned(),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        }
    }
}

impl DatabaseSettings {
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

/// The defaults, as a serialisable tree (the database URL is not secret here: it has no password).
#[derive(Serialize)]
struct Defaults {
    server: ServerSettings,
    database: DatabaseDefaults,
    log: LogSettings,
    site: SiteSettings,
    oidc: OidcDefaults,
    session: SessionSettings,
    audit: AuditSettings,
    iam: GroupMapping,
    deploys: DeployDefaults,
    catalog: CatalogSettings,
    telemetry: TelemetrySettings,
    integrations: IntegrationSettings,
    topology: TopologyDefaults,
}

#[derive(Serialize)]
struct TopologyDefaults {
    netbox: NetboxDefaults,
}

#[derive(Serialize)]
struct NetboxDefaults {
    url: &'static str,
    token: &'static str,
    sync_every_secs: f64,
}

#[derive(Serialize)]
struct DeployDefaults {
    worker: bool,
    concurrency: usize,
    lease_secs: f64,
    sweep_secs: f64,
    executors: std::collections::HashMap<String, ExecutorKind>,
    default_executor: ExecutorKind,
    command: CommandSettings,
    webhook: WebhookDefaults,
    code_hosts: Vec<&'static str>,
}

/// The development secret (no secret): production sets its own.
#[derive(Serialize)]
struct WebhookDefaults {
    url: &'static str,
    secret: &'static str,
    timeout_secs: f64,
    attempts: u32,
    backoff_ms: u64,
    request_timeout_secs: f64,
    max_skew_secs: i64,
}

/// The development identity provider under end2end/idp (its client secret is no secret).
#[derive(Serialize)]
struct OidcDefaults {
    issuer_url: &'static str,
    client_id: &'static str,
    client_secret: &'static str,
    scopes: Vec<&'static str>,
}

#[derive(Serialize)]
struct DatabaseDefaults {
    url: &'static str,
    max_connections: u32,
    acquire_timeout_secs: u64,
    migrate_on_start: bool,
}

fn defaults() -> Defaults {
    Defaults {
        server: ServerSettings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: "http://127.0.0.1:3000".into(),
            request_timeout_secs: 30,
            body_limit_bytes: 2 * 1024 * 1024,
            shutdown_grace_secs: 20,
        },
        database: DatabaseDefaults {
            url: "postgres://postgres@127.0.0.1:5432/switchyard",
            max_connections: 20,
            acquire_timeout_secs: 5,
            migrate_on_start: true,
        },
        log: LogSettings {
            filter: "info,sqlx=warn".into(),
            format: LogFormat::Json,
        },
        site: SiteSettings {
            root: if cfg!(debug_assertions) { "target/site" } else { "target/site-release" }.into(),
            pkg_dir: "pkg".into(),
        },
        oidc: OidcDefaults {
            issuer_url: "http://127.0.0.1:3900",
            client_id: "switchyard",
            client_secret: DEV_OIDC_SECRET,
            scopes: vec!["openid", "email", "profile", "groups"],
        },
        session: SessionSettings {
            idle_timeout_mins: 30,
            purge_secs: 300.0,
            token_owner_idle_days: 30,
            absolute_timeout_hours: 12,
        },
        audit: AuditSettings { checkpoint_secs: 300.0 },
        integrations: IntegrationSettings { retention_months: 13, check_secs: 30.0 },
        topology: TopologyDefaults { netbox: NetboxDefaults { url: "", token: "", sync_every_secs: 0.0 } },
        iam: GroupMapping::default(),
        deploys: DeployDefaults {
            worker: true,
            concurrency: 4,
            lease_secs: 15.0,
            sweep_secs: 2.0,
            executors: std::collections::HashMap::new(),
            default_executor: ExecutorKind::Command,
            // the demo rollout: real steps, real output, a few seconds long
            command: CommandSettings {
                program: "server/demo/rollout.sh".into(),
                args: vec![],
                env: Default::default(),
                timeout_secs: 600.0,
            },
            webhook: WebhookDefaults {
                url: "",
                secret: DEV_WEBHOOK_SECRET,
                timeout_secs: 1800.0,
                attempts: 5,
                backoff_ms: 500,
                request_timeout_secs: 10.0,
                max_skew_secs: 300,
            },
            code_hosts: vec!["https://github.com", "https://gitlab.com"],
        },
        catalog: CatalogSettings { definition_hosts: vec![], definition_timeout_secs: 10.0, definition_max_bytes: 1024 * 1024 },
        telemetry: TelemetrySettings {
            metrics_addr: "127.0.0.1:9464".into(),
            metrics_db_cache_secs: 5.0,
            otlp_endpoint: String::new(),
            service_name: "switchyard".into(),
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Read(#[from] Box<figment::Error>),
    /// Settings that must not go together (a development secret on a public https portal).
    #[error("configuration: {0}")]
    Unsafe(String),
    /// A value of the right type that is still wrong (an address that is none).
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The development secrets, refused when the portal is served over https (where it is real).
const DEV_WEBHOOK_SECRET: &str = "switchyard-dev-webhook-secret";
const DEV_OIDC_SECRET: &str = "switchyard-dev-secret";

impl Settings {
    /// Defaults ← `file` (when given and present) ← `DATABASE_URL` ← `SWITCHYARD_*`.
    pub fn figment(file: Option<PathBuf>) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(defaults()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()))
            .merge(Env::prefixed("SWITCHYARD_").split("__"))
    }

    /// Loads settings from the file named by `SWITCHYARD_CONFIG` (default `switchyard.toml`)
    /// and the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("SWITCHYARD_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("switchyard.toml"));
        Self::from_figment(Self::figment(Some(file)))
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| ConfigError::Read(Box::new(e)))?;
        settings.refuse_development_secrets()?;
        settings.telemetry.metrics_addr().map_err(ConfigError::Invalid)?;
        Ok(settings)
    }

    /// Over https the portal is real: the development secrets (published in this repository)
    /// would let anyone sign deploy events or pose as the portal to the identity provider.
    fn refuse_development_secrets(&self) -> Result<(), ConfigError> {
        if !self.server.is_https() {
            return Ok(());
        }
        if self.deploys.webhook.secret.expose_secret() == DEV_WEBHOOK_SECRET {
            return Err(ConfigError::Unsafe(
                "server.public_url is https but deploys.webhook.secret is the development secret: set SWITCHYARD_DEPLOYS__WEBHOOK__SECRET".into(),
            ));
        }
        if self.oidc.client_secret.expose_secret() == DEV_OIDC_SECRET {
            return Err(ConfigError::Unsafe(
                "server.public_url is https but oidc.client_secret is the development secret: set SWITCHYARD_OIDC__CLIENT_SECRET".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn layers_apply_in_order_and_secrets_do_not_print() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "switchyard.toml",
                r#"
                [server]
                public_url = "https://switchyard.example"
                request_timeout_secs = 10
                [database]
                url = "postgres://app:file-password@db/switchyard"
                [oidc]
                client_secret = "file-oidc-secret"
                [deploys.webhook]
                secret = "file-webhook-secret"
                "#,
            )?;
            jail.set_env("SWITCHYARD_SERVER__REQUEST_TIMEOUT_SECS", "7");
            jail.set_env("DATABASE_URL", "postgres://app:env-password@db/sy");
            let s = Settings::from_figment(Settings::figment(Some("switchyard.toml".into())))
                .map_err(|e| e.to_string())?;
            // env beats file, file beats defaults, untouched keys keep their defaults
            assert_eq!(s.server.request_timeout_secs, 7);
            assert_eq!(s.server.public_url, "https://switchyard.example");
            assert_eq!(s.server.body_limit_bytes, 2 * 1024 * 1024);
            assert_eq!(s.database.url(), "postgres://app:env-password@db/sy");
            let printed = format!("{s:?}");
            assert!(!printed.contains("env-password"), "secret leaked: {printed}");
            assert!(!printed.contains("file-oidc-secret"), "secret leaked: {printed}");
            assert!(!printed.contains("file-webhook-secret"), "secret leaked: {printed}");
            assert_eq!(s.server.public_origin(), "https://switchyard.example");
            assert!(s.server.is_https());
            Ok(())
        });
    }

    #[test]
    fn an_https_portal_refuses_the_development_secrets() {
        Jail::expect_with(|jail| {
            jail.set_env("SWITCHYARD_SERVER__PUBLIC_URL", "https://switchyard.example");
            let err = Settings::from_figment(Settings::figment(None)).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("deploys.webhook.secret is the development secret"), "{err}");
            jail.set_env("SWITCHYARD_DEPLOYS__WEBHOOK__SECRET", "a-real-one");
            let err = Settings::from_figment(Settings::figment(None)).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("oidc.client_secret is the development secret"), "{err}");
            jail.set_env("SWITCHYARD_OIDC__CLIENT_SECRET", "another-real-one");
            assert!(Settings::from_figment(Settings::figment(None)).is_ok());
            // plain http (development) keeps its defaults
            jail.set_env("SWITCHYARD_SERVER__PUBLIC_URL", "http://127.0.0.1:3000");
            jail.set_env("SWITCHYARD_OIDC__CLIENT_SECRET", DEV_OIDC_SECRET);
            assert!(Settings::from_figment(Settings::figment(None)).is_ok());
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("SWITCHYARD_SERVER__ADDR", "not-an-address");
            let err = Settings::from_figment(Settings::figment(None))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("addr"), "{err}");
            Ok(())
        });
    }
}
