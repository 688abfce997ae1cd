import { test, expect } from '@playwright/test';
import { hasJs, open, signIn, submit } from './fixtures';

const local = (d: Date) => d.toISOString().slice(0, 16);
const inHours = (h: number) => local(new Date(Date.now() + h * 3_600_000));

test('the network team plans maintenance on a device, a bad form keeps what was typed, and the window is on the freeze calendar', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  // each project its own device, so the two never see each other's windows
  const device = js ? 'iad1-core-1' : 'iad1-core-2';
  const title = `Line card swap ${testInfo.project.name} ${Date.now() % 100000}`;
  const ninaContext = await browser.newContext({ javaScriptEnabled: js });
  const nina = await ninaContext.newPage();
  await signIn(nina, testInfo, 'nina', `/topology/devices/${device}`);
  const form = nina.getByTestId('maintenance-form');
  await form.getByLabel('What (required)').fill(title);
  await form.getByLabel('Reference').fill('CHG-E2E');
  await form.getByLabel('Starts (UTC) (required)').fill(inHours(50));
  await form.getByLabel('Ends (UTC) (required)').fill(inHours(49));
  await submit(nina, form.getByRole('button', { name: 'Plan window' }));
  // refused: the problem under its field, and what was typed is still there
  await expect(nina.getByTestId('maintenance-form').getByText('the window ends after it starts')).toBeVisible();
  await expect(nina.getByTestId('maintenance-form').getByLabel('What (required)')).toHaveValue(title);
  await expect(nina.getByTestId('maintenance-form').getByLabel('Reference')).toHaveValue('CHG-E2E');
  await nina.getByTestId('maintenance-form').getByLabel('Ends (UTC) (required)').fill(inHours(53));
  await submit(nina, nina.getByTestId('maintenance-form').getByRole('button', { name: 'Plan window' }));
  await expect(nina.getByTestId('change-outcome')).toContainText('The window is planned');
  await expect(nina.getByTestId('maintenance-list')).toContainText(title);
  await nina.getByTestId('maintenance-list').scrollIntoViewIfNeeded();
  await nina.screenshot({ path: `screenshots/maintenance-device-${testInfo.project.name}.png`, fullPage: true });

  // everyone sees it on the freeze calendar, amber, linked to the device
  const daveContext = await browser.newContext({ javaScriptEnabled: js });
  const dave = await daveContext.newPage();
  await signIn(dave, testInfo, 'dave', '/deploys/freezes');
  const entry = dave.getByTestId('calendar-maintenance').filter({ hasText: title }).first();
  await expect(entry).toBeVisible();
  await expect(entry).toHaveAttribute('href', `/topology/devices/${device}`);
  // the demo's carrier notice on Barclays' circuit is there too
  await expect(dave.getByTestId('calendar-maintenance').filter({ hasText: 'Fibre repair between Slough' }).first()).toBeVisible();
  await dave.screenshot({ path: `screenshots/maintenance-calendar-${testInfo.project.name}.png`, fullPage: true });
  // a viewer reads the windows but is offered no form
  await open(dave, testInfo, `/topology/devices/${device}`);
  await expect(dave.getByTestId('maintenance-list')).toContainText(title);
  await expect(dave.getByTestId('maintenance-form')).toHaveCount(0);
  await expect(dave.getByTestId('device-edit')).toHaveCount(0);

  // cancelled again (with JavaScript the page asks first), so nothing is left behind
  nina.once('dialog', (d) => void d.accept());
  await submit(nina, nina.getByTestId('maintenance-list').locator('li', { hasText: title }).getByRole('button', { name: 'Cancel window' }));
  await expect(nina.getByTestId('change-outcome')).toContainText('The window is cancelled');
  await expect(nina.getByTestId('maintenance-list')).toHaveCount(0);
  await ninaContext.close();
  await daveContext.close();
});

test('an edit of a device in PCI scope asks why, then waits for approval; a partner page lists the systems it hosts', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  const device = js ? 'iad1-hsm-1' : 'iad1-hsm-2';
  const ninaContext = await browser.newContext({ javaScriptEnabled: js });
  const nina = await ninaContext.newPage();
  await signIn(nina, testInfo, 'nina', `/topology/devices/${device}`);
  const edit = nina.getByTestId('device-edit');
  await edit.getByLabel('Status').selectOption('offline');
  await submit(nina, edit.getByRole('button', { name: 'Save' }));
  await expect(nina.getByTestId('device-edit').getByText('needs approval: say why')).toBeVisible();
  await expect(nina.getByTestId('device-edit').getByLabel('Status')).toHaveValue('offline');
  const reason = `HSM firmware ${testInfo.project.name} ${Date.now() % 100000}`;
  await nina.getByTestId('device-edit').getByLabel('Why').fill(reason);
  await submit(nina, nina.getByTestId('device-edit').getByRole('button', { name: 'Save' }));
  await expect(nina.getByTestId('change-outcome')).toContainText('in PCI scope: the edit waits for approval');
  await nina.screenshot({ path: `screenshots/device-edit-approval-${testInfo.project.name}.png`, fullPage: true });

  // the admins' inbox holds it, with what changes
  const aliceContext = await browser.newContext({ javaScriptEnabled: js });
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice', '/approvals?inbox=all');
  await expect(alice.getByText(`Edit ${device} (PCI scope): status active → offline`)).toBeVisible();

  // the partner page: the integration systems it hosts, linked
  await open(nina, testInfo, '/topology/partners/Barclays');
  await expect(nina.getByTestId('partner-systems').getByRole('link', { name: 'Barclays SFTP' })).toHaveAttribute('href', '/integrations/systems/bank-sftp-barclays');
  // the carrier's fibre repair on one of its two circuits, in the coming days, leaves it one path
  await expect(nina.getByTestId('partner-maintenance').locator('li', { hasText: 'Fibre repair between Slough and the City' })).toContainText('leaves it one path');
  await expect(nina.getByTestId('partner-integrations')).toContainText('Bank statements (camt.053) into the ledger');
  // and whom to call there, as NetBox's contacts of its tenant say
  await expect(nina.getByTestId('partner-contacts')).toContainText('Barclays NOC');
  await expect(nina.getByTestId('partner-contacts').getByRole('link', { name: 'noc@barclays.example' })).toHaveAttribute('href', 'mailto:noc@barclays.example');
  await nina.screenshot({ path: `screenshots/partner-${testInfo.project.name}.png`, fullPage: true });
  await ninaContext.close();
  await aliceContext.close();
});

test('an admin finds the NetBox panel on the topology page (here no NetBox is configured, and it says so); others do not', async ({ browser }, testInfo) => {
  const js = hasJs(testInfo);
  const aliceContext = await browser.newContext({ javaScriptEnabled: js });
  const alice = await aliceContext.newPage();
  await signIn(alice, testInfo, 'alice', '/topology');
  const panel = alice.getByTestId('netbox-panel');
  await expect(panel).toBeVisible();
  await expect(alice.getByTestId('netbox-unconfigured')).toContainText('no NetBox is configured: set topology.netbox.url');
  await expect(panel.getByRole('button', { name: 'Sync now' })).toBeDisabled();
  await expect(panel.getByRole('button', { name: 'Dry run' })).toBeDisabled();
  // a sync reads only what changed unless asked to read everything
  await expect(panel.getByLabel('Read everything')).not.toBeChecked();
  const daveContext = await browser.newContext({ javaScriptEnabled: js });
  const dave = await daveContext.newPage();
  await signIn(dave, testInfo, 'dave', '/topology');
  await expect(dave.getByTestId('topology-overview')).toBeVisible();
  await expect(dave.getByTestId('netbox-panel')).toHaveCount(0);
  await aliceContext.close();
  await daveContext.close();
});
