import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './helpers';

test('grace imports and approves Linux workstation v2', async ({ page }) => {
  await signIn(page, 'grace');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/admin/catalog');
  await hydrated(page);
  await expect(page.getByTestId('catalog-product')).toHaveCount(3);

  await page.getByRole('button', { name: 'Import Linux workstation (EC2) v2' }).click();
  const row = page.getByTestId('workspace-type').filter({ hasText: 'Linux workstation (EC2) v2' });
  await expect(row.getByTestId('type-status')).toHaveText('imported');
  await expect(row).toContainText('VolumeSize');
  await expect(row).toContainText('stop, start, terminate');

  await row.getByRole('button', { name: 'Approve Linux workstation (EC2) v2' }).click();
  await expect(row.getByTestId('type-status')).toHaveText('approved');

  // The page, reloaded from the server, says the same.
  await page.reload();
  await expect(
    page.getByTestId('workspace-type').filter({ hasText: 'Linux workstation (EC2) v2' }).getByTestId('type-status'),
  ).toHaveText('approved');
});

test('a researcher opening the admin catalog gets 403', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  const response = await page.goto('/admin/catalog');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('error-page')).toBeVisible();
  await expect(page.getByTestId('catalog-product')).toHaveCount(0);
});
