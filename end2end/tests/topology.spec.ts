import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { hasJs, open, signIn, token } from './fixtures';

// WebGL in headless Chromium: SwiftShader draws it in software (the suite's other files run with
// --disable-gpu, which turns WebGL off). launchOptions is per worker, so this file gets its own.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  },
});

/** Waits until the interactive view has drawn its first frame; its node count. */
async function drawn(page: Page, timeout = 30_000): Promise<number> {
  const view = page.getByTestId('topology-view');
  await expect(view).toHaveAttribute('data-state', 'drawn', { timeout });
  return Number(await view.getAttribute('data-nodes'));
}

async function shot(page: Page, testInfo: TestInfo, name: string) {
  const stage = page.getByTestId('topology-stage');
  if (await stage.count()) await stage.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `screenshots/${name}-${testInfo.project.name}.png`, fullPage: false });
}

test('the topology view of the demo network draws, a search focuses a device, and its page names it a single point of failure', async ({ page }, testInfo) => {
  test.skip(!hasJs(testInfo), 'the interactive view is the script-driven one');
  test.setTimeout(90_000);
  // the view's bundle (sigma.js) is loaded by the topology page alone
  const scripts: string[] = [];
  page.on('request', (r) => { if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname); });
  await signIn(page, testInfo, 'dave', '/catalog');
  expect(scripts.filter((s) => s.startsWith('/pkg/topology/'))).toEqual([]);
  await open(page, testInfo, '/topology');
  expect(await drawn(page)).toBeGreaterThanOrEqual(250);
  expect(scripts).toContain('/pkg/topology/view.js');
  // the server's fallback text makes way for the drawing
  await expect(page.locator('[data-topology-fallback]')).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'devices and partners' })).toBeVisible();
  await shot(page, testInfo, 'topology-demo');

  // a search focuses the device and says so
  await page.getByLabel('Find a device or partner').fill('ldn-eq-core-1');
  await page.getByLabel('Find a device or partner').press('Enter');
  await expect(page.getByTestId('topology-view')).toHaveAttribute('data-focused', 'ldn-eq-core-1');
  await expect(page.getByRole('status').filter({ hasText: 'ldn-eq-core-1: core switch' })).toBeVisible();
  await shot(page, testInfo, 'topology-focused');

  // a name that is not there is said to be missing, and the focus stays
  await page.getByLabel('Find a device or partner').fill('no-such-router');
  await page.getByLabel('Find a device or partner').press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'No device or partner is called “no-such-router”' })).toBeVisible();
  await expect(page.getByTestId('topology-view')).toHaveAttribute('data-focused', 'ldn-eq-core-1');

  // colour by single point of failure: the legend says what red means
  await page.getByLabel('Colour by').selectOption('spof');
  await expect(page.getByRole('list', { name: 'Legend' })).toContainText('single point of failure');

  // the device's page lists its finding
  await open(page, testInfo, '/topology/devices/ldn-eq-core-1');
  await expect(page.getByTestId('spof-finding')).toContainText('Single point of failure');
  await expect(page.getByTestId('spof-finding')).toContainText('ldn-eq-leaf-1');
  await expect(page.getByTestId('interfaces')).toContainText('et-0/0/0');
  await shot(page, testInfo, 'topology-device');
  // a redundant device has no finding
  await open(page, testInfo, '/topology/devices/fra1-core-1');
  await expect(page.getByTestId('topology-heading')).toHaveText('fra1-core-1');
  await expect(page.getByTestId('spof-finding')).toHaveCount(0);
});

test('choosing "if this fails" on the core device that is a single point of failure greys out what it cuts off, the single-homed bank among it', async ({ page }, testInfo) => {
  test.skip(!hasJs(testInfo), 'the interactive view is the script-driven one');
  test.setTimeout(90_000);
  // from the device's "If this fails" card to the view
  await signIn(page, testInfo, 'dave', '/topology/devices/ldn-eq-core-1');
  await page.getByTestId('blast-on-view').click();
  await expect(page).toHaveURL(/\/topology\?fail=ldn-eq-core-1/);
  await drawn(page);
  const view = page.getByTestId('topology-view');
  await expect(view).toHaveAttribute('data-failing', 'ldn-eq-core-1');
  const note = page.getByTestId('topology-blast');
  await expect(note).toContainText('If ldn-eq-core-1 fails');
  await expect(note).toContainText('1 partner (Deutsche Bank)');
  await expect(note).toContainText('1 integration');
  // how the drawing draws each node now (sigma's node reducer): failed red, cut off grey
  const look = (name: string) => view.evaluate((v, n) => (v as unknown as { look(n: string): { color: string } | null }).look(n), name);
  expect((await look('ldn-eq-core-1'))?.color).toBe('#dc2626');
  expect((await look('Deutsche Bank'))?.color).toBe('#e2e8f0');
  expect((await look('ldn-eq-ext-1'))?.color).toBe('#e2e8f0');
  expect((await look('ldn-eq-leaf-1'))?.color).toBe('#e2e8f0');
  expect((await look('Barclays'))?.color).not.toBe('#e2e8f0');
  expect((await look('ldn-eq-border-1'))?.color).not.toBe('#e2e8f0');
  await shot(page, testInfo, 'topology-if-fails');
  await note.getByRole('button', { name: 'Clear' }).click();
  await expect(view).not.toHaveAttribute('data-failing');
  expect((await look('Deutsche Bank'))?.color).not.toBe('#e2e8f0');

  // chosen in the view itself: a border router whose loss leaves Visa one path (amber)
  await page.getByLabel('Find a device or partner').fill('fra1-border-1');
  await page.getByLabel('Find a device or partner').press('Enter');
  await expect(view).toHaveAttribute('data-focused', 'fra1-border-1');
  await page.getByTestId('topology-if-fails').click();
  await expect(view).toHaveAttribute('data-failing', 'fra1-border-1');
  await expect(note).toContainText('left with one path');
  expect((await look('Visa'))?.color).toBe('#d97706');
  expect((await look('Deutsche Bank'))?.color).not.toBe('#e2e8f0');
});

test('without JavaScript the topology page shows the overview and the tables, and the pages read', async ({ page }, testInfo) => {
  test.skip(hasJs(testInfo), 'the page as it reads without a script');
  await signIn(page, testInfo, 'dave', '/topology');
  await expect(page.locator('[data-topology-fallback]')).toBeVisible();
  const overview = page.getByTestId('topology-overview');
  // the demo's sites (another test may add one of its own meanwhile)
  for (const site of ['fra1', 'iad1', 'ldn-eq', 'nyc-eq', 'aws-eu-central-1', 'aws-us-east-1']) {
    await expect(overview.getByTestId('overview-site').filter({ has: page.locator('text', { hasText: new RegExp(`^${site}$`) }) })).toHaveCount(1);
  }
  await expect(overview.getByTestId('overview-partner')).toHaveCount(6);
  await expect(page.getByTestId('weak-points')).toContainText('ldn-eq-core-1');
  await expect(page.getByTestId('partner-findings')).toContainText('Deutsche Bank');
  await expect(page.getByTestId('sites')).toContainText('Data center');
  await shot(page, testInfo, 'topology-overview');

  // the single-homed partner's page says so, with its session
  await page.getByTestId('partner-findings').getByRole('link', { name: 'Deutsche Bank' }).first().click();
  await expect(page.getByTestId('topology-heading')).toHaveText('Deutsche Bank');
  await expect(page.getByTestId('partner-finding')).toContainText('One path from fra1');
  await expect(page.getByTestId('partner-sessions')).toContainText('ldn-eq-ext-1');
  await shot(page, testInfo, 'topology-partner');

  // a site, a circuit, the devices list and the paths between two places
  await open(page, testInfo, '/topology/sites/ldn-eq');
  await expect(page.getByTestId('site-devices')).toContainText('ldn-eq-core-1');
  await expect(page.getByTestId('site-circuits')).toContainText('COLT-FRA-LDN-101');
  await page.getByTestId('site-circuits').getByRole('link', { name: 'COLT-FRA-LDN-101' }).click();
  await expect(page.getByTestId('circuit-ends')).toContainText('fra1-border-1');
  await open(page, testInfo, '/topology/devices?q=hsm&site=fra1');
  await expect(page.getByTestId('devices').locator('tbody tr')).toHaveCount(4);
  await open(page, testInfo, '/topology/paths?from=ldn-eq-srv-1&to=Deutsche%20Bank');
  await expect(page.getByTestId('paths').locator(':scope > li').first()).toContainText('ldn-eq-core-1');
  // a place that does not exist is named
  await open(page, testInfo, '/topology/paths?from=ldn-eq-srv-1&to=Nobody');
  await expect(page.getByRole('alert')).toContainText(/no device or partner is called "Nobody"/i);
});

/** A generated network: a grid of `rows` × `columns` devices, each joined to its right and
 * lower neighbours (no single point of failure), as GraphML. */
function grid(site: string, rows: number, columns: number): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    '<key id="label" for="node" attr.name="label" attr.type="string"/>', '<key id="role" for="node" attr.name="role" attr.type="string"/>',
    `<graph id="${site}" edgedefault="undirected">`];
  const id = (r: number, c: number) => `n${r * columns + c}`;
  const roles = ['spine', 'leaf', 'server', 'server', 'core'];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      out.push(`<node id="${id(r, c)}"><data key="label">${site}-${r}-${c}</data><data key="role">${roles[(r + c) % roles.length]}</data></node>`);
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      if (c + 1 < columns) out.push(`<edge source="${id(r, c)}" target="${id(r, c + 1)}"/>`);
      if (r + 1 < rows) out.push(`<edge source="${id(r, c)}" target="${id(r + 1, c)}"/>`);
    }
  }
  out.push('</graph>', '</graphml>');
  return out.join('\n');
}

test('the view draws a generated network of 5,000 devices and 10,000 links', async ({ page }, testInfo) => {
  test.skip(!hasJs(testInfo), 'the interactive view is the script-driven one');
  test.setTimeout(180_000);
  await signIn(page, testInfo, 'nina', '/topology');
  // nina's own token: she is of the network team, which changes the network
  const secret = await token(page, `topology-e2e-${Date.now()}`, ['read', 'write']);
  const file = grid('generated-5000', 50, 100);
  const r = await page.request.post('/api/v1/topology/import/graphml?site=generated-5000', {
    headers: { authorization: `Bearer ${secret}`, origin: new URL(page.url()).origin },
    multipart: { file: { name: 'generated-5000.graphml', mimeType: 'application/graphml+xml', buffer: Buffer.from(file) } },
  });
  expect(r.status(), await r.text()).toBe(200);
  expect((await r.json()).devices.created).toBe(5000);

  await open(page, testInfo, '/topology');
  expect(await drawn(page, 120_000)).toBeGreaterThanOrEqual(5000);
  const view = page.getByTestId('topology-view');
  expect(Number(await view.getAttribute('data-edges'))).toBeGreaterThanOrEqual(9850);
  console.log(`topology view, ${await view.getAttribute('data-nodes')} nodes: first frame ${await view.getAttribute('data-first-frame-ms')} ms after navigation`);
  await shot(page, testInfo, 'topology-5000');

  // the generated site alone, through the site filter
  await page.getByLabel('Site', { exact: true }).selectOption('generated-5000');
  await expect(view).toHaveAttribute('data-nodes', '5000', { timeout: 60_000 });
  await expect(view).toHaveAttribute('data-state', 'drawn', { timeout: 60_000 });
  await shot(page, testInfo, 'topology-5000-site');
});
