import { expect, test } from '@playwright/test';
import { hydrated, signIn, wcagViolations } from './helpers';

test('ada shares her workstation with gus, who finds it under "Shared with me" and connects; alan gets 403', async ({ page, browser }) => {
  const name = `ada-together-${Date.now() % 100000}`;
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/catalog');
  await hydrated(page);
  const item = page.getByTestId('catalog-item').filter({ hasText: 'Standard workstation' });
  await item.getByLabel('Workspace name').fill(name);
  await item.getByRole('button', { name: 'Launch' }).click();
  await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);
  const url = page.url();
  await hydrated(page);
  await expect(page.getByTestId('workspace-state')).toHaveText('available', { timeout: 20_000 });
  const share = page.getByTestId('share');
  await share.getByLabel('gus').check();
  await share.getByRole('button', { name: 'Save sharing' }).click();
  await expect(page.getByTestId('shared-with')).toHaveText('Shared with gus.');
  expect(await wcagViolations(page)).toEqual([]);

  const gus = await (await browser.newContext()).newPage();
  await signIn(gus, 'gus');
  await expect(gus).toHaveURL(/\/teams\/genomics$/);
  const shared = gus.getByTestId('shared-with-me');
  await expect(shared).toContainText(name);
  await shared.getByRole('link', { name }).click();
  await expect(gus).toHaveURL(url);
  await expect(gus.getByTestId('shared-by')).toContainText('ada shared this workspace with you');
  await expect(gus.getByRole('button', { name: 'Connect' })).toBeVisible();
  await expect(gus.getByRole('button', { name: 'stop' })).toHaveCount(0);
  await expect(gus.getByText('Terminate…')).toHaveCount(0);
  const connect = await gus.request.post(`${url}/connect`, { maxRedirects: 0 });
  expect(connect.status()).toBe(303);

  const alan = await (await browser.newContext()).newPage();
  await signIn(alan, 'alan');
  await expect(alan).toHaveURL(/\/teams\/physics$/);
  expect((await alan.goto(url))?.status()).toBe(403);
  expect((await alan.request.post(`${url}/connect`, { maxRedirects: 0 })).status()).toBe(403);
});
