import { Browser, expect, Page, test } from '@playwright/test';
import { hydrated, signIn, wcagViolations } from './helpers';

// One story, in order: each step builds on the one before (a new team, a new person on it,
// access taken away from two others). The end puts ada and gus back for the specs after it.

async function signedIn(browser: Browser, username: string, password?: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, username, password);
  await expect(page).not.toHaveURL(/error=/);
  return page;
}

function personRow(page: Page, username: string) {
  return page.locator(`[data-testid="person"][data-username="${username}"]`);
}

/** Opens the row's "Edit access" panel unless it is open already. */
async function editAccess(page: Page, username: string) {
  const row = personRow(page, username);
  if (!(await row.locator('details').evaluate((details: HTMLDetailsElement) => details.open))) {
    await row.getByText(`Edit ${username}'s access`).click();
  }
  return row;
}

test('grace onboards Neuroscience and lin, and takes access away from ada and gus', async ({ browser }) => {
  test.setTimeout(90_000);
  const grace = await signedIn(browser, 'grace');
  const ada = await signedIn(browser, 'ada');
  const gus = await signedIn(browser, 'gus');

  // A new team, its account and role; the connection test passes.
  await grace.goto('/admin/teams');
  await hydrated(grace);
  expect(await wcagViolations(grace)).toEqual([]);
  const form = grace.getByTestId('create-team');
  await form.getByLabel('Slug', { exact: true }).fill('neuroscience');
  await form.getByLabel('Display name', { exact: true }).fill('Neuroscience');
  await form.getByLabel('AWS account id', { exact: true }).fill('444444444444');
  await form.getByLabel('Role the portal assumes', { exact: true }).fill('arn:aws:iam::444444444444:role/AtriumPortalAccess');
  await form.getByRole('button', { name: 'Create team' }).click();
  await expect(grace.getByTestId('teams-notice')).toContainText('Team "neuroscience" created');
  const row = grace.locator('[data-testid="admin-team"][data-team="neuroscience"]');
  await expect(row).toContainText('444444444444');
  await row.getByRole('button', { name: 'Test connection of Neuroscience' }).click();
  await expect(row.getByTestId('connection-check')).toHaveAttribute('data-ok', 'true');
  await expect(row.getByTestId('connection-check')).toContainText('Connection works');

  // "Connect an AWS account": the stack's parameters carry the team's external id, and the
  // template downloads with them filled in.
  const externalId = (await row.getByTestId('external-id').textContent())?.trim() ?? '';
  expect(externalId).toMatch(/^[0-9a-f]{32}$/);
  await row.locator('summary', { hasText: 'Connect an AWS account' }).click();
  await row.getByRole('button', { name: 'Show how to connect the AWS account of Neuroscience' }).click();
  const steps = row.getByTestId('account-steps');
  await expect(steps).toContainText('atrium-team-neuroscience');
  await expect(steps).toContainText(externalId);
  const download = await row.getByTestId('template-download').getAttribute('href');
  const template = await grace.request.get(download ?? '');
  expect(template.status()).toBe(200);
  expect(await template.text()).toContain(`Default: "${externalId}"`);
  expect(await wcagViolations(grace)).toEqual([]);

  // A bad field is named next to the field, and nothing is created.
  await form.getByLabel('Slug', { exact: true }).fill('Neuro Science');
  await form.getByLabel('Display name', { exact: true }).fill('Again');
  await form.getByLabel('AWS account id', { exact: true }).fill('444444444444');
  await form.getByLabel('Role the portal assumes', { exact: true }).fill('arn:aws:iam::111111111111:role/AtriumPortalAccess');
  await form.getByRole('button', { name: 'Create team' }).click();
  await expect(form.locator('[data-field-error="slug"]')).toBeVisible();
  await expect(form.locator('[data-field-error="role_arn"]')).toContainText('111111111111');

  // lin is invited as a researcher on Neuroscience.
  await grace.goto('/admin/people');
  await hydrated(grace);
  const invite = grace.getByTestId('invite');
  await invite.getByLabel('Username', { exact: true }).fill('lin');
  await invite.getByLabel('E-mail', { exact: true }).fill('lin@example.edu');
  await invite.getByLabel(/Temporary password/).fill('Welcome-Lin-2026');
  await invite.getByLabel('researcher', { exact: true }).check();
  await invite.getByLabel('Neuroscience', { exact: true }).check();
  await invite.getByRole('button', { name: 'Send invitation' }).click();
  await expect(grace.getByTestId('people-notice')).toContainText('Invitation sent');
  await expect(personRow(grace, 'lin').getByTestId('person-status')).toHaveText('must change password');
  expect(await wcagViolations(grace)).toEqual([]);

  // lin signs in with the temporary password, chooses her own, and sees only Neuroscience.
  const lin = await (await browser.newContext()).newPage();
  await signIn(lin, 'lin', 'Welcome-Lin-2026');
  await expect(lin).toHaveURL(/\/new-password$/);
  await lin.getByLabel('New password', { exact: true }).fill('Lin-Chosen-Password-2026');
  await lin.getByLabel('Repeat it', { exact: true }).fill('Lin-Chosen-Password-2026');
  await lin.getByRole('button', { name: 'Set password and continue' }).click();
  await expect(lin).toHaveURL(/\/teams\/neuroscience$/);
  await lin.goto('/teams');
  await expect(lin.getByTestId('team-card')).toHaveCount(1);
  await expect(lin.getByTestId('team-card')).toContainText('Neuroscience');

  // ada loses Climate Modelling: her next click there is a 403, while still signed in.
  expect((await ada.goto('/teams/climate'))?.status()).toBe(200);
  const adaRow = await editAccess(grace, 'ada');
  await adaRow.getByLabel('Climate Modelling member', { exact: true }).uncheck();
  await adaRow.getByRole('button', { name: 'Save ada' }).click();
  await expect(grace.getByTestId('people-notice')).toContainText("Saved ada's roles and teams");
  expect((await ada.goto('/teams/climate'))?.status()).toBe(403);
  expect((await ada.goto('/teams/genomics'))?.status()).toBe(200);

  // gus is disabled: his open session is signed out on his next request.
  await personRow(grace, 'gus').getByRole('button', { name: 'Disable gus' }).click();
  await expect(grace.getByTestId('disabled-result')).toContainText('gus is disabled');
  await gus.goto('/teams');
  await expect(gus).toHaveURL(/\/\?next=%2Fteams$/);
  await expect(personRow(grace, 'gus').getByTestId('person-status')).toHaveText('disabled');

  // Put ada and gus back as the demo has them.
  await personRow(grace, 'gus').getByRole('button', { name: 'Enable gus' }).click();
  await expect(grace.getByTestId('people-notice')).toContainText('gus is enabled again');
  // The list reloads after each change: wait for it before opening another row's form.
  await expect(personRow(grace, 'gus').getByTestId('person-status')).toHaveText('confirmed');
  await (await editAccess(grace, 'ada')).getByLabel('Climate Modelling member', { exact: true }).check();
  await personRow(grace, 'ada').getByRole('button', { name: 'Save ada' }).click();
  await expect(personRow(grace, 'ada').getByTestId('person-teams')).toContainText('climate');
  expect((await ada.goto('/teams/climate'))?.status()).toBe(200);
});

test('rosalind adds a member to Genomics Lab and may manage nothing else', async ({ page }) => {
  await signIn(page, 'rosalind');
  await expect(page).toHaveURL(/\/teams\/genomics$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'Manage members' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/members$/);
  await hydrated(page);
  expect(await wcagViolations(page)).toEqual([]);
  await page.getByLabel('Username', { exact: true }).fill('alan');
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByTestId('members-message')).toContainText('Member added');
  await expect(page.locator('[data-testid="member"][data-username="alan"]')).toBeVisible();

  expect((await page.goto('/teams/climate/members'))?.status()).toBe(403);
  expect((await page.goto('/admin/teams'))?.status()).toBe(403);

  // alan goes back to Particle Physics only, as the demo has him.
  await page.goto('/teams/genomics/members');
  await hydrated(page);
  await page.getByRole('button', { name: 'Remove alan' }).click();
  await expect(page.getByTestId('members-message')).toContainText('Member removed');
  await expect(page.locator('[data-testid="member"][data-username="alan"]')).toHaveCount(0);
});
