import { expect, Page, test } from '@playwright/test';
import { readFileSync } from 'fs';
import { hydrated, signIn } from './helpers';

const dollars = (text: string) => Number(text.replace(/[$,]/g, ''));

/** Opens /costs once the worker's first Cost Explorer sync has landed. */
async function openSyncedCosts(page: Page, query = '') {
  await expect(async () => {
    await page.goto(`/costs${query}`);
    expect(dollars(await page.getByTestId('costs-total').innerText())).toBeGreaterThan(0);
  }).toPass({ timeout: 30_000 });
}

test('carol reads 30 days of costs as a chart and tables, changes the range, and the CSV matches', async ({ page }) => {
  await signIn(page, 'carol');
  await expect(page).toHaveURL(/\/teams$/);
  await page.getByRole('link', { name: 'Costs' }).click();
  await expect(page).toHaveURL(/\/costs$/);
  await openSyncedCosts(page);

  const chart = page.getByTestId('costs-chart');
  await expect(chart).toBeVisible();
  await expect(chart.locator('rect title').first()).toContainText('$');
  await expect(chart).toContainText('Genomics Lab'); // the legend
  await expect(chart).toContainText('USD per day');
  await expect(page.getByTestId('team-costs')).toContainText('Last 30 days');
  await expect(page.getByTestId('team-cost-row')).toHaveCount(3);
  await expect(page.getByTestId('workspace-costs')).toContainText('variant-calling');
  const thirtyDays = dollars(await page.getByTestId('costs-total').innerText());

  await hydrated(page);
  await page.getByTestId('costs-range').selectOption('7');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByTestId('team-costs')).toContainText('Last 7 days');
  const sevenDays = dollars(await page.getByTestId('costs-total').innerText());
  expect(sevenDays).toBeGreaterThan(0);
  expect(sevenDays).toBeLessThan(thirtyDays);

  const download = page.waitForEvent('download');
  await page.getByTestId('costs-csv').click();
  const csv = readFileSync(await (await download).path(), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('section,day,team,user,workspace,spend_usd,this_month_usd,month_end_forecast_usd,budget_usd');
  // Team names have no commas, so a plain split finds the spend column.
  const spend = (section: string) =>
    csv.filter((line) => line.startsWith(`${section},`)).reduce((sum, line) => sum + Number(line.split(',')[5]), 0);
  expect(spend('total')).toBeCloseTo(sevenDays, 2);
  expect(spend('team')).toBeCloseTo(sevenDays, 2);
  expect(spend('daily')).toBeCloseTo(sevenDays, 2);
  expect(csv.filter((line) => line.startsWith('daily,'))).toHaveLength(7 * 3);
  const pageTeams = await page.getByTestId('team-cost-total').allInnerTexts();
  expect(pageTeams.reduce((sum, text) => sum + dollars(text), 0)).toBeCloseTo(sevenDays, 2);
});

test('ada cannot open the costs', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await expect(page.getByRole('link', { name: 'Costs' })).toHaveCount(0);
  const refused = await page.goto('/costs');
  expect(refused?.status()).toBe(403);
  expect((await page.request.get('/costs.csv')).status()).toBe(403);
});

test('over budget, ada is refused; grace overrides, and the override is in the audit log', async ({ page, browser }) => {
  await signIn(page, 'grace');
  await expect(page).toHaveURL(/\/teams$/);
  await page.getByRole('link', { name: 'Budgets' }).click();
  await hydrated(page);
  const climate = page.getByTestId('budget-row').filter({ hasText: 'Climate Modelling' });
  await climate.getByLabel('Monthly budget (USD)').fill('1');
  await climate.getByRole('button', { name: 'Save budget' }).click();
  await expect(page.getByTestId('budget-saved')).toBeVisible();
  await expect(page.getByTestId('budget-row').filter({ hasText: 'Climate Modelling' })).toContainText('of $1.00');

  const researcher = await (await browser.newContext()).newPage();
  await signIn(researcher, 'ada');
  await expect(researcher).toHaveURL(/\/teams$/);
  await researcher.goto('/teams/climate/catalog');
  await hydrated(researcher);
  await expect(researcher.getByTestId('team-budget')).toContainText('$1.00 budget');
  const item = researcher.getByTestId('catalog-item').filter({ hasText: 'Small workstation' });
  await expect(item.getByTestId('cost-estimate')).toContainText('a month');
  await expect(item.getByLabel('Launch over budget')).toHaveCount(0);
  await item.getByLabel('Workspace name').fill('ada-over-budget');
  await item.getByRole('button', { name: 'Launch' }).click();
  await expect(researcher.getByTestId('launch-error')).toContainText('over its $1.00 budget');
  await expect(researcher).toHaveURL(/\/teams\/climate\/catalog$/);

  await page.goto('/teams/climate/catalog');
  await hydrated(page);
  const own = page.getByTestId('catalog-item').filter({ hasText: 'Small workstation' });
  await own.getByLabel('Workspace name').fill('grace-override');
  await own.getByLabel('Launch over budget').check();
  await own.getByRole('button', { name: 'Launch' }).click();
  await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);

  await page.goto('/admin/audit?action=workspace.launch.budget_override');
  const row = page.getByTestId('audit-row').first();
  await expect(row).toContainText('grace');
  await expect(row).toContainText('workspace.launch.budget_override');
  await page.goto('/admin/audit?actor=ada&action=workspace.launch');
  await expect(page.getByTestId('audit-row').filter({ hasText: 'refused' })).toContainText('ada-over-budget');
});
