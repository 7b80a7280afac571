import { expect, Page, test } from '@playwright/test';
import { hydrated, signIn, wcagViolations } from './helpers';

/** Signs in as ada and launches a Standard workstation on genomics, until it is available. */
async function adasAvailableWorkstation(page: Page, name: string) {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/catalog');
  await hydrated(page);
  const item = page.getByTestId('catalog-item').filter({ hasText: 'Standard workstation' });
  await item.getByLabel('Workspace name').fill(name);
  await item.getByRole('button', { name: 'Launch' }).click();
  await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await expect(page.getByTestId('workspace-state')).toHaveText('available', { timeout: 20_000 });
}

test('ada shares her workstation with gus, who finds it under "Shared with me" and connects; alan gets 403', async ({ page, browser }) => {
  const name = `ada-together-${Date.now() % 100000}`;
  await adasAvailableWorkstation(page, name);
  const url = page.url();
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

/** Calls moto's query API as someone in genomics' account (moto checks no signature). */
async function asGenomicsConsole(request: import('@playwright/test').APIRequestContext, service: string, params: Record<string, string>, credentials?: { key: string; token: string }) {
  const moto = process.env.AWS_ENDPOINT_URL;
  expect(moto, 'dev/test exports the moto endpoint').toBeTruthy();
  const key = credentials?.key ?? 'AKIAIOSFODNN7EXAMPLE';
  const headers: Record<string, string> = {
    authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
  };
  if (credentials) headers['x-amz-security-token'] = credentials.token;
  const response = await request.post(`${moto}/`, { form: params, headers });
  expect(response.ok(), await response.text()).toBe(true);
  return response.text();
}

test('grace resyncs a workstation stopped behind Atrium\'s back, and it shows stopped', async ({ page, browser, request }) => {
  const name = `ada-console-${Date.now() % 100000}`;
  await adasAvailableWorkstation(page, name);
  const instance = (await page.getByTestId('workspace-outputs').locator('dt:has-text("InstanceId") + dd').textContent())!.trim();

  // Someone stops the instance in the team's account, outside Atrium.
  const assumed = await asGenomicsConsole(request, 'sts', {
    Action: 'AssumeRole', Version: '2011-06-15', RoleArn: 'arn:aws:iam::111111111111:role/AtriumPortalAccess', RoleSessionName: 'console',
  });
  const key = assumed.match(/<AccessKeyId>([^<]+)</)![1];
  const token = assumed.match(/<SessionToken>([^<]+)</)![1];
  await asGenomicsConsole(request, 'ec2', { Action: 'StopInstances', Version: '2016-11-15', 'InstanceId.1': instance }, { key, token });

  const grace = await (await browser.newContext()).newPage();
  await signIn(grace, 'grace');
  await grace.goto(`/admin/workspaces?owner=ada`);
  await hydrated(grace);
  const row = grace.getByTestId('admin-workspaces').locator(`[data-workspace="${name}"]`);
  await expect(row.getByTestId('admin-state')).toHaveText('available');
  expect(await wcagViolations(grace)).toEqual([]);
  await row.getByRole('button', { name: `Resync ${name}` }).click();
  await expect(grace.getByTestId('resync-result')).toContainText('stopped outside Atrium');
  await expect(row.getByTestId('admin-state')).toHaveText('stopped');
  await page.reload();
  await expect(page.getByTestId('workspace-state')).toHaveText('stopped');
});

test('grace approves Linux workstation v2; ada upgrades her v1 workstation in place, then changes its size', async ({ page, browser }) => {
  // grace: v2 imported and approved (the catalog tests may have done it already), with a deadline for v1.
  const grace = await (await browser.newContext()).newPage();
  await signIn(grace, 'grace');
  await grace.goto('/admin/catalog');
  await hydrated(grace);
  const import_v2 = grace.getByRole('button', { name: 'Import Linux workstation (EC2) v2' });
  if (await import_v2.count()) await import_v2.click();
  const v2 = grace.getByTestId('workspace-type').filter({ hasText: 'Linux workstation (EC2) v2' });
  const approve = v2.getByRole('button', { name: 'Approve Linux workstation (EC2) v2' });
  await expect(v2.getByTestId('type-status')).toHaveText(/imported|approved/);
  if (await approve.count()) await approve.click();
  await expect(v2.getByTestId('type-status')).toHaveText('approved');
  const v1 = grace.getByTestId('workspace-type').filter({ hasText: 'Linux workstation (EC2) v1' });
  await v1.getByLabel('Must upgrade by').fill('2099-06-30');
  await v1.getByRole('button', { name: 'Save the upgrade deadline of Linux workstation (EC2) v1' }).click();
  await expect(grace.getByTestId('catalog-error')).toHaveCount(0);
  await expect(v1.getByLabel('Must upgrade by')).toHaveValue('2099-06-30');

  // ada's v1 workstation offers the upgrade, and the deadline.
  const name = `ada-upgrade-${Date.now() % 100000}`;
  await adasAvailableWorkstation(page, name);
  const offer = page.getByTestId('upgrade-available');
  await expect(offer).toContainText('Upgrade available: Linux workstation (EC2) v2 is approved.');
  await expect(offer).toContainText('upgraded by 2099-06-30');
  expect(await wcagViolations(page)).toEqual([]);
  const url = page.url();
  await offer.getByRole('button', { name: 'Upgrade to Linux workstation (EC2) v2' }).click();
  await expect(page.getByTestId('workspace-state')).toHaveText('available', { timeout: 20_000 });
  await expect(page.getByTestId('workspace-events')).toContainText('upgraded from Linux workstation (EC2) v1 to Linux workstation (EC2) v2');
  await page.reload();
  await hydrated(page);
  expect(page.url()).toBe(url);
  await expect(page.getByText(/Standard workstation · Linux workstation \(EC2\) v2/)).toBeVisible();
  await expect(page.getByTestId('upgrade-available')).toHaveCount(0);

  // A bigger size, from the ones the configuration lists.
  const size = page.getByTestId('change-size');
  await size.getByLabel('Change size to').selectOption('m5.xlarge');
  await size.getByRole('button', { name: 'Change size' }).click();
  await expect(page.getByTestId('workspace-state')).toHaveText('available', { timeout: 20_000 });
  await expect(page.getByTestId('workspace-events')).toContainText('resized from t3.large to m5.xlarge');
  await page.reload();
  await expect(page.getByTestId('change-size')).toContainText('Size: m5.xlarge.');
  await expect(page.getByText(/\$0\.23\/hour estimated/)).toBeVisible();
});
