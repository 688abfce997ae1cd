import { test, expect } from '@playwright/test';
import { hasJs, open, signIn } from './fixtures';

const sections = ['Catalog', 'Integrations', 'Topology', 'Deploys', 'Approvals'];

// every page needs a signed-in employee: dave, who is a plain viewer
test.beforeEach(async ({ page }, testInfo) => {
  if (testInfo.title.startsWith('/readyz')) return;
  await signIn(page, testInfo, 'dave');
});

test('the home page shows the shell and the demo company', async ({ page }, testInfo) => {
  await open(page, testInfo, '/');
  await expect(page).toHaveTitle('Home · Switchyard');
  const nav = page.getByRole('navigation', { name: 'Sections' });
  for (const name of sections) {
    await expect(nav.getByRole('link', { name })).toBeVisible();
  }
  await expect(page.getByRole('search').getByRole('combobox', { name: 'Search the catalog' })).toBeVisible();
  await expect(page.getByTestId('user-name')).toHaveText('Dave Viewer');
  // demo data: 60 services (plus any the catalog tests register meanwhile), 10 teams
  await expect(page.getByTestId('stat-services')).toHaveText(/^6\d$/);
  await expect(page.getByTestId('team-list').getByRole('listitem')).toHaveCount(10);
  await page.screenshot({ path: `screenshots/home-${testInfo.project.name}.png`, fullPage: true });
});

test('the side navigation reaches every section', async ({ page }, testInfo) => {
  await open(page, testInfo, '/');
  const nav = page.getByRole('navigation', { name: 'Sections' });
  for (const name of sections) {
    await nav.getByRole('link', { name }).click();
    await expect(page).toHaveURL(new RegExp(`/${name.toLowerCase()}$`));
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
    await expect(nav.getByRole('link', { name })).toHaveAttribute('aria-current', 'page');
  }
  await page.screenshot({ path: `screenshots/approvals-${testInfo.project.name}.png` });
});

test('searching from the top bar lists matching services', async ({ page }, testInfo) => {
  await open(page, testInfo, '/');
  const box = page.getByRole('search').getByRole('combobox', { name: 'Search the catalog' });
  await box.fill('ledger');
  await box.press('Enter');
  await expect(page).toHaveURL(/\/catalog\?q=ledger$/);
  const table = page.getByTestId('service-table');
  await expect(table.getByText('Ledger Core')).toBeVisible();
  await expect(table.getByText('Payment Gateway')).toHaveCount(0);
  await expect(page.getByRole('search').getByRole('combobox', { name: 'Search the catalog' })).toHaveValue('ledger');
});

test('one search: a typo finds the service in the top bar and on the catalog page alike, best match first', async ({ page }, testInfo) => {
  // Enter without choosing a hit (or without JavaScript, the form) opens the catalog page, which
  // finds what the top bar found: Refunds for "refnds", ranked first
  await open(page, testInfo, '/');
  const box = page.getByRole('search').getByRole('combobox', { name: 'Search the catalog' });
  await box.fill('refnds');
  await box.press('Enter');
  await expect(page).toHaveURL(/\/catalog\?q=refnds$/);
  const rows = page.getByTestId('service-table').locator('tbody tr');
  await expect(rows.first()).toContainText('Refunds');
  await expect(page.locator('#catalog-sort')).toHaveValue('relevance');
  await page.screenshot({ path: `screenshots/search-typo-${testInfo.project.name}.png`, fullPage: true });
});

test.describe('the top bar search as a combobox', () => {
  test('arrow keys move through the hits, each with its kind and owner, Enter opens one; nothing found says so; typing sends few requests', async ({ page }, testInfo) => {
    test.skip(!hasJs(testInfo), 'results as you type need JavaScript (without it the box submits to the catalog page, tested above)');
    await open(page, testInfo, '/');
    let asked = 0;
    page.on('request', (r) => { if (r.url().includes('/api/catalog/search')) asked += 1; });
    const box = page.getByRole('search').getByRole('combobox', { name: 'Search the catalog' });
    await box.click();
    await box.pressSequentially('refunds', { delay: 15 });
    const results = page.getByRole('listbox');
    const refunds = results.getByRole('option').filter({ hasText: 'Refunds' });
    await expect(refunds).toBeVisible();
    await expect(refunds).toContainText('component');
    await expect(refunds).toContainText('Payments');
    expect(asked, 'typing seven letters without a pause asks when typing pauses, not seven times').toBeLessThanOrEqual(3);
    await expect(box).toHaveAttribute('aria-expanded', 'true');
    await box.press('ArrowDown');
    const first = results.getByRole('option').first();
    await expect(first).toHaveAttribute('aria-selected', 'true');
    await expect(box).toHaveAttribute('aria-activedescendant', (await first.getAttribute('id')) ?? 'missing');
    await box.press('ArrowDown');
    await expect(first).toHaveAttribute('aria-selected', 'false');
    await box.press('ArrowUp');
    await expect(first).toHaveAttribute('aria-selected', 'true');
    await page.screenshot({ path: `screenshots/search-combobox-${testInfo.project.name}.png` });
    await box.press('Enter');
    await expect(page).toHaveURL(/\/catalog\/component\/default\/refunds$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Refunds' })).toBeVisible();
    // nothing found: a row says so
    await box.fill('zzqqxx');
    await expect(page.getByTestId('search-none')).toContainText('No matches for “zzqqxx”');
    await box.press('Escape');
    await expect(page.getByTestId('search-none')).toBeHidden();
  });
});

test('a search that matches nothing says so', async ({ page }, testInfo) => {
  await open(page, testInfo, '/catalog?q=qqzzxxq');
  await expect(page.getByTestId('no-results')).toContainText('qqzzxxq');
});

test('an unknown path answers 404 with a page', async ({ page }, testInfo) => {
  const response = await open(page, testInfo, '/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.getByText('/no/such/page')).toBeVisible();
});

test('the user menu opens', async ({ page }, testInfo) => {
  await open(page, testInfo, '/');
  const menu = page.getByTestId('user-menu');
  await expect(menu.getByRole('button', { name: 'Sign out' })).toBeHidden();
  await menu.locator('summary').click();
  await expect(menu.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(menu.getByText('dave@switchyard.test')).toBeVisible();
});

test('/readyz is green', async ({ request }) => {
  const response = await request.get('/readyz');
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe('ready');
  expect(body.migrations.applied).toBe(body.migrations.expected);
  expect(response.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test.describe('hydrated', () => {
  test('pressing / focuses the search box', async ({ page }, testInfo) => {
    test.skip(!hasJs(testInfo), 'keyboard shortcuts need JavaScript');
    await open(page, testInfo, '/catalog');
    await page.locator('main').click();
    await page.keyboard.press('/');
    await expect(page.getByRole('search').getByRole('combobox', { name: 'Search the catalog' })).toBeFocused();
  });

  test('the navigation drawer opens on a small screen', async ({ page }, testInfo) => {
    test.skip(!hasJs(testInfo), 'the drawer toggle needs JavaScript');
    await page.setViewportSize({ width: 390, height: 844 });
    await open(page, testInfo, '/');
    const nav = page.getByRole('navigation', { name: 'Sections' });
    await expect(nav).toBeHidden();
    await page.getByTestId('nav-toggle').click();
    await expect(nav).toBeVisible();
    await nav.getByRole('link', { name: 'Topology' }).click();
    await expect(page).toHaveURL(/\/topology$/);
    await expect(nav).toBeHidden();
    await page.screenshot({ path: `screenshots/mobile-${testInfo.project.name}.png` });
  });
});

test('the bundle has content-hashed names, kept a year; the page itself is not stored', async ({ page }, testInfo) => {
  const response = await open(page, testInfo, '/');
  expect(response?.headers()['cache-control']).toBe('no-store');
  const html = (await response?.text()) ?? '';
  const files = [...html.matchAll(/\/pkg\/(switchyard\.[0-9a-f]{16}\.(js|wasm|css))/g)];
  expect(new Set(files.map((m) => m[2]))).toEqual(new Set(['js', 'wasm', 'css']));
  for (const [, file] of files) {
    const asset = await page.request.get(`/pkg/${file}`);
    expect(asset.status(), file).toBe(200);
    expect(asset.headers()['cache-control'], file).toBe('public, max-age=31536000, immutable');
  }
});

test('a page whose script bundle fails to load says so, and still works as a plain page', async ({ page }, testInfo) => {
  test.skip(!hasJs(testInfo), 'without JavaScript there is no bundle to fail');
  await page.route(/\/pkg\/.*\.wasm$/, (route) => route.abort());
  await page.goto('/catalog');
  const alert = page.locator('#bundle-failed');
  await expect(alert).toHaveAttribute('role', 'alert');
  await expect(alert).toContainText('could not be loaded');
  await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
  // the server-rendered page still navigates
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Deploys' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Deploys' })).toBeVisible();
  await page.screenshot({ path: `screenshots/bundle-failed-${testInfo.project.name}.png` });
});
