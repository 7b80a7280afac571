import { expect, test } from '@playwright/test';
import { hydrated, PASSWORD, signIn } from './helpers';

test('ada signs in and sees exactly Genomics Lab and Climate Modelling', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  const cards = page.getByTestId('team-card');
  await expect(cards).toHaveCount(2);
  await expect(cards.nth(0)).toContainText('Climate Modelling');
  await expect(cards.nth(1)).toContainText('Genomics Lab');
  await expect(page.getByText('Particle Physics')).toHaveCount(0);

  await cards.filter({ hasText: 'Genomics Lab' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics$/);
  await expect(page.getByTestId('team-name')).toHaveText('Genomics Lab');
  await expect(page.getByTestId('s3-scratch')).toContainText('s3://atrium-scratch-111111111111/genomics/');
});

test('ada opening /teams/physics gets the 403 page', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  const response = await page.goto('/teams/physics');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('error-page')).toContainText('do not have access');
  await expect(page.getByText('333333333333')).toHaveCount(0);
});

test('a wrong password shows the message and sets no session cookie', async ({ page, context }) => {
  await signIn(page, 'ada', 'not-the-password');
  await expect(page.getByTestId('sign-in-error')).toContainText('could not sign you in');
  const cookies = await context.cookies();
  expect(cookies.filter((c) => c.name === 'atrium_session')).toHaveLength(0);
});

test('an anonymous visitor is sent to sign in and back to where they were going', async ({ page }) => {
  await page.goto('/teams/climate');
  await expect(page).toHaveURL(/\/\?next=%2Fteams%2Fclimate$/);
  await hydrated(page);
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/teams\/climate$/);
  await expect(page.getByTestId('team-name')).toHaveText('Climate Modelling');
});

test('newbie must choose a new password and then reaches her team', async ({ page }) => {
  await signIn(page, 'newbie', 'TempPass-2026');
  await expect(page).toHaveURL(/\/new-password$/);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();

  await page.getByLabel('New password').fill('short');
  await page.getByLabel('Repeat it').fill('short');
  await page.getByRole('button', { name: 'Set password and continue' }).click();
  await expect(page.getByTestId('new-password-error')).toContainText('at least 12 characters');

  await page.getByLabel('New password').fill('Newbie-Chosen-2026');
  await page.getByLabel('Repeat it').fill('Newbie-Chosen-2026');
  await page.getByRole('button', { name: 'Set password and continue' }).click();
  await expect(page).toHaveURL(/\/teams\/climate$/);
  await expect(page.getByTestId('team-name')).toHaveText('Climate Modelling');
});

test('after sign-out the back button shows the sign-in page, not team data', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics');
  await expect(page.getByTestId('team-name')).toHaveText('Genomics Lab');
  await hydrated(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  await page.goBack();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('team-name')).toHaveCount(0);
  await expect(page.getByText('s3://atrium-scratch')).toHaveCount(0);
});

test('without JavaScript, sign-in works and returns to the page asked for', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/teams/physics');
  await expect(page).toHaveURL(/\/\?next=%2Fteams%2Fphysics$/);
  await page.getByLabel('Username').fill('alan');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/teams\/physics$/);
  await expect(page.getByTestId('team-name')).toHaveText('Particle Physics');
  await context.close();
});
