use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use server::config::Settings;
use server::startup::Application;
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;
use uuid::Uuid;

/// The identity provider the Makefile starts for the Rust tests (end2end/idp).
pub fn idp_url() -> String {
    std::env::var("IDP_URL").unwrap_or_else(|_| "http://127.0.0.1:3901".into())
}

/// A running server on a fresh database, dropped with the value.
pub struct TestApp {
    pub address: String,
    /// Where its `/metrics` is served (`http://127.0.0.1:<port>`; the telemetry tests read it).
    #[allow(dead_code)]
    pub metrics: String,
    /// An anonymous client that does not follow redirects.
    pub client: reqwest::Client,
    db_name: String,
    admin_url: String,
    db_url: String,
    /// Dropped with the app: tells its watchdog the test ended.
    _watchdog: std::sync::mpsc::Sender<()>,
}

/// How long one test's app may live (`TEST_STUCK_SECS`, 300 s unless set). A test that runs
/// longer is stuck: its watchdog says which test it is and what its database is doing, then ends
/// the run (a hang would otherwise last until CI's own limit and say nothing).
fn stuck_after() -> std::time::Duration {
    std::time::Duration::from_secs(std::env::var("TEST_STUCK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(300))
}

/// Watches the app of the test running on this thread (libtest names the thread after the test).
fn watchdog(admin_url: String, db_name: String) -> std::sync::mpsc::Sender<()> {
    let (ended, wait) = std::sync::mpsc::channel::<()>();
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    std::thread::spawn(move || {
        let limit = stuck_after();
        if wait.recv_timeout(limit) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            return;
        }
        let activity = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(activity_of(&admin_url, &db_name)))
            .unwrap_or_else(|e| format!("(no runtime to ask the database: {e})"));
        // straight to the process's stderr: the test harness captures what its threads print
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n{test} is stuck: its app has run for {} s. Its database's connections:\n{activity}",
            limit.as_secs()
        );
        std::process::exit(1);
    });
    ended
}

/// What each connection to `db_name` is doing, and what it waits for.
async fn activity_of(admin_url: &str, db_name: &str) -> String {
    let rows: Result<Vec<(i32, String, String, String, String)>, sqlx::Error> = async {
        let mut c = PgConnection::connect(admin_url).await?;
        sqlx::query_as(
            "SELECT pid, coalesce(state, ''), coalesce(wait_event_type || ':' || wait_event, ''),
                    coalesce(pg_blocking_pids(pid)::text, ''), left(query, 300)
             FROM pg_stat_activity WHERE datname = $1 ORDER BY pid",
        )
        .bind(db_name)
        .fetch_all(&mut c)
        .await
    }
    .await;
    match rows {
        Ok(rows) => rows
            .into_iter()
            .map(|(pid, state, wait, blocked_by, query)| format!("  {pid} {state} waits {wait} blocked by {blocked_by}: {query}"))
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("  (could not ask: {e})"),
    }
}

/// The database URL the Makefile exports, or the local default.
fn base_url() -> reqwest::Url {
    let raw = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/switchyard".into());
    reqwest::Url::parse(&raw).expect("DATABASE_URL is a URL")
}

fn with_database(url: &reqwest::Url, name: &str) -> String {
    let mut url = url.clone();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

#[derive(Default)]
pub struct Options {
    pub migrate: bool,
    pub demo_data: bool,
    /// Overrides of settings, e.g. `("oidc.client_id", "switchyard-es256".into())`.
    pub settings: Vec<(&'static str, figment::value::Value)>,
}

/// Starts the app on a new, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options { migrate: true, ..Options::default() }).await
}

/// Starts the app on a new, migrated database holding the demo company.
pub async fn spawn_app_with_demo_data() -> TestApp {
    spawn_app_with(Options { migrate: true, demo_data: true, ..Options::default() }).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let base = base_url();
    let admin_url = with_database(&base, "postgres");
    let db_name = format!("switchyard_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect to postgres");
    admin
        .execute(format!(r#"CREATE DATABASE "{db_name}""#).as_str())
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    let db_url = with_database(&base, &db_name);

    let mut figment = Settings::figment(None)
        .merge(("server.addr", "127.0.0.1:0"))
        .merge(("server.public_url", ""))
        .merge(("database.url", db_url.clone()))
        .merge(("database.max_connections", 10))
        .merge(("database.migrate_on_start", options.migrate))
        .merge(("oidc.issuer_url", idp_url()))
        // every test server scrapes on a port of its own
        .merge(("telemetry.metrics_addr", "127.0.0.1:0"))
        // the demo rollout, fast (tests run in server/, not the repository's root)
        .merge(("deploys.command.program", concat!(env!("CARGO_MANIFEST_DIR"), "/demo/rollout.sh")))
        .merge(("deploys.command.args", vec!["0.02"]))
        // quiet unless asked: TEST_LOG=debug cargo test
        .merge(("log.filter", std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into())));
    for (key, value) in &options.settings {
        figment = figment.merge((*key, value.clone()));
    }
    let settings = Settings::from_figment(figment).expect("test settings");
    server::telemetry::init(&settings.log, &settings.telemetry);

    let app = Application::build(settings).await.expect("build app");
    let address = format!("http://{}", app.local_addr().expect("local addr"));
    let metrics = app.metrics_addr().map(|a| format!("http://{a}")).unwrap_or_default();
    if options.demo_data {
        // a day of integration runs: the demo's 30 take seconds a test does not need
        server::db::load_demo_data(app.pool(), 1).await.expect("demo data");
    }
    tokio::spawn(app.run_until(std::future::pending()));

    TestApp {
        address,
        metrics,
        client: reqwest::Client::builder().redirect(Policy::none()).build().expect("http client"),
        _watchdog: watchdog(admin_url.clone(), db_name.clone()),
        db_name,
        admin_url,
        db_url,
    }
}

/// A signed-in browser: a cookie jar holding a live Switchyard session.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    base: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// The app's database's URL (for tools such as pg_dump).
    pub fn database_url(&self) -> &str {
        &self.db_url
    }

    /// A direct connection to the app's database, for assertions and for simulating tampering.
    pub async fn db(&self) -> PgConnection {
        PgConnection::connect(&self.db_url).await.expect("connect to test database")
    }

    /// Listens on a notification channel of the app's database.
    pub async fn listen(&self, channel: &str) -> sqlx::postgres::PgListener {
        let mut listener = sqlx::postgres::PgListener::connect(&self.db_url).await.expect("listener");
        listener.listen(channel).await.expect("listen");
        listener
    }

    /// A pool of its own on the app's database (for workers a test starts and stops itself).
    pub fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new().max_connections(6).connect_lazy(&self.db_url).expect("pool")
    }

    /// Removes the database under the running app, as an outage would.
    pub async fn drop_database(&self) {
        drop_database(&self.admin_url, &self.db_name).await;
    }

    /// A new browser with no cookies, not following redirects.
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(Jar::default());
        Browser {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(Policy::none())
                .build()
                .expect("client"),
            jar,
            base: self.address.clone(),
        }
    }

    /// Signs in through the real identity provider's login form, as `who` (password = name).
    pub async fn login_as(&self, who: impl AsRef<str>) -> Browser {
        let user = who.as_ref();
        let browser = self.browser();
        let landed = browser.sign_in(user, user).await;
        assert_eq!(landed.status(), 200, "sign-in as {user} did not land on a page");
        browser
    }
}

/// Who acts in a test, by what they are in the demo company (the IdP's users in
/// end2end/idp/users.mjs): a test says who acts, not a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    /// alice: an admin, in no team.
    Admin,
    /// bob: lead of payments.
    PaymentsLead,
    /// carol: a member of ledger.
    LedgerMember,
    /// dave: a viewer, in no team.
    Viewer,
    /// nina: a member of network, the team that runs the network.
    NetworkMember,
}

impl AsRef<str> for Persona {
    fn as_ref(&self) -> &str {
        match self {
            Persona::Admin => "alice",
            Persona::PaymentsLead => "bob",
            Persona::LedgerMember => "carol",
            Persona::Viewer => "dave",
            Persona::NetworkMember => "nina",
        }
    }
}

impl TestApp {
    /// The first column of the first row of `sql`, with `binds` as text parameters (a count).
    pub async fn count(&self, sql: &str, binds: &[&str]) -> i64 {
        let mut query = sqlx::query(sql);
        for b in binds {
            query = query.bind(*b);
        }
        sqlx::Row::get(&query.fetch_one(&mut self.db().await).await.expect("count"), 0)
    }
}

impl Browser {
    /// Approves or rejects (`verdict`) an approval request over the API, with `comment`.
    pub async fn decide(&self, id: &str, verdict: &str, comment: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/approvals/{id}/{verdict}")))
            .header("origin", self.url(""))
            .json(&serde_json::json!({ "comment": comment }))
            .send()
            .await
            .expect("decide")
    }

    /// A new API token of this browser's user with `scopes` (for a service token, of `team`);
    /// its secret.
    pub async fn token(&self, name: &str, scopes: &[&str], team: Option<&str>) -> String {
        let mut form: Vec<(&str, &str)> = vec![("name", name), ("days", "30")];
        form.extend(scopes.iter().map(|s| (*s, "on")));
        form.extend(team.map(|t| ("team", t)));
        let r = self.server_fn("iam/create-token", &form).await;
        let status = r.status();
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(status, 200, "token {name}: {body}");
        body["secret"].as_str().expect("secret").to_owned()
    }

    /// Kicks off a deploy over the API from this signed-in browser, keyed `key`.
    pub async fn kick_off(&self, key: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/deploys"))
            .header("origin", self.url(""))
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .expect("kick off")
    }
}

impl Browser {
    /// A new browser with no cookies for the server at `base` (`http://127.0.0.1:<port>`).
    #[allow(dead_code)] // the load tests'
    pub fn at(base: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        Browser {
            client: reqwest::Client::builder().cookie_provider(jar.clone()).redirect(Policy::none()).build().expect("client"),
            jar,
            base: base.to_owned(),
        }
    }

    /// The same cookies (the same session), speaking to the server at `base`.
    #[allow(dead_code)] // the load tests'
    pub fn on(&self, base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder().cookie_provider(self.jar.clone()).redirect(Policy::none()).build().expect("client"),
            jar: self.jar.clone(),
            base: base.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Follows redirects by hand (the jar keeps both sites' cookies) until a non-redirect.
    pub async fn follow(&self, mut response: reqwest::Response) -> reqwest::Response {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                return response;
            }
            response = self.follow_once(response).await;
        }
        panic!("too many redirects");
    }

    /// Follows one redirect.
    pub async fn follow_once(&self, response: reqwest::Response) -> reqwest::Response {
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("redirect has a location")
            .to_owned();
        let next = response.url().join(&location).expect("location is a URL");
        self.client.get(next).send().await.expect("follow redirect")
    }

    /// Starts sign-in and returns the identity provider's login form page.
    pub async fn open_login_form(&self) -> reqwest::Response {
        let start = self.client.get(self.url("/auth/login")).send().await.expect("login");
        self.follow(start).await
    }

    /// Submits the IdP's login form and returns the response *before* following the callback.
    pub async fn submit_credentials(&self, form_page: reqwest::Response, user: &str, password: &str) -> reqwest::Response {
        let page_url = form_page.url().clone();
        let html = form_page.text().await.expect("login form");
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("login form has an action");
        let post = self
            .client
            .post(page_url.join(action).expect("form action URL"))
            .form(&[("username", user), ("password", password)])
            .send()
            .await
            .expect("submit login form");
        // through the IdP's own redirects, stopping at the app's callback
        let mut response = post;
        for _ in 0..10 {
            let Some(location) = response.headers().get("location").and_then(|v| v.to_str().ok()) else {
                return response;
            };
            let next = response.url().join(location).expect("location");
            if next.path() == "/auth/callback" {
                return response;
            }
            response = self.client.get(next).send().await.expect("follow IdP redirect");
        }
        panic!("the IdP did not send the browser back");
    }

    /// The full sign-in; returns the page the browser lands on.
    pub async fn sign_in(&self, user: &str, password: &str) -> reqwest::Response {
        let form = self.open_login_form().await;
        let to_callback = self.submit_credentials(form, user, password).await;
        self.follow(to_callback).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// A form POST from one of our pages (Origin set as a browser would).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Calls a server function the way the browser's form fallback does.
    pub async fn server_fn(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("origin", &self.base)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("POST server fn")
    }

    /// The value of the session cookie, if any.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&self.base).expect("base URL");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("switchyard_session=").map(str::to_owned))
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut c) = PgConnection::connect(admin_url).await {
        let _ = c
            .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
            .await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.db_name.clone());
        // Drop cannot await: clean up on a runtime of its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                rt.block_on(drop_database(&admin_url, &name));
            }
        })
        .join();
    }
}

/// Polls `check` every 25 ms until it gives a value, and returns it; after 30 s the test fails,
/// saying what it waited for. Tests wait for conditions with this, never for a fixed time.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited 30 s for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
