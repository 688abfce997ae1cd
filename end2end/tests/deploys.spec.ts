import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { addFreeze, endFreeze, hasJs, hydrated, open, signIn, submit } from './fixtures';

// Each project deploys its own services, so the two never wait on each other's queue.
const services = (testInfo: TestInfo) => (hasJs(testInfo) ? ['refunds', 'Refunds'] : ['payouts', 'Payouts']);

/** Fills and submits the deploy form on /deploys/new; returns when the deploy page shows. */
async function requestDeploy(page: Page, testInfo: TestInfo, service: string, environment: string, version: string) {
  await open(page, testInfo, `/deploys/new?service=${service}`);
  await page.getByLabel('Environment (required)').selectOption(environment);
  await page.getByLabel('Version (required)').fill(version);
  await page.getByLabel('Reason (required)').fill(`ship ${version}: fixes the rounding of partial refunds`);
  await submit(page, page.getByRole('button', { name: 'Request deploy' }));
}

test('an engineer asks for a production deploy, cannot approve it, an admin does, and the log streams to success', async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const js = hasJs(testInfo);
  const [service, title] = services(testInfo);
  const version = `v2.${Date.now() % 100000}.0`;
  const bobContext = await browser.newContext({ javaScriptEnabled: js });
  const bob = await bobContext.newPage();
  await signIn(bob, testInfo, 'bob', `/catalog/component/default/${service}`);
  await bob.getByRole('link', { name: 'Deploy', exact: true }).click();
  await hydrated(bob, testInfo);
  await expect(bob.getByTestId('policy-production')).toContainText('1 approval');
  await expect(bob.getByTestId('policy-production')).toContainText('a lead of Payments, or an admin');
  await bob.getByLabel('Environment (required)').selectOption('production');
  await bob.getByLabel('Version (required)').fill(version);
  await bob.getByLabel('Reason (required)').fill('ship the fix for the rounding of partial refunds');
  await submit(bob, bob.getByRole('button', { name: 'Request deploy' }));
  await expect(bob).toHaveURL(/\/deploys\/[0-9a-f-]{36}$/);
  await hydrated(bob, testInfo);
  const deployUrl = bob.url();
  await expect(bob.getByTestId('deploy-state')).toHaveText('awaiting approval');

  // bob leads Payments, but he asked: the request offers him no decision
  await bob.getByRole('link', { name: 'The approval request' }).click();
  await expect(bob.getByTestId('summary')).toHaveText(`Deploy ${title} ${version} to production`);
  await expect(bob.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await open(bob, testInfo, deployUrl);
  await expect(bob.getByTestId('deploy-state')).toHaveText('awaiting approval');

  const aliceContext = await browser.newContext({ javaScriptEnabled: js });
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice', '/approvals');
  const card = alice.getByTestId('approval').filter({ hasText: `${title} ${version}` });
  await expect(card.getByTestId('deploy-facts')).toContainText(`${service}`);
  await expect(card.getByTestId('deploy-facts')).toContainText(`→ ${version}`);
  await alice.screenshot({ path: `screenshots/deploy-approval-${testInfo.project.name}.png`, fullPage: true });
  await card.getByLabel('Comment (required)').fill('change reviewed, canary plan is fine');
  await submit(alice, card.getByRole('button', { name: 'Approve' }));
  await expect(card).toHaveCount(0);

  // bob's page follows along: live over server-sent events with JavaScript, by refreshing without
  await expect(bob.getByTestId('deploy-state')).toHaveText('succeeded', { timeout: 30_000 });
  await expect(bob.getByTestId('deploy-log')).toContainText(`${service} ${version} is live in production`);
  await expect(bob.getByTestId('transitions')).toContainText('approved; queued by alice');
  await bob.screenshot({ path: `screenshots/deploy-succeeded-${testInfo.project.name}.png`, fullPage: true });
  await aliceContext.close();
  await bobContext.close();
});

test('a service page says what runs where, promotes, and rolls back after a confirmation with a reason', async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const [service] = services(testInfo);
  const stamp = Date.now() % 100000;
  const [v1, v2] = [`v1.${stamp}`, `v2.${stamp}`];
  await signIn(page, testInfo, 'bob', '/');
  for (const v of [v1, v2]) {
    await requestDeploy(page, testInfo, service, 'dev', v);
    await expect(page.getByTestId('deploy-state')).toHaveText('succeeded', { timeout: 30_000 });
  }
  // the service's page: per environment what runs, by whom, since when
  await open(page, testInfo, `/catalog/component/default/${service}`);
  const dev = page.getByTestId('runs-dev');
  await expect(dev.getByTestId('running')).toHaveText(v2);
  await expect(dev).toContainText('by bob');
  await expect(dev.locator('time')).toHaveAttribute('title', /UTC$/);
  // promoting opens the deploy form for the next environment with the version filled in
  await expect(dev.getByTestId('promote-dev')).toHaveText(new RegExp(`^Promote ${v2.replace('.', '\\.')} to `));
  await page.screenshot({ path: `screenshots/service-runs-where-${testInfo.project.name}.png`, fullPage: true });
  await dev.getByTestId('promote-dev').click();
  await hydrated(page, testInfo);
  await expect(page.getByLabel('Version (required)')).toHaveValue(v2);
  await expect(page.getByLabel('Environment (required)')).toHaveValue('staging');
  await expect(page.getByLabel('Reason (required)')).toHaveValue(new RegExp(`^Promote ${v2.replace('.', '\\.')} from `));

  // rolling back asks first: the confirmation names the versions and wants a reason
  await open(page, testInfo, `/catalog/component/default/${service}`);
  const rollback = page.getByTestId('runs-dev').getByTestId('rollback-dev');
  await rollback.getByText(`Roll back to ${v1}…`).click();
  await expect(rollback).toContainText(`runs ${v2} now; this deploys ${v1} there again`);
  await rollback.getByLabel('Why roll back? (required)').fill(`${v2} double-charges refunds`);
  await submit(page, rollback.getByRole('button', { name: new RegExp(`^Yes, roll back .* to ${v1.replace('.', '\\.')}$`) }));
  await expect(page).toHaveURL(/\/deploys\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('deploy-version')).toHaveText(v1);
  await expect(page.getByTestId('deploy-state')).toHaveText('succeeded', { timeout: 30_000 });
  await open(page, testInfo, `/deploys/service/${service}`);
  await expect(page.getByTestId('current-dev')).toHaveText(v1);
  await page.screenshot({ path: `screenshots/deploy-history-${testInfo.project.name}.png`, fullPage: true });
});

test('a deploy inside a freeze window is refused with the window named, and what was typed stays', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  const [service] = services(testInfo);
  const reason = `Certification ${testInfo.project.name} ${Date.now() % 100000}`;
  const aliceContext = await browser.newContext({ javaScriptEnabled: js });
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice');
  await addFreeze(alice, testInfo, 'staging', reason, new Date(Date.now() - 3_600_000), new Date(Date.now() + 3_600_000));
  await expect(alice.getByTestId('freeze-list').locator('li', { hasText: reason })).toContainText('active now');
  await alice.screenshot({ path: `screenshots/freeze-calendar-${testInfo.project.name}.png`, fullPage: true });

  const bobContext = await browser.newContext({ javaScriptEnabled: js });
  const bob = await bobContext.newPage();
  await signIn(bob, testInfo, 'bob', '/');
  await requestDeploy(bob, testInfo, service, 'staging', 'v3.0.0');
  await expect(bob.getByTestId('error-environment')).toContainText('Staging is frozen: Certification');
  await expect(bob.getByLabel('Version (required)')).toHaveValue('v3.0.0');
  await expect(bob.getByLabel('Environment (required)')).toHaveValue('staging');
  await bob.screenshot({ path: `screenshots/deploy-frozen-${testInfo.project.name}.png`, fullPage: true });

  // leave nothing behind for other tests: the window ends (with JavaScript the page asks first)
  await endFreeze(alice, testInfo, reason);
  await aliceContext.close();
  await bobContext.close();
});

test('cancelling a deploy asks first, and a no keeps it', async ({ page }, testInfo) => {
  test.skip(!hasJs(testInfo), 'the question is asked by the page script');
  const [service] = services(testInfo);
  await signIn(page, testInfo, 'bob');
  await requestDeploy(page, testInfo, service, 'production', `v9.${Date.now() % 100000}.0`);
  await expect(page).toHaveURL(/\/deploys\/[0-9a-f-]{36}$/);
  await hydrated(page, testInfo);
  await expect(page.getByTestId('deploy-state')).toHaveText('awaiting approval');
  const asked: string[] = [];
  const cancels: string[] = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/api/deploys/cancel')) cancels.push(r.url()); });
  page.once('dialog', (d) => { asked.push(d.message()); void d.dismiss(); });
  await page.getByRole('button', { name: 'Cancel deploy' }).click();
  await expect.poll(() => asked).toEqual(['Cancel this deploy?']);
  page.once('dialog', (d) => { asked.push(d.message()); void d.accept(); });
  await page.getByRole('button', { name: 'Cancel deploy' }).click();
  await expect(page.getByTestId('deploy-state')).toHaveText('cancelled');
  // asked twice, sent once: the "no" sent nothing
  expect(asked).toHaveLength(2);
  expect(cancels).toHaveLength(1);
});
