import { expect, Page, test } from '@playwright/test';
import { hydrated, signIn } from './helpers';

/** Launches `configuration` on genomics from the catalog page as the signed-in user. */
async function launch(page: Page, configuration: string, name: string) {
  await page.goto('/teams/genomics/catalog');
  await hydrated(page);
  const item = page.getByTestId('catalog-item').filter({ hasText: configuration });
  await item.getByLabel('Workspace name').fill(name);
  await item.getByRole('button', { name: 'Launch' }).click();
  await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);
}

test('ada launches a workstation and watches it become available without reloading', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await launch(page, 'Standard workstation', 'ada-live');
  await hydrated(page);
  const state = page.getByTestId('workspace-state');
  // Live: the first state is shown at once, the last arrives over server-sent events.
  await expect(state).toHaveText(/requested|provisioning/);
  let reloads = 0;
  page.on('load', () => reloads++);
  await expect(state).toHaveText('available', { timeout: 20_000 });
  expect(reloads).toBe(0);
  await expect(page.getByTestId('workspace-events')).toContainText('provisioning');
  await expect(page.getByTestId('workspace-outputs')).toContainText('InstanceId');

  await page.goto('/teams/genomics');
  await expect(page.getByTestId('my-workspaces')).toContainText('ada-live');
});

test('a launch form submitted twice gives one workspace', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/catalog');
  const form = page.getByTestId('catalog-item').filter({ hasText: 'Small workstation' }).locator('form');
  const field = async (name: string) => (await form.locator(`input[name="${name}"]`).inputValue());
  const data = {
    team: await field('team'),
    configuration_id: await field('configuration_id'),
    launch_key: await field('launch_key'),
    name: 'ada-double',
  };
  // Two submissions at once, with the browser's session: a double click, a retry.
  const [first, second] = await Promise.all([
    page.request.post('/api/launch_workspace', { form: data }),
    page.request.post('/api/launch_workspace', { form: data }),
  ]);
  expect(first.ok() && second.ok()).toBe(true);
  expect(await first.json()).toEqual(await second.json());
  await page.goto('/teams/genomics');
  await expect(page.getByTestId('my-workspaces').getByRole('link', { name: 'ada-double' })).toHaveCount(1);
});

test('a provisioning failure shows the AWS message on the workspace page', async ({ page, request }) => {
  const emulator = process.env.EMULATOR_URL;
  expect(emulator, 'dev/test passes the emulator URL').toBeTruthy();
  const name = `ada-doomed-${Date.now() % 100000}`;
  await request.post(`${emulator}/_emulator/faults`, {
    data: { operation: 'ProvisionProduct', fault: 'fail_provisioning', message: 'Insufficient capacity for t3.medium', body_contains: name },
  });
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await launch(page, 'Small workstation', name);
  await expect(page.getByTestId('workspace-state')).toHaveText('failed', { timeout: 20_000 });
  await expect(page.getByTestId('workspace-failure')).toContainText('Insufficient capacity for t3.medium');
});

test("alan cannot open ada's workspace", async ({ page, browser }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await launch(page, 'Small workstation', 'ada-mine');
  const url = page.url();

  const alan = await (await browser.newContext()).newPage();
  await signIn(alan, 'alan');
  await expect(alan).toHaveURL(/\/teams\/physics$/);
  const response = await alan.goto(url);
  expect(response?.status()).toBe(403);
  await expect(alan.getByText('ada-mine')).toHaveCount(0);
  const events = await alan.request.get(url.replace('/workspaces/', '/events/workspaces/'));
  expect(events.status()).toBe(403);
  const connect = await alan.request.post(`${url}/connect`, { maxRedirects: 0 });
  expect(connect.status()).toBe(403);
});

test('ada stops, starts and terminates her workstation', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await launch(page, 'Standard workstation', 'ada-cycle');
  await hydrated(page);
  const state = page.getByTestId('workspace-state');
  await expect(state).toHaveText('available', { timeout: 20_000 });

  await page.getByRole('button', { name: 'stop' }).click();
  await expect(state).toHaveText('stopped', { timeout: 20_000 });
  await page.getByRole('button', { name: 'start' }).click();
  await expect(state).toHaveText('available', { timeout: 20_000 });
  await page.getByText('Terminate…').click();
  await page.getByRole('button', { name: 'Yes, terminate it' }).click();
  await expect(state).toHaveText('terminated', { timeout: 20_000 });
  await expect(page.getByTestId('workspace-actions').getByRole('button')).toHaveCount(0);
});

test('ada starts from a genomics profile and connects to her notebook in the genomics account', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics');
  await page.getByRole('link', { name: 'Start from a profile' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/profiles$/);
  await hydrated(page);
  const profile = page.getByTestId('profile').filter({ hasText: 'Jupyter notebook' });
  await profile.getByLabel('Workspace name').fill('ada-jupyter');
  await profile.getByRole('button', { name: 'Launch' }).click();
  await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('workspace-state')).toHaveText('available', { timeout: 20_000 });

  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.getByTestId('sagemaker-landing')).toContainText('notebook');
  await expect(page.getByTestId('sagemaker-user')).toContainText('ada');
  await expect(page.getByTestId('sagemaker-account')).toHaveText('111111111111');
});
