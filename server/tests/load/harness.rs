//! What the fault run and the soak share: a Postgres cluster of their own, server processes
//! started, killed and stopped, and the run's users and tokens.
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// A worker's lease and the sweep that recovers deploys of a dead worker, as the servers run.
pub const LEASE_SECS: f64 = 3.0;
pub const SWEEP_SECS: f64 = 0.5;
/// How long an executor run takes (the script sleeps this long).
const RUN_SECS: &str = "0.3";

// ------------------------------------------------------------------------------ Postgres

/// A Postgres cluster of the run's own, in a temporary folder, on a free port.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// The user its programs run as, when the run is root's.
    owner: Option<&'static str>,
}

impl Cluster {
    pub async fn create(dir: &Path) -> Cluster {
        let owner = is_root().await.then_some("postgres");
        if let Some(o) = owner {
            run(Command::new("chown").arg(o).arg(dir)).await;
        }
        let cluster = Cluster { bin: postgres_bin(), dir: dir.to_owned(), port: free_port(), owner };
        let data = cluster.data();
        run(cluster.tool("initdb").args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "-D"]).arg(&data)).await;
        cluster.start().await;
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        match self.owner {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    pub async fn start(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200", self.port, self.dir.display());
        let log = self.dir.join("postgres.log");
        run(self.tool("pg_ctl").args(["-w", "-t", "120", "-o", &options, "-l"]).arg(&log).arg("-D").arg(self.data()).arg("start")).await;
    }

    /// Stops at once, as a crash would: no checkpoint, connections cut; recovery replays the WAL.
    pub async fn crash(&self) {
        run(self.tool("pg_ctl").args(["-w", "-m", "immediate", "-D"]).arg(self.data()).arg("stop")).await;
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let mut c = match self.owner {
            Some(user) => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => std::process::Command::new(program),
        };
        let _ = c.args(["-w", "-m", "immediate", "-D"]).arg(self.data()).arg("stop").output();
    }
}

/// The newest Postgres's programs (`PG_BIN` if set).
fn postgres_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("PG_BIN") {
        return bin.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("Postgres's programs under /usr/lib/postgresql (or set PG_BIN)")
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a Postgres with pg_ctl under /usr/lib/postgresql").1
}

async fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().await.expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

pub async fn run(c: &mut Command) {
    let out = c.output().await.expect("run a program");
    assert!(out.status.success(), "{c:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

// ------------------------------------------------------------------------------ servers

/// One server process (a `server serve`, worker on), restarted on the same port.
pub struct Process {
    pub port: u16,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
    pub child: Option<Child>,
}

impl Process {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start a server");
        self.child = Some(child);
    }

    /// Waits (at most a minute) until it answers its health check.
    pub async fn ready(&self, client: &reqwest::Client) {
        let url = format!("{}/healthz", self.base());
        for _ in 0..600 {
            if client.get(&url).timeout(Duration::from_secs(2)).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server on {} did not come up: see {}", self.port, self.log.display());
    }

    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().await.expect("SIGKILL");
        }
    }

    /// SIGTERM, then waits for it to end; its exit status.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("a running server");
        let pid = c.id().expect("its pid").to_string();
        run(Command::new("kill").args(["-TERM", &pid])).await;
        c.wait().await.expect("wait for the server")
    }
}

// ------------------------------------------------------------------------------ the stack

/// Users and tokens of the run, made through the services (as an admin would).
pub struct Fixtures {
    pub deploy_tokens: Vec<String>,
    pub ingest_token: String,
    pub bots: Vec<Uuid>,
}

async fn fixtures(pool: &PgPool, deployers: usize) -> Fixtures {
    let admin: Uuid = sqlx::query_scalar("INSERT INTO users (issuer, subject, username, name) VALUES ('chaos', 'chaos-admin', 'chaos-admin', 'Fault run admin') RETURNING id")
        .fetch_one(pool)
        .await
        .expect("admin");
    let principal = |user: Uuid, username: &str, admin: bool| app::iam::principal::Principal {
        user_id: app::iam::types::UserId(user),
        username: username.to_owned(),
        name: username.to_owned(),
        email: String::new(),
        roles: vec![if admin { app::iam::types::Role::Admin } else { app::iam::types::Role::Viewer }],
        teams: vec![],
        via: app::iam::principal::Via::Session { session_id: Uuid::nil() },
    };
    let meta = app::context::RequestMeta { request_id: "fault-run".into(), ip: "127.0.0.1".into() };
    let mut deploy_tokens = Vec::new();
    let mut bots = Vec::new();
    for i in 0..deployers {
        let username = format!("chaos-deployer-{i}");
        let user: Uuid = sqlx::query_scalar("INSERT INTO users (issuer, subject, username, name) VALUES ('chaos', $1, $1, 'Fault run deployer') RETURNING id")
            .bind(&username)
            .fetch_one(pool)
            .await
            .expect("deployer");
        // a member of every team, so it may deploy every service
        sqlx::query("INSERT INTO team_members (team_id, user_id, role, source) SELECT id, $1, 'member', 'manual' FROM teams")
            .bind(user)
            .execute(pool)
            .await
            .expect("memberships");
        let scopes = vec!["read".to_owned(), "deploy".to_owned()];
        let req = app::iam::tokens::Request { name: "fault run", team: None, scopes: &scopes, days: 1 };
        deploy_tokens.push(app::iam::tokens::create(pool, &principal(user, &username, false), req, &meta).await.expect("deploy token").secret);
        bots.push(user);
    }
    let team: String = sqlx::query_scalar("SELECT slug FROM teams ORDER BY slug LIMIT 1").fetch_one(pool).await.expect("a team");
    let scopes = vec!["ingest".to_owned()];
    let req = app::iam::tokens::Request { name: "fault run ingest", team: Some(&team), scopes: &scopes, days: 1 };
    let ingest_token = app::iam::tokens::create(pool, &principal(admin, "chaos-admin", true), req, &meta).await.expect("ingest token").secret;
    Fixtures { deploy_tokens, ingest_token, bots }
}

/// The servers' names in tables: A, B.
pub fn name(i: usize) -> &'static str {
    ["A", "B", "C", "D"][i]
}

/// A run's whole stack: its folder, its Postgres holding the demo company and the run's users,
/// the deployable services, and its server processes (up).
pub struct Stack {
    pub dir: PathBuf,
    pub cluster: Cluster,
    pub pool: PgPool,
    pub fx: Fixtures,
    /// Components one approval lets into production (tier 0 needs two people).
    pub services: Vec<String>,
    /// Where the executor writes each start: `<deploy id> <attempt>` lines.
    pub starts: PathBuf,
    pub procs: Vec<Process>,
    pub client: reqwest::Client,
}

impl Stack {
    pub async fn new(what: &str, servers: usize, deployers: usize) -> Stack {
        let dir = std::env::temp_dir().join(format!("switchyard-{what}-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("run folder");
        let cluster = Cluster::create(&dir).await;
        run(cluster.tool("createdb").args(["-h", "127.0.0.1", "-p", &cluster.port.to_string(), "-U", "postgres", "switchyard"])).await;
        let db_url = cluster.url("switchyard");
        let pool = PgPoolOptions::new().max_connections(4).connect(&db_url).await.expect("the run's database");
        server::db::MIGRATOR.run(&pool).await.expect("migrations");
        server::db::load_demo_data(&pool, 1).await.expect("demo data");
        let fx = fixtures(&pool, deployers).await;
        let services: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM catalog_ownership WHERE kind = 'component' AND namespace = 'default' AND status <> 'pending'
               AND coalesce(tier, 3) <> 0 ORDER BY name LIMIT 12",
        )
        .fetch_all(&pool)
        .await
        .expect("services");
        assert!(services.len() >= 4, "the demo company has deployable services: {services:?}");

        // the executor writes each start (deploy id and attempt) to a file, then takes a moment
        let starts = dir.join("starts.log");
        let script = dir.join("executor.sh");
        let text = format!("#!/bin/sh\necho \"$SWITCHYARD_DEPLOY_ID $SWITCHYARD_ATTEMPT\" >> {}\nsleep {RUN_SECS}\necho '::progress 100'\n", starts.display());
        std::fs::write(&script, text).expect("executor");
        run(Command::new("chmod").arg("+x").arg(&script)).await;

        let idp = crate::helpers::idp_url();
        let mut procs: Vec<Process> = (0..servers)
            .map(|i| {
                let port = free_port();
                let env = [
                    ("SWITCHYARD_DATABASE__URL", db_url.clone()),
                    ("SWITCHYARD_DATABASE__MIGRATE_ON_START", "false".into()),
                    ("SWITCHYARD_SERVER__ADDR", format!("127.0.0.1:{port}")),
                    ("SWITCHYARD_SERVER__PUBLIC_URL", format!("http://127.0.0.1:{port}")),
                    ("SWITCHYARD_SERVER__SHUTDOWN_GRACE_SECS", "10".into()),
                    ("SWITCHYARD_OIDC__ISSUER_URL", idp.clone()),
                    ("SWITCHYARD_TELEMETRY__METRICS_ADDR", "127.0.0.1:0".into()),
                    ("SWITCHYARD_LOG__FILTER", "warn".into()),
                    ("SWITCHYARD_LOG__FORMAT", "pretty".into()),
                    ("SWITCHYARD_DEPLOYS__WORKER", "true".into()),
                    ("SWITCHYARD_DEPLOYS__LEASE_SECS", LEASE_SECS.to_string()),
                    ("SWITCHYARD_DEPLOYS__SWEEP_SECS", SWEEP_SECS.to_string()),
                    ("SWITCHYARD_DEPLOYS__COMMAND__PROGRAM", script.display().to_string()),
                    ("SWITCHYARD_INTEGRATIONS__CHECK_SECS", "3600".into()),
                ];
                Process {
                    port,
                    env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    log: dir.join(format!("server-{}.log", name(i))),
                    child: None,
                }
            })
            .collect();
        let client = reqwest::Client::builder().build().expect("client");
        for p in &mut procs {
            p.start();
        }
        for p in &procs {
            p.ready(&client).await;
        }
        Stack { dir, cluster, pool, fx, services, starts, procs, client }
    }

    /// Stops everything; keeps the folder (logs) when `keep`.
    pub async fn end(self, keep: bool) {
        let Stack { dir, cluster, pool, mut procs, .. } = self;
        for p in &mut procs {
            p.kill().await;
        }
        pool.close().await;
        drop(cluster);
        if !keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
