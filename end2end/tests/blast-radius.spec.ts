import { test, expect } from '@playwright/test';
import { signIn } from './fixtures';

test('a device page says what its failure cuts off: the partner it alone reaches, and the sessions lost, each with why', async ({ page }, testInfo) => {
  // fra1-border-1 carries Deutsche Bank's only circuit in the demo network
  await signIn(page, testInfo, 'dave', '/topology/devices/fra1-border-1');
  const card = page.getByTestId('blast-radius');
  await expect(card.getByRole('heading', { name: 'If this fails' })).toBeVisible();
  const partners = card.getByTestId('blast-partners');
  await expect(partners.getByRole('listitem').filter({ hasText: 'Deutsche Bank' })).toContainText('cut off');
  await expect(partners.getByRole('listitem').filter({ hasText: 'Deutsche Bank' })).toContainText('every path from the data centers to it goes through fra1-border-1');
  await expect(card.getByTestId('blast-sessions')).toContainText('on fra1-border-1, which fails');
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: `screenshots/blast-radius-device-${testInfo.project.name}.png` });
  // a device whose loss the network absorbs says so
  await page.goto('/topology/devices/fra1-leaf-1');
  await expect(page.getByTestId('blast-nothing')).toBeVisible();
});
