import { test, expect } from '@playwright/test';
import { addFreeze, endFreeze, hasJs, signIn, submit } from './fixtures';

test('the change calendar shows freezes, maintenance and critical runs, flags the window that cuts off Deutsche Bank during its statement import, filters, and offers an iCalendar feed', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  // a freeze of staging ten days out, this project's own
  const reason = `Calendar check ${testInfo.project.name} ${Date.now() % 100000}`;
  const aliceContext = await browser.newContext({ javaScriptEnabled: js });
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice');
  const inTenDays = Date.now() + 10 * 86_400_000;
  await addFreeze(alice, testInfo, 'staging', reason, new Date(inTenDays), new Date(inTenDays + 7_200_000));

  const daveContext = await browser.newContext({ javaScriptEnabled: js });
  const dave = await daveContext.newPage();
  await signIn(dave, testInfo, 'dave', '/calendar');
  const events = dave.getByTestId('calendar-event');
  // the three kinds
  await expect(events.filter({ hasText: reason })).toHaveAttribute('data-kind', 'freeze');
  const swap = dave.locator('[data-testid="calendar-event"][data-kind="maintenance"]').filter({ hasText: 'Line card swap on the extranet router' });
  await expect(swap).toHaveCount(1);
  await expect(dave.locator('[data-testid="calendar-event"][data-kind="integration"]').first()).toBeVisible();
  // the work on the router Deutsche Bank's only circuit lands on, during its morning import: flagged on both
  await expect(swap).toHaveAttribute('data-clash', 'true');
  await expect(swap).toContainText('Cuts off Deutsche Bank');
  await expect(swap).toContainText('cuts off Deutsche Bank during the critical run of EUR statements (camt.053) into the ledger');
  const run = dave.locator('[data-testid="calendar-event"][data-kind="integration"][data-clash="true"]').filter({ hasText: 'EUR statements (camt.053) into the ledger' });
  await expect(run).toHaveCount(1);
  await expect(run).toContainText('Line card swap on the extranet router on ldn-eq-ext-1');
  await expect(dave.getByTestId('calendar-clashes')).toContainText('Line card swap on the extranet router');
  await expect(dave.getByTestId('calendar-timeline').locator('rect[data-clash="true"]')).toHaveCount(2);
  await expect(swap.getByRole('link', { name: 'Line card swap on the extranet router' })).toHaveAttribute('href', '/topology/devices/ldn-eq-ext-1');
  await dave.screenshot({ path: `screenshots/calendar-${testInfo.project.name}.png`, fullPage: false });

  // narrowed to Deutsche Bank: no freeze (it touches no partner), only what reaches the bank
  const filters = dave.getByTestId('calendar-filters');
  await filters.getByLabel('Partner').fill('Deutsche Bank');
  // a GET form: the filters go in the URL
  await filters.getByRole('button', { name: 'Show' }).click();
  await expect(dave).toHaveURL(/partner=Deutsche/);
  await expect(events.filter({ hasText: reason })).toHaveCount(0);
  await expect(swap).toHaveCount(1);
  const ons = await dave.locator('[data-testid="calendar-event"][data-kind="integration"]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-on')))]);
  expect(ons).toEqual(['deutsche-camt053-to-ledger']);
  await dave.screenshot({ path: `screenshots/calendar-partner-${testInfo.project.name}.png`, fullPage: true });

  // the feed for the same filter, as a calendar app reads it
  const feed = await dave.getByTestId('calendar-ics').getAttribute('href');
  expect(feed).toMatch(/^\/calendar\.ics\?partner=Deutsche/);
  const response = await dave.request.get(feed!);
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toContain('text/calendar');
  const ics = await response.text();
  expect(ics).toContain('BEGIN:VCALENDAR');
  expect(ics).toContain('SUMMARY:Clash: Line card swap on the extranet router');
  expect(ics).not.toContain(reason);

  // a day that is not one: said under the page, and what was typed stays
  await filters.getByLabel('From').fill('next week');
  await filters.getByRole('button', { name: 'Show' }).click();
  await expect(dave).toHaveURL(/from=next/);
  await expect(dave.getByRole('alert').filter({ hasText: 'is not a day or a time' })).toBeVisible();
  await expect(dave.getByTestId('calendar-filters').getByLabel('From')).toHaveValue('next week');
  await expect(dave.getByTestId('calendar-filters').getByLabel('Partner')).toHaveValue('Deutsche Bank');

  // leave nothing behind: the freeze ends (with JavaScript the page asks first)
  await endFreeze(alice, testInfo, reason);

  // an admin sets what a critical run does to a deploy to dev (one project only: both share dev), and sets it back
  if (js) {
    const dev = alice.getByTestId('environment-policies').locator('li[data-environment="dev"]');
    await dev.getByLabel('Development: during a critical run').selectOption('block');
    await submit(alice, dev.getByRole('button', { name: 'Save' }));
    await expect(dev).toContainText('During a critical run: refused');
    await dev.scrollIntoViewIfNeeded();
    await alice.screenshot({ path: `screenshots/environment-policies-${testInfo.project.name}.png` });
    await dev.getByLabel('Development: during a critical run').selectOption('warn');
    await submit(alice, dev.getByRole('button', { name: 'Save' }));
    await expect(dev).toContainText('During a critical run: warned');
  }
  await aliceContext.close();
  await daveContext.close();
});
