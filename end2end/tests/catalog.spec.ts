import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { hasJs, hydrated, open, signIn, submit } from './fixtures';

/** Fills the registration form (selects by their labels). */
async function fillService(page: Page, name: string, owner: string) {
  await page.getByLabel('Name (required)').fill(name);
  await page.getByLabel('Title (required)').fill(`Vault ${name}`);
  await page.getByLabel('Description').first().fill('Keeps card numbers out of every other system');
  await page.getByLabel('Type (required)').selectOption('service');
  await page.getByLabel('Owning team (required)').selectOption(owner);
  await page.getByLabel('Lifecycle (required)').selectOption('production');
  await page.getByLabel('Tier (required)').selectOption('2');
  await page.getByLabel('Data classification (required)').selectOption('pci');
  await page.getByLabel('Depends on').fill('tokenization');
}

/** An admin approves the request about `title` from the inbox. */
async function approveFromInbox(page: Page, testInfo: TestInfo, title: string) {
  await open(page, testInfo, '/approvals');
  const card = page.getByTestId('approval').filter({ hasText: title });
  await expect(card.getByTestId('progress')).toHaveText('0 of 1 approval');
  await card.getByLabel('Comment (required)').fill('owner and tier are right');
  await submit(page, card.getByRole('button', { name: 'Approve' }));
  await expect(card).toHaveCount(0);
}

test('an engineer registers a service, an admin approves it, and it is found and shown on the team page', async ({ browser }, testInfo) => {
  test.setTimeout(90_000); // a whole journey across two people and six pages
  const js = hasJs(testInfo);
  // one engineer per project: bob (payments) with JavaScript, carol (ledger) without
  const [engineer, team] = js ? ['bob', 'payments'] : ['carol', 'ledger'];
  const name = `vault-${testInfo.project.name}-${Date.now() % 100000}`;
  const context = await browser.newContext({ javaScriptEnabled: js });
  const page = await context.newPage();
  await signIn(page, testInfo, engineer, '/catalog/new');
  await expect(page.getByRole('heading', { name: 'Register a service' })).toBeVisible();

  // a bad name is refused with the reason next to the field, and nothing typed is lost
  await fillService(page, 'Vault_1', team);
  if (js) {
    await expect(page.getByTestId('error-name')).toContainText('Vault_1'); // live, before sending
  }
  await submit(page, page.getByRole('button', { name: 'Register service' }));
  await expect(page.getByTestId('error-name')).toContainText('Vault_1');
  await expect(page.getByLabel('Title (required)')).toHaveValue('Vault Vault_1');
  await expect(page.getByLabel('Depends on')).toHaveValue('tokenization');
  await expect(page.getByLabel('Owning team (required)')).toHaveValue(team);

  await page.getByLabel('Name (required)').fill(name);
  await page.getByLabel('Title (required)').fill(`Vault ${name}`);
  await submit(page, page.getByRole('button', { name: 'Register service' }));
  await expect(page).toHaveURL(new RegExp(`/catalog/component/default/${name}`));
  await expect(page.getByTestId('entity-badges')).toContainText('pending approval');
  await expect(page.getByTestId('pending-requests')).toContainText(`Register Vault ${name}`);
  await page.screenshot({ path: `screenshots/catalog-registered-${testInfo.project.name}.png`, fullPage: true });

  const admin = await browser.newContext({ javaScriptEnabled: js });
  const alice = await admin.newPage();
  await signIn(alice, testInfo, 'alice', '/approvals');
  await approveFromInbox(alice, testInfo, `Vault ${name}`);

  // found by search: results as you type with JavaScript, the catalog page without
  await open(page, testInfo, '/');
  if (js) {
    await page.keyboard.press('/');
    await page.keyboard.type(name);
    const results = page.getByTestId('search-results');
    await expect(results.getByRole('link', { name: new RegExp(name) })).toBeVisible();
    await results.getByRole('link', { name: new RegExp(name) }).click();
  } else {
    await open(page, testInfo, `/catalog?q=${name}`);
    await page.getByTestId('service-table').getByRole('link', { name: `Vault ${name}` }).click();
  }
  await expect(page.getByRole('heading', { level: 1, name: `Vault ${name}` })).toBeVisible();
  // the suggestions close once one is chosen
  await expect(page.getByTestId('search-results')).toHaveCount(0);
  await expect(page.getByTestId('entity-badges')).not.toContainText('pending approval');
  await expect(page.getByTestId('relations')).toContainText('Tokenization Vault');

  await open(page, testInfo, `/teams/${team}`);
  await expect(page.getByTestId('owned')).toContainText(`Vault ${name}`);
  await page.screenshot({ path: `screenshots/catalog-team-${testInfo.project.name}.png`, fullPage: true });

  // an edit applies at once and shows in the history
  await open(page, testInfo, `/catalog/component/default/${name}`);
  await page.getByRole('link', { name: 'Edit' }).click();
  await hydrated(page, testInfo);
  await page.getByLabel('Description').first().fill('Tokenises card numbers for every other system');
  await submit(page, page.getByRole('button', { name: 'Save changes' }));
  await expect(page.getByTestId('description')).toHaveText('Tokenises card numbers for every other system');
  await expect(page.getByTestId('history').locator('[data-action="entity.updated"]')).toBeVisible();
  // the history reads as changes: who, field by field before → after, how long ago
  const updated = page.getByTestId('history').locator('tr', { has: page.locator('[data-action="entity.updated"]') });
  await expect(updated.locator('[data-action]')).toHaveText('Updated');
  await expect(updated.getByTestId('actor')).toHaveText(engineer);
  const change = updated.locator('[data-testid="change"][data-field="description"]');
  await expect(change.locator('ins')).toHaveText('Tokenises card numbers for every other system');
  await expect(change.locator('del')).not.toBeEmpty();
  await expect(updated.locator('time')).toHaveText(/^(just now|\d+ minutes? ago)$/);
  await page.screenshot({ path: `screenshots/catalog-entity-${testInfo.project.name}.png`, fullPage: true });
  // the history links to the service as it was before the edit, beside how it is now
  const registered = page.getByTestId('history').locator('tr', { has: page.locator('[data-action="entity.registration_requested"]') });
  await registered.getByTestId('as-of-link').click();
  await expect(page).toHaveURL(/as_of=/);
  const description = page.getByTestId('as-of').locator('tr[data-field="description"]');
  await expect(description).toHaveAttribute('data-changed', 'true');
  await expect(description).toContainText('Tokenises card numbers for every other system');
  await expect(page.getByTestId('as-of').locator('tr[data-field="title"]')).toHaveAttribute('data-changed', 'false');
  await page.getByTestId('as-of').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `screenshots/catalog-entity-as-of-${testInfo.project.name}.png`, fullPage: true });
  await admin.close();
  await context.close();
});

test('the catalog filters by facet and the URL keeps the view', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'dave', '/catalog');
  await page.getByTestId('facets').getByRole('link', { name: /^Api/ }).click();
  await expect(page).toHaveURL(/kind=api/);
  await expect(page.getByTestId('result-count')).toHaveText('6 entities found');
  await page.getByTestId('service-table').getByRole('link', { name: 'Ledger API' }).click();
  await expect(page.getByTestId('api-definition')).toContainText('openapi: 3.0.3');
  await expect(page.getByTestId('graph')).toBeVisible();
  await page.screenshot({ path: `screenshots/catalog-api-${testInfo.project.name}.png`, fullPage: true });
});

test('facets and filters read as people say them: team names, tiers, classifications; each filter in force is a chip that removes it; a new order applies at once', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'dave', '/catalog?kind=component');
  const facets = page.getByTestId('facets');
  await expect(facets.getByRole('heading', { name: 'Data classification' })).toBeVisible();
  await expect(facets.getByRole('link', { name: /^Tier 0/ })).toBeVisible();
  await expect(facets.getByRole('link', { name: /^PCI \(card data\)/ })).toBeVisible();
  await expect(facets.getByRole('link', { name: /^Merchant Experience/ })).toBeVisible();
  await facets.getByRole('link', { name: /^Payments\b/ }).click();
  await expect(page).toHaveURL(/owner=payments/);
  const chips = page.getByTestId('active-filters');
  await expect(chips.locator('li[data-filter="owner"]')).toHaveText(/Owner: Payments/);
  await expect(chips.locator('li[data-filter="kind"]')).toHaveText(/Kind: Component/);
  await page.screenshot({ path: `screenshots/catalog-chips-${testInfo.project.name}.png`, fullPage: true });
  if (hasJs(testInfo)) {
    // the order applies as it is chosen, keeping the filters
    await page.locator('#catalog-sort').selectOption('updated');
    await expect(page).toHaveURL(/sort=updated/);
    await expect(page).toHaveURL(/owner=payments/);
  }
  await chips.getByRole('link', { name: 'Remove the filter Owner: Payments' }).click();
  await expect(page).not.toHaveURL(/owner=/);
  await expect(page).toHaveURL(/kind=component/);
  await expect(page.getByTestId('active-filters').locator('li[data-filter="owner"]')).toHaveCount(0);
});

test('a scorecard rule that does not apply to a service says so, and counts neither way', async ({ page }, testInfo) => {
  // Device Fingerprint is experimental and tier 2: the production and tier 0–1 rules are not its
  await signIn(page, testInfo, 'dave', '/catalog/component/default/device-fingerprint');
  const card = page.getByTestId('scorecard');
  const people = card.getByRole('listitem').filter({ hasText: 'Production services have at least two people' });
  await expect(people).toHaveAttribute('data-applies', 'false');
  await expect(people).toContainText('does not apply: not in production');
  await expect(card.getByRole('listitem').filter({ hasText: 'Tier 0–1 services have a dashboard' })).toContainText('does not apply: not tier 0 or 1');
  await expect(card.getByRole('listitem').filter({ hasText: 'Has a description' })).toHaveAttribute('data-applies', 'true');
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: `screenshots/scorecard-not-applicable-${testInfo.project.name}.png` });
});

test('pasted descriptors are checked in a dry run, then every entity not refused is imported', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'alice', '/catalog/import');
  const name = `imported-${testInfo.project.name}-${Date.now() % 100000}`;
  const yaml = `apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: ${name}\nspec:\n  owner: ledger\n---\n`
    + `apiVersion: backstage.io/v1alpha1\nkind: Gadget\nmetadata:\n  name: nope\n---\n`
    + `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad name\nspec: {type: service, lifecycle: production, owner: ledger}\n`;
  await page.getByLabel('Descriptor YAML').fill(yaml);
  await page.getByLabel('Only report what would change (dry run)').check();
  await submit(page, page.getByRole('button', { name: 'Import' }));
  await expect(page.getByTestId('import-headline')).toHaveText('Dry run: nothing was written. 1 would be created, 0 updated. 1 document(s) refused and left out.');
  await expect(page.getByTestId('import-report')).toContainText('kind Gadget is not one Switchyard keeps');
  await expect(page.getByTestId('import-report')).toContainText('the name "bad name" contains " "');
  await expect(page.getByLabel('Descriptor YAML')).toHaveValue(yaml);

  await page.getByLabel('Only report what would change (dry run)').uncheck();
  await submit(page, page.getByRole('button', { name: 'Import' }));
  await expect(page.getByTestId('import-headline')).toHaveText('Imported: 1 created, 0 updated. 1 document(s) refused and left out.');
  await expect(page.getByTestId('import-report')).toContainText(`domain:default/${name}`);
  await page.screenshot({ path: `screenshots/catalog-import-${testInfo.project.name}.png`, fullPage: true });
  await open(page, testInfo, `/catalog/domain/default/${name}`);
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
});

test('a reference to what is not in the catalog is kept, shown, and listed for admins', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'alice', '/catalog/import');
  const name = `early-${testInfo.project.name}-${Date.now() % 100000}`;
  const yaml = `apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: ${name}\nspec:\n  type: product\n  owner: ledger\n  domain: later-${name}\n`;
  await page.getByLabel('Descriptor YAML').fill(yaml);
  await submit(page, page.getByRole('button', { name: 'Import' }));
  await expect(page.getByTestId('import-headline')).toHaveText('Imported: 1 created, 0 updated.');
  await expect(page.getByTestId('import-report')).toContainText(`part_of domain:default/later-${name} is not in the catalog: kept`);
  await open(page, testInfo, `/catalog/system/default/${name}`);
  await expect(page.getByTestId('relations').getByTestId('not-in-catalog')).toBeVisible();
  await page.screenshot({ path: `screenshots/catalog-unresolved-entity-${testInfo.project.name}.png`, fullPage: true });
  await open(page, testInfo, '/admin/catalog-references');
  await expect(page.getByTestId('unresolved')).toContainText(`domain:default/later-${name}`);
  await page.screenshot({ path: `screenshots/catalog-references-${testInfo.project.name}.png`, fullPage: true });
});
