import { test, expect } from '@playwright/test';
import { hasJs, hydrated, signIn, submitLogin } from './fixtures';

const users = [
  { user: 'alice', name: 'Alice Admin', admin: true, teams: [] as string[] },
  { user: 'bob', name: 'Bob Builder', admin: false, teams: ['Payments'] },
  { user: 'carol', name: 'Carol Ledger', admin: false, teams: ['Ledger'] },
  { user: 'dave', name: 'Dave Viewer', admin: false, teams: [] as string[] },
];

for (const u of users) {
  test(`${u.user} signs in through the SSO form, sees the navigation of the role, and signs out`, async ({ page }, testInfo) => {
    await signIn(page, testInfo, u.user, '/catalog');
    await expect(page).toHaveURL(/\/catalog$/);
    await expect(page.getByTestId('user-name')).toHaveText(u.name);
    const nav = page.getByRole('navigation', { name: 'Sections' });
    await expect(nav.getByRole('link', { name: 'Catalog' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Admin' })).toHaveCount(u.admin ? 1 : 0);

    await page.goto('/me');
    await hydrated(page, testInfo);
    await expect(page.getByTestId('roles')).toContainText(u.admin ? 'admin' : 'viewer');
    for (const team of u.teams) await expect(page.getByTestId('teams')).toContainText(team);
    if (u.user === 'bob') await expect(page.getByTestId('teams')).toContainText('lead');
    // the token form offers the scopes one holds, and says why the others are not there
    const scopes = page.getByTestId('token-scopes');
    await expect(scopes.getByLabel('read')).toBeVisible();
    await expect(scopes.getByLabel('admin', { exact: true })).toHaveCount(u.admin ? 1 : 0);
    await expect(scopes.getByLabel('write')).toHaveCount(u.admin || u.teams.length > 0 ? 1 : 0);
    await expect(scopes.getByLabel('deploy')).toHaveCount(u.admin || u.teams.length > 0 ? 1 : 0);
    await expect(scopes.getByLabel('ingest')).toHaveCount(0);
    await expect(page.getByTestId('token-scopes-why')).toHaveCount(u.admin || u.teams.length > 0 ? 0 : 1);
    if (u.user === 'dave' && hasJs(testInfo)) {
      // a token made: its secret shows once, and the form is empty for the next
      const form = page.getByTestId('token-form');
      await form.getByLabel('Name').fill(`reader-${testInfo.project.name}-${Date.now() % 100000}`);
      await form.getByRole('button', { name: 'Create token' }).click();
      await expect(page.getByTestId('token-secret')).toBeVisible();
      await expect(page.getByTestId('token-form').getByLabel('Name')).toHaveValue('');
    }
    await page.screenshot({ path: `screenshots/profile-${u.user}-${testInfo.project.name}.png` });

    await page.getByTestId('user-menu').locator('summary').click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    // RP-initiated logout: the provider asks to confirm ending its own session too
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('heading', { name: 'You are signed out' })).toBeVisible();
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Company SSO' })).toBeVisible();
  });
}

test('a replayed callback is refused', async ({ page }, testInfo) => {
  let callback = '';
  page.on('request', (r) => {
    if (r.url().includes('/auth/callback')) callback = r.url();
  });
  await signIn(page, testInfo, 'carol');
  expect(callback).not.toBe('');
  await page.goto(callback);
  await expect(page.getByRole('heading', { name: 'This sign-in link has already been used' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Try signing in again' })).toBeVisible();
});

test('a tampered callback is refused', async ({ page }) => {
  // Walk the provider's redirects ourselves (the browser's own redirects cannot be
  // intercepted) and hand the browser a callback whose state was changed on the way.
  await page.route('**/interaction/*/login', async (route) => {
    let response = await route.fetch({ maxRedirects: 0 });
    let location = response.headers()['location'];
    while (location && !location.includes('/auth/callback')) {
      response = await page.request.get(new URL(location, route.request().url()).toString(), { maxRedirects: 0 });
      location = response.headers()['location'];
    }
    const forged = new URL(location);
    forged.searchParams.set('state', 'forged-state');
    await route.fulfill({ status: 303, headers: { location: forged.toString() } });
  });
  await page.goto('/');
  await submitLogin(page, 'bob');
  await expect(page.getByRole('heading', { name: 'Sign-in could not be verified' })).toBeVisible();
  await expect(page.getByText('state mismatch')).toBeVisible();
  // not signed in to Switchyard (the provider's own session may live on: that is SSO)
  expect((await page.request.get('/api/v1/me')).status()).toBe(401);
});

test('a wrong password keeps the user name and says what is wrong', async ({ page }) => {
  await page.goto('/');
  await submitLogin(page, 'bob', 'wrong');
  await expect(page.getByRole('alert')).toHaveText('Unknown user name or wrong password.');
  await expect(page.getByLabel('User name')).toHaveValue('bob');
});

test('cancelling at the provider explains and offers a retry', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('heading', { name: 'Sign-in cancelled' })).toBeVisible();
  await page.getByRole('link', { name: 'Try signing in again' }).click();
  await expect(page.getByRole('heading', { name: 'Company SSO' })).toBeVisible();
});
