import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { hasJs, hydrated, open, signIn, submit, token } from './fixtures';

// The portal people use every day, as each demo user sees it: a personal home, actions one may
// not take shown disabled with the reason, history read as changes, approvals that confirm, and
// pages that fit a phone and work without JavaScript.

/** The number a home page's stat card shows. */
async function stat(page: Page, name: string): Promise<number> {
  return Number(await page.getByTestId(`stat-${name}`).textContent());
}

test('the home page is personal for each demo user, and its counts are the catalog list it links to', async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const js = hasJs(testInfo);
  const expected: Record<string, (page: Page) => Promise<void>> = {
    alice: async (page) => {
      await expect(page.getByTestId('my-services')).toContainText('as an admin you may change anything');
      await expect(page.getByTestId('my-approvals')).toBeVisible();
    },
    bob: async (page) => {
      await expect(page.getByTestId('my-services').locator('[data-team="payments"]')).toContainText('Payment Gateway');
      await expect(page.getByTestId('my-services').locator('[data-team="payments"]').getByRole('link', { name: 'All of them →' })).toHaveAttribute('href', '/catalog?kind=component&owner=payments');
      await expect(page.getByTestId('my-services').locator('[data-team="ledger"]')).toHaveCount(0);
    },
    carol: async (page) => {
      await expect(page.getByTestId('my-services').locator('[data-team="ledger"]')).toContainText('Ledger Core');
    },
    dave: async (page) => {
      await expect(page.getByTestId('my-services')).toContainText('You are in no team yet');
      await expect(page.getByTestId('my-approvals')).toContainText('Nothing waits for your decision');
      await expect(page.getByTestId('my-deploys')).toContainText('You have not deployed anything yet');
    },
  };
  for (const [user, check] of Object.entries(expected)) {
    const context = await browser.newContext({ javaScriptEnabled: js });
    const page = await context.newPage();
    await signIn(page, testInfo, user, '/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Good to see you, /);
    await check(page);
    await page.screenshot({ path: `screenshots/home-${user}-${testInfo.project.name}.png`, fullPage: true });
    if (user === 'dave') {
      // each count is the list it links to (other tests register services meanwhile: ask again
      // until a home and its list were read between two changes)
      for (const [name, query] of [['in-production', 'lifecycle=production'], ['tier-0', 'tier=0'], ['services', 'kind=component']]) {
        await expect.poll(async () => {
          await open(page, testInfo, '/');
          const shown = await stat(page, name);
          await page.getByTestId(`stat-${name}`).click();
          await expect(page).toHaveURL(new RegExp(query));
          const listed = Number((await page.getByText(/^\d+ entit(y|ies) found$/).textContent())?.split(' ')[0]);
          return listed === shown ? 'same' : `home ${shown}, list ${listed}`;
        }, { timeout: 30_000 }).toBe('same');
      }
    }
    await context.close();
  }
});

test('a viewer is not offered what only team members may do, and is told why', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  const dave = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
  await signIn(dave, testInfo, 'dave', '/catalog');
  const register = dave.getByTestId('register-service');
  await expect(register).toHaveAttribute('aria-disabled', 'true');
  await expect(dave.locator('a[href="/catalog/new"]')).toHaveCount(0);
  await expect(dave.locator('#register-service-why')).toContainText('You are in no team yet');
  await dave.screenshot({ path: `screenshots/catalog-viewer-${testInfo.project.name}.png` });
  // typed by hand, the form is not there: the reason is
  await open(dave, testInfo, '/catalog/new');
  await expect(dave.getByTestId('not-allowed')).toContainText('Only members of a team');
  await expect(dave.getByLabel('Name')).toHaveCount(0);
  await open(dave, testInfo, '/integrations');
  await expect(dave.getByTestId('register-integration')).toHaveAttribute('aria-disabled', 'true');
  await open(dave, testInfo, '/integrations/new');
  await expect(dave.getByTestId('not-allowed')).toBeVisible();

  // a team member gets the action
  const carol = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
  await signIn(carol, testInfo, 'carol', '/catalog');
  await expect(carol.getByRole('link', { name: 'Register a service' })).toHaveAttribute('href', '/catalog/new');
  await open(carol, testInfo, '/catalog/new');
  await expect(carol.getByTestId('not-allowed')).toHaveCount(0);
});

/** Bob asks for a production deploy of `service`; it waits for an approval. */
async function askForProduction(page: Page, testInfo: TestInfo, service: string, version: string) {
  await open(page, testInfo, `/deploys/new?service=${service}`);
  await page.getByLabel('Environment (required)').selectOption('production');
  await page.getByLabel('Version (required)').fill(version);
  await page.getByLabel('Reason (required)').fill(`ship ${version}`);
  await submit(page, page.getByRole('button', { name: 'Request deploy' }));
  await expect(page.getByTestId('deploy-state')).toHaveText('awaiting approval');
}

test('approvals: the navigation counts what waits, and each decision is confirmed', async ({ browser }, testInfo) => {
  test.setTimeout(60_000);
  const js = hasJs(testInfo);
  // each project its own payments service, so the two never decide on each other's request
  const [service, title] = js ? ['3ds-server', '3-D Secure Server'] : ['a2a-payments', 'Account-to-Account'];
  const version = `v7.${Date.now() % 100000}`;
  const bob = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
  await signIn(bob, testInfo, 'bob', '/');
  await askForProduction(bob, testInfo, service, version);

  const alice = await (await browser.newContext({ javaScriptEnabled: js })).newPage();
  await signIn(alice, testInfo, 'alice', '/approvals');
  if (js) {
    // the badge is asked for once the page is up
    await expect(alice.getByTestId('approvals-badge')).toHaveText(/^\d+ waiting for you$/);
  }
  await expect(alice.getByTestId('my-approvals')).toHaveCount(0);
  const card = alice.getByTestId('approval').filter({ hasText: `${title} ${version}` });
  await card.getByLabel('Comment (required)').fill('reviewed');
  await submit(alice, card.getByRole('button', { name: 'Approve' }));
  await expect(alice.getByTestId('decision-done')).toContainText(`You approved “Deploy ${title} ${version} to production”. It is approved and goes ahead.`);
  await alice.screenshot({ path: `screenshots/approval-confirmed-${testInfo.project.name}.png` });
});

test('history reads as changes: names, field by field, how long ago; the audit log names and links each subject', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'alice', '/admin/audit?subject_kind=entity');
  const table = page.getByTestId('audit-table');
  // the subject is named and linked, not a UUID
  const subject = table.getByTestId('subject').first();
  await expect(subject.getByRole('link')).toHaveAttribute('href', /^\/catalog\/[a-z]+\/[a-z-]+\/[a-z0-9._-]+$/);
  await expect(subject).not.toContainText(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  // when: how long ago, the exact time on hover
  const when = table.locator('tbody tr').first().locator('time');
  await expect(when).toHaveText(/ago$|^just now$|^yesterday$/);
  await expect(when).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  // what: each change field by field (an import lists what it set)
  await expect(table.getByTestId('changes').first()).toBeVisible();
  await page.screenshot({ path: `screenshots/audit-log-${testInfo.project.name}.png` });

  // the chain is verified with or without JavaScript, and says so
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await expect(page.getByTestId('chain-result')).toContainText('The chain is intact');
});

test('on a phone every main page fits the screen, and the menu opens with or without JavaScript', async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const js = hasJs(testInfo);
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, testInfo, 'bob', '/');
  const pages: [string, string][] = [
    ['home', '/'],
    ['catalog', '/catalog'],
    ['service', '/catalog/component/default/refunds'],
    ['integrations', '/integrations'],
    ['topology', '/topology'],
    ['deploys', '/deploys'],
    ['approvals', '/approvals'],
    ['team', '/teams/payments'],
    ['calendar', '/calendar'],
    ['integration systems', '/integrations/systems'],
  ];
  for (const [name, path] of pages) {
    await open(page, testInfo, path);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${path} is ${width} px wide on a 390 px screen`).toBeLessThanOrEqual(390);
    if (name === 'home' || name === 'service' || name === 'catalog') {
      await page.screenshot({ path: `screenshots/phone-${name}-${testInfo.project.name}.png`, fullPage: true });
    }
  }
  // the menu: hidden until asked for, then a way to every section
  await open(page, testInfo, '/');
  const nav = page.getByRole('navigation', { name: 'Sections' });
  await expect(nav).toBeHidden();
  await page.getByTestId('nav-toggle').click();
  await expect(nav).toBeVisible();
  await page.screenshot({ path: `screenshots/phone-menu-${testInfo.project.name}.png` });
  await nav.getByRole('link', { name: 'Deploys' }).click();
  await expect(page).toHaveURL(/\/deploys$/);
  await hydrated(page, testInfo);
  await expect(page.getByRole('heading', { level: 1, name: 'Deploys' })).toBeVisible();
  await expect(nav).toBeHidden();
  await context.close();
});

test('the API reference reads like documentation: Markdown rendered, a contents list, an example for each operation', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'dave', '/docs/api');
  const endpoints = page.getByTestId('endpoints');
  await expect(endpoints.getByTestId('endpoint').first()).toBeVisible();
  // Markdown is rendered: code spans are code, no literal backticks are left
  await expect(endpoints.locator('.prose-doc code').filter({ hasText: 'waiting_for_me' }).first()).toBeVisible();
  expect(await endpoints.locator('.prose-doc').allTextContents()).not.toContainEqual(expect.stringContaining('`'));
  // the contents list leads to each operation
  const contents = page.getByRole('navigation', { name: 'Contents' });
  const entry = contents.getByRole('link', { name: 'GET /api/v1/catalog/entities', exact: true });
  await entry.click();
  await expect(page).toHaveURL(/#get-api-v1-catalog-entities$/);
  const op = page.locator('#get-api-v1-catalog-entities');
  await expect(op).toBeInViewport();
  // every operation has an example call
  await op.getByText('Example').click();
  await expect(op.getByTestId('example')).toContainText('curl -sS -H "Authorization: Bearer $SWITCHYARD_TOKEN" "$SWITCHYARD/api/v1/catalog/entities"');
  expect(await page.getByTestId('example').count()).toBe(await endpoints.getByTestId('endpoint').count());
  await page.screenshot({ path: `screenshots/api-reference-${testInfo.project.name}.png` });
});

test('admin lists are paged: twenty rows a page, with links to the next and previous pages', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'alice', '/admin');
  // enough tokens for a second page, whatever the other tests made
  for (let i = 0; i < 21; i++) await token(page, `pager-${testInfo.project.name}-${i}`, ['read']);
  await open(page, testInfo, '/admin');
  const pager = page.getByTestId('tokens_page-pager');
  await expect(pager).toContainText(/^1–20 of \d+/);
  await expect(page.getByTestId('token-table').locator('tbody tr')).toHaveCount(20);
  await pager.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/tokens_page=2$/);
  await expect(page.getByTestId('tokens_page-pager')).toContainText(/^21–/);
  await expect(page.getByTestId('tokens_page-pager').getByRole('link', { name: '← Previous' })).toBeVisible();
});

test('the dependency graph reads at depth 3: titles on the boxes, each a link, the focus marked, a crowd collapsed into a count, zoom', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'dave', '/catalog/component/default/ledger-core?depth=3');
  const frame = page.getByTestId('graph-frame');
  // the entity in focus stands out and is not a link to itself
  const root = frame.locator('[data-root="true"]');
  await expect(root).toHaveAttribute('aria-current', 'page');
  await expect(root).toHaveAttribute('title', 'Ledger Core');
  await expect(page.getByTestId('graph').locator('text').filter({ hasText: /^Ledger Core$/ })).toHaveCount(1);
  // ten services depend on the ledger: more than a box can show beside it, so a count stands for the rest
  const more = frame.getByTestId('graph-more').first();
  await expect(more).toHaveAttribute('title', /^\d+ more entit(y|ies) beside Ledger Core$/);
  await page.screenshot({ path: `screenshots/graph-depth-3-${testInfo.project.name}.png`, fullPage: true });
  if (hasJs(testInfo)) {
    // zoom: the drawing grows in its frame, which scrolls rather than shrinking it
    const drawing = frame.locator('div.relative').first();
    const before = (await drawing.boundingBox())!.width;
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(async () => (await drawing.boundingBox())!.width).toBeGreaterThan(before * 1.2);
    await page.getByRole('button', { name: 'Actual size' }).click();
    await expect.poll(async () => Math.round((await drawing.boundingBox())!.width)).toBe(Math.round(before));
  }
  await more.click();
  await expect(page).toHaveURL(/ledger-core#relations$/);
  // every other box opens its entity's page
  const node = frame.locator('a[data-testid="graph-node"]').first();
  const title = await node.getAttribute('title');
  await node.click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(title!);
});
