import { expect, test } from '@playwright/test';
import { readFileSync } from 'fs';
import { signIn } from './helpers';

test('grace reads the audit log, filters it by user and downloads it as CSV; ada cannot', async ({ page, browser }) => {
  // ada's sign-in is the first thing audited here.
  const researcher = await (await browser.newContext()).newPage();
  await signIn(researcher, 'ada');
  await expect(researcher).toHaveURL(/\/teams$/);
  const refused = await researcher.goto('/admin/audit');
  expect(refused?.status()).toBe(403);

  await signIn(page, 'grace');
  await expect(page).toHaveURL(/\/teams$/);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await page.getByLabel('User').fill('ada');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/actor=ada/);
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toContainText('auth.sign_in');
  await expect(page.getByTestId('audit-row').filter({ hasNotText: 'ada' })).toHaveCount(0);

  const download = page.waitForEvent('download');
  await page.getByTestId('audit-csv').click();
  const file = await (await download).path();
  const csv = readFileSync(file, 'utf8');
  expect(csv.split('\n')[0]).toBe('at_utc,actor,roles,action,object_type,object_id,team,client_ip,result,detail');
  const cells = csv.trim().split('\n').slice(1).map((line) => line.split(','));
  expect(cells.some((row) => row[3] === 'auth.sign_in')).toBe(true);
  expect(cells.every((row) => row[1] === 'ada')).toBe(true);
});
