import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './helpers';

test('grace imports and approves Linux workstation v2', async ({ page }) => {
  await signIn(page, 'grace');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/admin/catalog');
  await hydrated(page);
  await expect(page.getByTestId('catalog-product')).toHaveCount(4);

  await page.getByRole('button', { name: 'Import Linux workstation (EC2) v2' }).click();
  const row = page.getByTestId('workspace-type').filter({ hasText: 'Linux workstation (EC2) v2' });
  await expect(row.getByTestId('type-status')).toHaveText('imported');
  await expect(row).toContainText('VolumeSize');
  await expect(row).toContainText('stop, start, terminate');

  await row.getByRole('button', { name: 'Approve Linux workstation (EC2) v2' }).click();
  await expect(row.getByTestId('type-status')).toHaveText('approved');

  // The page, reloaded from the server, says the same.
  await page.reload();
  await hydrated(page);
  await expect(
    page.getByTestId('workspace-type').filter({ hasText: 'Linux workstation (EC2) v2' }).getByTestId('type-status'),
  ).toHaveText('approved');

  // A configuration for researchers of Genomics Lab.
  const form = page.getByTestId('configuration-form').filter({ hasText: 'Linux workstation (EC2) v2' });
  await form.locator('summary').click();
  await form.getByLabel('Name').fill('Large workstation');
  await form.getByLabel('Estimated cost per hour ($)').fill('0.42');
  await form.locator('select[name="parameters[InstanceType]"]').selectOption('t3.large');
  await form.locator('input[name="allowed_roles[researcher]"]').check();
  await form.locator('input[name="allowed_teams[genomics]"]').check();
  await form.getByRole('button', { name: 'Save configuration' }).click();
  await expect(page.getByTestId('configuration').filter({ hasText: 'Large workstation' })).toContainText('$0.42/hour');
});

test('ada sees the researcher configuration in the Genomics catalog; gus (guest) only what guests may use', async ({ page, browser }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics');
  await page.getByRole('link', { name: 'Browse the workspace catalog' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/catalog$/);
  await expect(page.getByTestId('catalog-item').filter({ hasText: 'Large workstation' })).toContainText('$0.42');

  const guest = await (await browser.newContext()).newPage();
  await signIn(guest, 'gus');
  await guest.goto('/teams/genomics/catalog');
  await expect(guest.getByTestId('catalog-item').filter({ hasText: 'Small workstation' })).toBeVisible();
  await expect(guest.getByTestId('catalog-item').filter({ hasText: 'Large workstation' })).toHaveCount(0);
  await expect(guest.getByTestId('catalog-item').filter({ hasText: 'Standard workstation' })).toHaveCount(0);
});

test('a researcher opening the admin catalog gets 403', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  const response = await page.goto('/admin/catalog');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('error-page')).toBeVisible();
  await expect(page.getByTestId('catalog-product')).toHaveCount(0);
});
