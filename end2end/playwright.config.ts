import { defineConfig, devices } from '@playwright/test';

// The suite runs against the real built server and site (`make test`: the release site), on its own port and
// its own database, in Debian's Chromium: once with JavaScript (hydrated) and once without.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const databaseUrl =
  process.env.E2E_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_e2e';
const serverBin = process.env.E2E_SERVER_BIN ?? './target/debug/server';
// the site it serves: the Makefile names the release site for `make test` (target/site-release)
const siteRoot = process.env.E2E_SITE_ROOT ?? 'target/site';
const idpPort = Number(process.env.E2E_IDP_PORT ?? 3902);
// staging deploys go to a CD system by webhook; the security probe plays that system on this port
const cdPort = Number(process.env.E2E_CD_PORT ?? 3903);

const chromium = {
  ...devices['Desktop Chrome'],
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  },
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  // no retries: a test passes or it does not (the rare refused sign-in was the OIDC client reusing
  // a connection the provider was closing; it opens a fresh one per request now)
  retries: 0,
  reporter: [['list']],
  use: { baseURL, trace: 'retain-on-failure' },
  projects: [
    { name: 'js', use: { ...chromium } },
    { name: 'no-js', use: { ...chromium, javaScriptEnabled: false } },
    // the REST API against its OpenAPI document (schemathesis, from the Makefile's venv), alone,
    // after the browser suites
    { name: 'contract', testDir: './contract', use: { ...chromium }, dependencies: ['js', 'no-js'] },
    // the shipped Grafana dashboard against Grafana's dashboard model (no browser)
    { name: 'monitoring', testDir: './monitoring' },
  ],
  webServer: [
  {
    // the real identity provider, with the real login form
    command: 'node idp/server.mjs',
    url: `http://127.0.0.1:${idpPort}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    timeout: 20_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { IDP_PORT: String(idpPort) },
  },
  {
    // the server's JSON log (warnings and errors) goes to target/e2e-server.log: a failing test's
    // page shows a request id, and that id finds the reason there
    command: `${serverBin} demo-data && exec ${serverBin} > target/e2e-server.log 2>&1`,
    cwd: '..',
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    // the demo data includes 30 days of integration runs
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      DATABASE_URL: databaseUrl,
      SWITCHYARD_SERVER__ADDR: `127.0.0.1:${port}`,
      SWITCHYARD_SITE__ROOT: siteRoot,
      SWITCHYARD_SERVER__PUBLIC_URL: baseURL,
      SWITCHYARD_LOG__FILTER: 'warn',
      SWITCHYARD_OIDC__ISSUER_URL: `http://127.0.0.1:${idpPort}`,
      // the demo rollout script, at 0.2 s a step
      SWITCHYARD_DEPLOYS__COMMAND__ARGS: '["0.2"]',
      SWITCHYARD_DEPLOYS__EXECUTORS__STAGING: 'webhook',
      SWITCHYARD_DEPLOYS__WEBHOOK__URL: `http://127.0.0.1:${cdPort}/deploy`,
      // /metrics on a port of its own choosing: never in the way of a server already on 9464
      SWITCHYARD_TELEMETRY__METRICS_ADDR: '127.0.0.1:0',
      // schedule slots are judged every second, so a slot without a run shows late soon after
      SWITCHYARD_INTEGRATIONS__CHECK_SECS: '1',
    },
  },
  ],
});
