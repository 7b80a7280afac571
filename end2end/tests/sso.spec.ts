import { expect, Page, test } from '@playwright/test';
import { hydrated, PASSWORD, wcagViolations } from './helpers';

// The provider is dev/oidc-provider (npm oidc-provider) started by dev/test, with its own
// login page; the portal only knows its issuer URL and client id.

async function signInAtProvider(page: Page, username: string) {
  await expect(page.getByRole('heading', { name: 'Demo University' })).toBeVisible();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('ada signs in with Demo University and sees exactly her two teams', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const button = page.getByRole('link', { name: 'Sign in with Demo University' });
  await expect(button).toBeVisible();
  expect(await wcagViolations(page)).toEqual([]);
  await button.click();

  await signInAtProvider(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  const cards = page.getByTestId('team-card');
  await expect(cards).toHaveCount(2);
  await expect(cards.filter({ hasText: 'Genomics Lab' })).toHaveCount(1);
  await expect(cards.filter({ hasText: 'Climate Modelling' })).toHaveCount(1);
  await expect(page.getByText('Particle Physics')).toHaveCount(0);
});

test('a deep link while signed out comes back to that page after single sign-on', async ({ page }) => {
  await page.goto('/teams/genomics/catalog');
  await expect(page).toHaveURL(/\/\?next=%2Fteams%2Fgenomics%2Fcatalog$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with Demo University' }).click();
  await signInAtProvider(page, 'ada');
  await expect(page).toHaveURL(/\/teams\/genomics\/catalog$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Workspace catalog');
});

test('a wrong password at the provider keeps the user there with its message', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with Demo University' }).click();
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('do not match');
  await page.getByRole('button', { name: 'Cancel' }).click();
  // Cancelled at the provider: the portal says so, with a 4xx and no session.
  await expect(page.getByTestId('error-page')).toContainText('did not sign you in');
  const response = await page.goto('/teams');
  expect(response?.url()).toMatch(/\/\?next=%2Fteams$/);
});

test('sign-out ends the session at Atrium and at the provider', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with Demo University' }).click();
  await signInAtProvider(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await hydrated(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/$/);
  await expect(page.getByRole('heading', { name: 'Sign in', exact: true })).toBeVisible();

  await page.goto('/teams');
  await expect(page).toHaveURL(/\/\?next=%2Fteams$/);
  // The provider's session is gone too: signing in asks for the password again.
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with Demo University' }).click();
  await expect(page.getByLabel('Password')).toBeVisible();
});
