import { test, expect } from '@playwright/test';
import { hydrated, signIn, submit } from './fixtures';

test('an employee asks for admin rights, cannot decide it, and an admin rejects it from the inbox with a comment', async ({ browser }, testInfo) => {
  const js = testInfo.project.use.javaScriptEnabled !== false;
  // one requester per project, so the two projects never race on one person's request;
  // rejected, so nobody's rights change for the other tests (granting is covered in Rust)
  const requester = js ? 'dave' : 'carol';
  const dave = await browser.newContext({ javaScriptEnabled: js });
  const davePage = await dave.newPage();
  await signIn(davePage, testInfo, requester, '/me');
  const reason = `rota ${testInfo.project.name} ${Date.now()}`;
  await davePage.getByLabel('Why do you need them? (required)').fill(reason);
  await submit(davePage, davePage.getByRole('button', { name: 'Ask an admin' }));

  // the requester's inbox has nothing to decide; the request shows under "Asked by me"
  await davePage.goto('/approvals');
  await hydrated(davePage, testInfo);
  await expect(davePage.getByText('No request waits for your decision.')).toBeVisible();
  await davePage.goto('/approvals?inbox=asked_by_me');
  const mine = davePage.getByTestId('approval').filter({ hasText: reason });
  await expect(mine).toBeVisible();
  await expect(mine.getByRole('button', { name: 'Approve' })).toHaveCount(0);

  const alice = await browser.newContext({ javaScriptEnabled: js });
  const alicePage = await alice.newPage();
  await signIn(alicePage, testInfo, 'alice', '/approvals');
  const card = alicePage.getByTestId('approval').filter({ hasText: reason });
  await expect(card.getByTestId('progress')).toHaveText('0 of 1 approval');
  await card.getByLabel('Comment (required)').fill('viewers do not need admin rights');
  await submit(alicePage, card.getByRole('button', { name: 'Reject' }));
  // decided, it leaves the pending inbox
  await expect(card).toHaveCount(0);
  await alicePage.goto('/approvals?inbox=all&state=rejected');
  await hydrated(alicePage, testInfo);
  const done = alicePage.getByTestId('approval').filter({ hasText: reason });
  await expect(done).toContainText('rejected');
  await done.getByRole('link').click();
  await expect(alicePage.getByTestId('decisions')).toContainText('viewers do not need admin rights');
  await expect(alicePage.getByTestId('progress')).toHaveText('0 of 1 approval');
  await alicePage.screenshot({ path: `screenshots/approval-${testInfo.project.name}.png`, fullPage: true });

  await davePage.goto('/me');
  await expect(davePage.getByTestId('roles')).not.toContainText('admin');
  await dave.close();
  await alice.close();
});
