import { expect, Page } from '@playwright/test';

export const PASSWORD = 'AtriumDemo-2026';

/** Waits until the wasm has hydrated the page, so clicks reach their handlers. */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function signIn(page: Page, username: string, password = PASSWORD) {
  await page.goto('/');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
