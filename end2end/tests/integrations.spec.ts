import { test, expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import { hasJs, hydrated, open, signIn, submit, token } from './fixtures';


/** Posts one OpenLineage RunEvent as a job's poller would. */
async function lineage(request: APIRequestContext, secret: string, job: string, runId: string, eventType: string, minutesAgo: number, facets: object = {}) {
  const r = await request.post('/api/v1/lineage', {
    headers: { authorization: `Bearer ${secret}` },
    data: {
      eventType,
      eventTime: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
      run: { runId, facets },
      job: { namespace: 'switchyard', name: job },
      producer: 'https://github.com/switchyard/end2end',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    },
  });
  expect(r.status(), await r.text()).toBe(201);
}

/** Registers a system on the systems page. */
async function registerSystem(page: Page, testInfo: TestInfo, name: string, title: string, kind: string) {
  await open(page, testInfo, '/integrations/systems');
  const form = page.getByTestId('system-form');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Title', { exact: true }).fill(title);
  await form.getByLabel('Kind', { exact: true }).selectOption(kind);
  await form.getByLabel('Owning team', { exact: true }).fill('ledger');
  await submit(page, form.getByRole('button', { name: 'Register system' }));
  await expect(page).toHaveURL(new RegExp(`/integrations/systems/${name}$`));
}

function uuid(): string {
  return crypto.randomUUID();
}

test('an engineer registers a confidential integration, a lead approves it, and its runs and health show', async ({ browser, request }, testInfo) => {
  test.setTimeout(150_000);
  const js = hasJs(testInfo);
  const p = testInfo.project.name;
  const [sfdc, netsuite, name] = [`salesforce-${p}`, `netsuite-${p}`, `sfdc-opportunities-to-netsuite-${p}`];

  const carolContext = await browser.newContext({ javaScriptEnabled: js });
  const carol = await carolContext.newPage();
  await signIn(carol, testInfo, 'carol', '/integrations');
  await registerSystem(carol, testInfo, sfdc, 'Salesforce', 'crm');
  await registerSystem(carol, testInfo, netsuite, 'NetSuite', 'erp');

  // a wrong schedule is named before anything is written, and what was typed stays
  await open(carol, testInfo, '/integrations/new');
  await carol.getByLabel('Name (required)').fill(name);
  await carol.getByLabel('Title (required)').fill('Opportunities to sales orders');
  await carol.getByLabel('Source systems (required)').fill(sfdc);
  await carol.getByLabel('Target systems (required)').fill(netsuite);
  await carol.getByLabel('Platform (required)').selectOption('mulesoft');
  await carol.getByLabel('Trigger (required)').selectOption('schedule');
  await carol.getByLabel('Schedule (cron)').fill('every morning');
  await carol.getByLabel('Data format (required)').selectOption('json');
  await carol.getByLabel('Transport (required)').selectOption('https');
  await carol.getByLabel('Auth (required)').selectOption('oauth2-client-credentials');
  await carol.getByLabel('Owning team (required)').fill('ledger');
  await carol.getByLabel('Data classification').selectOption('confidential');
  await carol.getByLabel('Why (for the approver)').fill('Closed-won deals must become sales orders the same day');
  await submit(carol, carol.getByRole('button', { name: 'Register integration' }));
  await expect(carol.getByTestId('error-schedule')).toContainText('"every morning" has 2 fields');
  await expect(carol.getByLabel('Name (required)')).toHaveValue(name);
  await carol.getByLabel('Schedule (cron)').fill('0 6 * * *');
  await submit(carol, carol.getByRole('button', { name: 'Register integration' }));
  await expect(carol).toHaveURL(new RegExp(`/integrations/${name}\\?registered=1$`));
  await hydrated(carol, testInfo);
  await expect(carol.getByTestId('registered')).toContainText('waits for approval');

  // erin leads ledger: she approves
  const erinContext = await browser.newContext({ javaScriptEnabled: js });
  const erin = await erinContext.newPage();
  await signIn(erin, testInfo, 'erin', '/approvals');
  const card = erin.getByTestId('approval').filter({ hasText: name });
  await card.getByLabel('Comment (required)').fill('the data map is right; confidential is correct');
  await submit(erin, card.getByRole('button', { name: 'Approve' }));
  await expect(card).toHaveCount(0);
  await erinContext.close();

  await open(carol, testInfo, `/integrations/${name}`);
  await expect(carol.getByTestId('health')).toHaveAttribute('data-health', 'unknown');
  await expect(carol.getByTestId('no-runs')).toBeVisible();

  // the poller's token posts a run: with JavaScript it appears without a reload
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice', '/');
  const secret = await token(alice, `poller-${p}`, ['ingest'], 'ledger');
  await aliceContext.close();
  const ok = uuid();
  await lineage(request, secret, name, ok, 'START', 3);
  await lineage(request, secret, name, ok, 'COMPLETE', 2, { switchyard_run: { recordsIn: 40, recordsOut: 40 } });
  if (!js) await carol.reload();
  await expect(carol.locator(`tr[data-run="${ok}"]`)).toContainText('Succeeded', { timeout: 15_000 });

  const failed = uuid();
  await lineage(request, secret, name, failed, 'START', 1);
  await lineage(request, secret, name, failed, 'FAIL', 0, {
    errorMessage: { message: 'NetSuite answered 401: the integration token expired', programmingLanguage: 'java' },
    switchyard_run: { errorClass: 'auth' },
  });
  if (!js) await carol.reload();
  await expect(carol.locator(`tr[data-run="${failed}"]`)).toContainText('the integration token expired', { timeout: 15_000 });
  await open(carol, testInfo, `/integrations/${name}`);
  await expect(carol.getByTestId('health')).toHaveAttribute('data-health', 'failing');
  await expect(carol.getByTestId('health-reason')).toContainText('token expired');
  await carol.screenshot({ path: `screenshots/integration-failing-${p}.png`, fullPage: true });

  await carol.locator(`tr[data-run="${failed}"]`).getByRole('link').click();
  await expect(carol).toHaveURL(new RegExp(`/integrations/runs/${failed}$`));
  await expect(carol.getByTestId('run-error')).toContainText('the integration token expired');
  await expect(carol.getByTestId('events')).toContainText('FAIL');
  await carolContext.close();
});

test('a schedule slot that passes without a run turns the integration late', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const p = testInfo.project.name;
  const [source, target, name] = [`workday-${p}`, `okta-${p}`, `workday-to-okta-${p}`];
  await signIn(page, testInfo, 'carol', '/integrations');
  await registerSystem(page, testInfo, source, 'Workday', 'hris');
  await registerSystem(page, testInfo, target, 'Okta', 'identity-provider');
  await open(page, testInfo, '/integrations/new');
  await page.getByLabel('Name (required)').fill(name);
  await page.getByLabel('Title (required)').fill('Workers to the identity provider');
  await page.getByLabel('Source systems (required)').fill(source);
  await page.getByLabel('Target systems (required)').fill(target);
  await page.getByLabel('Platform (required)').selectOption('workato');
  await page.getByLabel('Trigger (required)').selectOption('schedule');
  await page.getByLabel('Schedule (cron)').fill('* * * * *');
  await page.getByLabel('Data format (required)').selectOption('json');
  await page.getByLabel('Transport (required)').selectOption('https');
  await page.getByLabel('Auth (required)').selectOption('oauth2-client-credentials');
  await page.getByLabel('Owning team (required)').fill('ledger');
  await page.getByLabel('Grace (minutes)').fill('0');
  await page.getByLabel('Maximum duration (minutes)').fill('5');
  await submit(page, page.getByRole('button', { name: 'Register integration' }));
  await expect(page).toHaveURL(new RegExp(`/integrations/${name}\\?registered=1$`));
  // the next minute's slot passes with no run: the periodic check (every second here) finds it
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('health')).toHaveAttribute('data-health', 'late', { timeout: 1_000 });
  }).toPass({ timeout: 100_000, intervals: [2_000] });
  await expect(page.getByTestId('health-reason')).toContainText('is late');
  await expect(page.getByTestId('late-slots')).toContainText('Late');
  await open(page, testInfo, '/integrations?health=late');
  await expect(page.getByTestId('integrations')).toContainText('Workers to the identity provider');
  await page.screenshot({ path: `screenshots/integrations-late-${p}.png`, fullPage: true });
});

test('a system says which partner carries it, the partner lists it, and the system as it was before shows what changed', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  const p = testInfo.project.name;
  const [name, title] = [`bank-gateway-${p}`, `Bank gateway ${p}`];
  const carolContext = await browser.newContext({ javaScriptEnabled: js });
  const carol = await carolContext.newPage();
  await signIn(carol, testInfo, 'carol', '/integrations/systems');
  await registerSystem(carol, testInfo, name, title, 'bank');
  await hydrated(carol, testInfo);

  // a partner that is not there is named under its field, and what was typed stays
  await carol.getByTestId('system-edit').locator('summary').click();
  // the partner fields offer the partners' names
  await expect(carol.locator('#partner-names option[value="Deutsche Bank"]')).toHaveCount(1);
  const through = () => carol.getByTestId('system-edit').getByLabel('Reached through (partner)');
  await through().fill('Nowhere Bank');
  await submit(carol, carol.getByTestId('system-edit').getByRole('button', { name: 'Save' }));
  await expect(carol.getByTestId('system-edit').getByText('no partner named "Nowhere Bank" in the topology')).toBeVisible();
  await expect(through()).toHaveValue('Nowhere Bank');
  await through().fill('AWS');
  await submit(carol, carol.getByTestId('system-edit').getByRole('button', { name: 'Save' }));
  await expect(carol.getByTestId('saved')).toBeVisible();
  await expect(carol.getByTestId('system-reached-via').getByRole('link', { name: 'AWS' })).toHaveAttribute('href', '/topology/partners/AWS');

  // its history links to it as it was when registered: reached through nothing then, AWS now
  await carol.getByTestId('history').locator('tr', { has: carol.locator('[data-action="integration_system.created"]') }).getByTestId('as-of-link').click();
  await expect(carol).toHaveURL(/as_of=/);
  const row = carol.getByTestId('as-of').locator('tr[data-field="reached_via"]');
  await expect(row).toHaveAttribute('data-changed', 'true');
  await expect(row).toContainText('AWS');
  await expect(carol.getByTestId('as-of-summary')).toContainText('Since then: 1 change; 1 field differs from now.');
  await carol.getByTestId('as-of').scrollIntoViewIfNeeded();
  await carol.screenshot({ path: `screenshots/system-as-of-${p}.png`, fullPage: true });

  // the partner's page lists it, reached through it
  await open(carol, testInfo, '/topology/partners/AWS');
  const systems = carol.getByTestId('partner-systems');
  await expect(systems.getByRole('link', { name: title })).toHaveAttribute('href', `/integrations/systems/${name}`);
  await expect(systems.locator('li', { hasText: title })).toContainText('reached through it');
  // and the integrations with the systems behind it, with their health, and the changes to all of it
  await expect(carol.getByTestId('partner-integrations')).toContainText('Accounts to customers');
  await expect(carol.getByTestId('partner-history').locator('[data-action="integration_system.updated"]').first()).toBeVisible();
  await carol.screenshot({ path: `screenshots/partner-systems-${p}.png`, fullPage: true });
  await carolContext.close();
});
