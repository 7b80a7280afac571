import { expect, test } from '@playwright/test';
import { hydrated, signIn } from './helpers';

// The guides' pictures (docs/src/images), taken from the running demo on every dev/test run,
// so that the documentation shows what the code shows today.
const IMAGES = `${__dirname}/../../docs/src/images`;

test.use({ viewport: { width: 1280, height: 800 } });

async function shoot(page: import('@playwright/test').Page, name: string) {
  await hydrated(page);
  await page.screenshot({ path: `${IMAGES}/${name}.png` });
}

test('the guides show the sign-in, a researcher\'s pages and the admin\'s', async ({ page, browser }) => {
  test.setTimeout(60_000);
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await shoot(page, 'sign-in');

  await signIn(page, 'ada');
  await page.goto('/teams/genomics');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Genomics Lab');
  await shoot(page, 'team-home');
  const workspace = await page.locator('a[href^="/workspaces/"]').first().getAttribute('href');
  expect(workspace, 'the demo gives ada a workspace').toBeTruthy();

  await page.goto('/teams/genomics/catalog');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await shoot(page, 'launch');

  await page.goto(workspace ?? '/');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await shoot(page, 'workspace');

  await page.goto('/teams/genomics/studies');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await shoot(page, 'studies');

  const admin = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(admin, 'grace');
  await admin.goto('/admin/teams');
  await expect(admin.getByRole('heading', { level: 1 })).toBeVisible();
  await shoot(admin, 'admin-teams');
  await admin.goto('/costs');
  await expect(admin.getByRole('heading', { level: 1 })).toBeVisible();
  await shoot(admin, 'costs');
});
