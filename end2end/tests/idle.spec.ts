import { expect, test } from '@playwright/test';
import { hydrated, signIn, wcagViolations } from './helpers';

test('ada sees when her idle workstation stops and keeps it running 4 more hours', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics');
  await page.getByRole('link', { name: 'variant-calling' }).click();
  await hydrated(page);
  const stopsAt = page.getByTestId('stops-at');
  await expect(stopsAt).toContainText(/^Stops at \d\d:\d\d UTC unless used$/);
  const before = await stopsAt.textContent();
  expect(await wcagViolations(page)).toEqual([]);

  await page.getByRole('button', { name: 'Keep running 4 hours' }).click();
  await expect(stopsAt).toContainText(/^Kept running: stops at \d\d:\d\d UTC unless used$/);
  expect(await stopsAt.textContent()).not.toEqual(before);
});

test('grace changes a configuration idle policy and the launch form shows it', async ({ page }) => {
  await signIn(page, 'grace');
  await page.goto('/admin/catalog');
  await hydrated(page);
  const item = page.getByTestId('configuration').filter({ hasText: 'Small workstation' });
  await item.getByText('Idle policy of Small workstation').click();
  await item.getByLabel('Stop after (minutes idle, or never)').fill('120');
  await item.getByLabel('Idle below CPU (%)').fill('10');
  await item.getByRole('button', { name: 'Save idle policy' }).click();
  await expect(page.getByTestId('configuration').filter({ hasText: 'Small workstation' }).getByTestId('idle-policy'))
    .toHaveText('Stops after 120 min idle (CPU below 10 % and no Connect)');

  await page.goto('/teams/genomics/catalog');
  const offered = page.getByTestId('catalog-item').filter({ hasText: 'Small workstation' });
  await expect(offered.getByTestId('idle-policy')).toHaveText('Stops after 120 min idle (CPU below 10 % and no Connect)');
});

test('ada chooses on her settings page what sign-out stops and which e-mail she gets', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/settings');
  await hydrated(page);
  expect(await wcagViolations(page)).toEqual([]);
  await page.getByLabel('Never stop them when I sign out').check();
  await page.getByLabel('Budget alerts of the teams I administer').uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByTestId('settings-message')).toHaveText('Saved.');
  await page.reload();
  await expect(page.getByLabel('Never stop them when I sign out')).toBeChecked();
  await expect(page.getByLabel('Budget alerts of the teams I administer')).not.toBeChecked();
  await expect(page.getByText('Sent to ada@example.edu.')).toBeVisible();
});
