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
    /// How the IdP's groups become roles and teams.
    pub iam: GroupMapping,
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
    /// Where cargo-leptos put the compiled CSS, JS and WASM.
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
    iam: GroupMapping,
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
            filter: "info,server=debug,app=debug,sqlx=warn".into(),
            format: LogFormat::Json,
        },
        site: SiteSettings {
            root: "target/site".into(),
            pkg_dir: "pkg".into(),
        },
        oidc: OidcDefaults {
            issuer_url: "http://127.0.0.1:3900",
            client_id: "switchyard",
            client_secret: "switchyard-dev-secret",
            scopes: vec!["openid", "email", "profile", "groups"],
        },
        session: SessionSettings {
            idle_timeout_mins: 30,
            absolute_timeout_hours: 12,
        },
        iam: GroupMapping::default(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

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
        figment.extract().map_err(|e| ConfigError(Box::new(e)))
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
            assert!(!printed.contains("switchyard-dev-secret"), "secret leaked: {printed}");
            assert_eq!(s.server.public_origin(), "https://switchyard.example");
            assert!(s.server.is_https());
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
