import { expect, test } from '@playwright/test';
import { hydrated, signIn, wcagViolations } from './helpers';

// Connecting a team's AWS account in three steps: the stack, deployed in the account (here: in
// moto, by the AWS emulator acting as the account's admin) from the template the portal hands
// out; the role it makes; the connection test. Account 555555555555 is this spec's alone.
const EMULATOR = process.env.EMULATOR_URL ?? '';

test('grace connects a new team account in three steps, and a rotated external id is refused', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, 'grace');
  await page.goto('/admin/teams');
  await hydrated(page);
  const form = page.getByTestId('create-team');
  await form.getByLabel('Slug', { exact: true }).fill('oceanography');
  await form.getByLabel('Display name', { exact: true }).fill('Oceanography');
  await form.getByLabel('AWS account id', { exact: true }).fill('555555555555');
  await form.getByLabel('Role the portal assumes', { exact: true }).fill('arn:aws:iam::555555555555:role/AtriumPortalAccess');
  await form.getByRole('button', { name: 'Create team' }).click();
  await expect(page.getByTestId('teams-notice')).toContainText('Team "oceanography" created');
  const row = page.locator('[data-testid="admin-team"][data-team="oceanography"]');

  // 1. The stack: the template, with the team's values, deployed as downloaded.
  await row.locator('summary', { hasText: 'Connect an AWS account' }).click();
  await row.getByRole('button', { name: 'Show how to connect the AWS account of Oceanography' }).click();
  const steps = row.getByTestId('account-steps');
  await expect(steps).toContainText('atrium-team-oceanography');
  expect(await wcagViolations(page)).toEqual([]);
  const download = await row.getByTestId('template-download').getAttribute('href');
  const template = await (await page.request.get(download ?? '')).text();
  const deployed = await page.request.post(`${EMULATOR}/_emulator/accounts/555555555555/stacks`, {
    data: { name: 'atrium-team-oceanography', template },
  });
  expect(deployed.status(), await deployed.text()).toBe(200);
  const stack = await deployed.json();
  expect(stack.status).toBe('CREATE_COMPLETE');

  // 2. The role the stack outputs is the one the team names.
  await expect(steps).toContainText(stack.outputs.RoleArn);

  // 3. Every capability passes, and the stack is the version the portal needs.
  await row.getByRole('button', { name: 'Test connection of Oceanography' }).click();
  const check = row.getByTestId('connection-check');
  await expect(check).toHaveAttribute('data-ok', 'true');
  await expect(check).toContainText('Session Manager');
  await expect(check).toContainText('Up to date (version 4).');

  // A configuration for Oceanography's researchers, and ada on the team: she launches a
  // workstation in the new account.
  await page.goto('/admin/catalog');
  await hydrated(page);
  const configuration = page.getByTestId('configuration-form').filter({ hasText: 'Linux workstation (EC2) v1' });
  await configuration.locator('summary').click();
  await configuration.getByLabel('Name').fill('Ocean workstation');
  await configuration.getByLabel('Estimated cost per hour ($)').fill('0.05');
  await configuration.locator('input[name="allowed_roles[researcher]"]').check();
  await configuration.locator('input[name="allowed_teams[oceanography]"]').check();
  await configuration.getByRole('button', { name: 'Save configuration' }).click();
  await expect(page.getByTestId('configuration').filter({ hasText: 'Ocean workstation' })).toBeVisible();
  await page.goto('/admin/people');
  await hydrated(page);
  const adaRow = page.locator('[data-testid="person"][data-username="ada"]');
  await adaRow.getByText("Edit ada's access").click();
  await adaRow.getByLabel('Oceanography member', { exact: true }).check();
  await adaRow.getByRole('button', { name: 'Save ada' }).click();
  await expect(adaRow.getByTestId('person-teams')).toContainText('oceanography');

  const ada = await (await page.context().browser()!.newContext()).newPage();
  await signIn(ada, 'ada');
  await ada.goto('/teams/oceanography/catalog');
  await hydrated(ada);
  const item = ada.getByTestId('catalog-item').filter({ hasText: 'Ocean workstation' });
  await item.getByLabel('Workspace name').fill('ada-ocean');
  await item.getByRole('button', { name: 'Launch' }).click();
  await expect(ada).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);
  await expect(ada.getByTestId('workspace-state')).toHaveText('available', { timeout: 30_000 });
  await expect(ada.getByTestId('workspace-outputs')).toContainText('InstanceId');

  // A new external id: the stack still trusts the old one, so the portal is refused, in words.
  await page.goto('/admin/teams');
  await hydrated(page);
  await row.locator('summary', { hasText: 'Rotate…' }).click();
  await row.getByRole('button', { name: 'Rotate the external id' }).click();
  await expect(row.getByTestId('external-id-rotated')).toBeVisible();
  await row.getByRole('button', { name: 'Test connection of Oceanography' }).click();
  await expect(check).toHaveAttribute('data-ok', 'false');
  await expect(check).toContainText('not authorized to perform: sts:AssumeRole');
});
