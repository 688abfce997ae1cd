import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

/** True in the project that runs with JavaScript (the hydrated app). */
export function hasJs(testInfo: TestInfo): boolean {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/** Waits, with JavaScript on, until the WASM app has hydrated the page (and said nothing failed). */
export async function hydrated(page: Page, testInfo: TestInfo) {
  if (hasJs(testInfo)) {
    // a page's chunks arrive after the main module: on a debug build under two workers that can
    // take more than the default five seconds
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 15_000 });
    await expect(page.locator('#bundle-failed')).toHaveCount(0);
  }
}

/** Fills in and submits the identity provider's login form (the page must be showing it). */
export async function submitLogin(page: Page, user: string, password = user) {
  await expect(page.getByRole('heading', { name: 'Company SSO' })).toBeVisible();
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in through the real identity provider, starting from `path`, and waits for the app. */
export async function signIn(page: Page, testInfo: TestInfo, user: string, path = '/') {
  await page.goto(path);
  await submitLogin(page, user);
  await expect(page.getByTestId('user-menu')).toBeVisible();
  await hydrated(page, testInfo);
}

/** Opens a page as an already signed-in user. */
export async function open(page: Page, testInfo: TestInfo, path: string) {
  const response = await page.goto(path);
  await hydrated(page, testInfo);
  return response;
}

/**
 * Clicks a form's submit button and waits until the server has answered the POST it sends
 * (a server-function fetch with JavaScript on, the form post and its redirect with it off),
 * so a following `goto` cannot cut the request off mid-flight.
 */
export async function submit(page: Page, button: Locator) {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST');
  await button.click();
  await answered;
}

/** A token of the signed-in page's user (a server function, called as the browser would). */
export async function token(page: Page, name: string, scopes: string[], team?: string): Promise<string> {
  const form: Record<string, string> = { name, days: '1' };
  for (const s of scopes) form[s] = 'on';
  if (team) form.team = team;
  const origin = new URL(page.url()).origin;
  const r = await page.request.post('/api/iam/create-token', { form, headers: { origin, accept: 'application/json' } });
  expect(r.status(), await r.text()).toBe(200);
  return (await r.json()).secret;
}

/** An admin's page adds a one-off freeze window on the freeze calendar. */
export async function addFreeze(page: Page, testInfo: TestInfo, environment: string, reason: string, starts: Date, ends: Date) {
  const local = (d: Date) => d.toISOString().slice(0, 16);
  await open(page, testInfo, '/deploys/freezes');
  const form = page.getByTestId('freeze-form');
  await form.getByLabel('Environment (required)').selectOption(environment);
  await form.getByLabel('Reason (required)').fill(reason);
  await form.getByLabel('Starts (UTC, required)').fill(local(starts));
  await form.getByLabel('Ends (UTC, one-off)').fill(local(ends));
  await submit(page, form.getByRole('button', { name: 'Add window' }));
  await expect(page.getByTestId('freeze-list')).toContainText(reason);
}

/** An admin's page ends the freeze window with `reason` (with JavaScript the page asks first). */
export async function endFreeze(page: Page, testInfo: TestInfo, reason: string) {
  await open(page, testInfo, '/deploys/freezes');
  page.once('dialog', (d) => void d.accept());
  await submit(page, page.getByTestId('freeze-list').locator('li', { hasText: reason }).getByRole('button', { name: 'End window' }));
  await expect(page.getByTestId('freeze-list')).not.toContainText(reason);
}
