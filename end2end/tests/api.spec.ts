import { expect, test } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hydrated, signIn, wcagViolations } from './helpers';

/** The `atrium` CLI that dev/test built. */
const CLI = process.env.ATRIUM_CLI ?? '../target/debug/atrium';

test('ada creates a token in the browser; the atrium CLI launches, lists, stops and terminates with it', async ({ page, baseURL }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/settings/tokens');
  await hydrated(page);
  await page.getByLabel('Name').fill('cli end-to-end');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('token-secret').inputValue();
  expect(secret).toMatch(/^atr_[0-9a-f]{64}$/);
  await expect(page.getByTestId('my-tokens')).toContainText('cli end-to-end');
  expect(await wcagViolations(page)).toEqual([]);

  // Logs in: the token is kept in a file only its owner can read.
  const config = join(mkdtempSync(join(tmpdir(), 'atrium-cli-')), 'config.json');
  const env = { ...process.env, ATRIUM_CONFIG: config, ATRIUM_URL: '', ATRIUM_TOKEN: '' };
  delete env.ATRIUM_URL;
  delete env.ATRIUM_TOKEN;
  const cli = (...args: string[]) => execFileSync(CLI, args, { env, encoding: 'utf8', timeout: 90_000 });
  expect(cli('login', '--url', baseURL!, '--token', secret)).toContain('as ada');
  expect(statSync(config).mode & 0o777).toBe(0o600);

  expect(cli('teams')).toContain('genomics');
  const launched = cli('launch', '--team', 'genomics', '--config', 'Standard workstation', '--wait', 'ada-cli');
  expect(launched).toContain('ada-cli is available');
  const listed = JSON.parse(cli('workspaces', '--team', 'genomics', '--output', 'json'));
  const mine = listed.find((w: { name: string }) => w.name === 'ada-cli');
  expect(mine.state).toBe('available');
  // Connect prints the workspace's URL (a presigned one for SageMaker), and is audited.
  expect(cli('connect', 'ada-cli').trim()).toMatch(/^https?:\/\//);
  expect(cli('stop', 'ada-cli', '--wait')).toContain('ada-cli is stopped');
  expect(cli('terminate', mine.id)).toContain(`${mine.id}: terminating`);

  // An error is a message and exit code 1, not a stack trace.
  const refused = spawnSync(CLI, ['costs'], { env, encoding: 'utf8' });
  expect(refused.status).toBe(1);
  expect(refused.stderr).toContain('error: You do not have access');

  // The browser shows the token was used; revoking it ends the CLI's access.
  await page.reload();
  await hydrated(page);
  const row = page.getByTestId('my-tokens').locator('tr', { hasText: 'cli end-to-end' });
  await expect(row).not.toContainText('never');
  await row.getByRole('button', { name: 'Revoke cli end-to-end' }).click();
  await expect(row.getByTestId('token-status')).toHaveText('revoked');
  const revoked = spawnSync(CLI, ['teams'], { env, encoding: 'utf8' });
  expect(revoked.status).toBe(1);
  expect(revoked.stderr).toContain('unknown, expired or revoked');
});

test('the API reference is linked from the header and rendered from the OpenAPI document', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.getByRole('link', { name: 'API', exact: true }).click();
  await expect(page).toHaveURL(/\/api\/docs$/);
  await expect(page.getByText('/workspaces/{id}/connect')).toBeVisible();
  expect(await wcagViolations(page)).toEqual([]);
});

test('grace exports the catalog with the CLI, previews a change with --dry-run, applies it once', async ({ page, baseURL }) => {
  await signIn(page, 'grace');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/settings/tokens');
  await hydrated(page);
  await page.getByLabel('Name').fill('catalog in git');
  await page.getByLabel(/^admin:/).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('token-secret').inputValue();

  const dir = mkdtempSync(join(tmpdir(), 'atrium-catalog-'));
  const env = { ...process.env, ATRIUM_CONFIG: join(dir, 'config.json') };
  const cli = (...args: string[]) => execFileSync(CLI, args, { env, encoding: 'utf8', timeout: 60_000 });
  cli('login', '--url', baseURL!, '--token', secret);
  const original = cli('catalog', 'export');
  expect(original).toContain('name: Spark cluster');
  const exported = join(dir, 'catalog.yaml');
  writeFileSync(exported, original);

  // The change a reviewer would see in git: Spark cluster's description.
  const lines = original.split('\n');
  const at = lines.findIndex((line) => line.trim() === '- name: Spark cluster') + 1;
  expect(lines[at].trim()).toMatch(/^description:/);
  lines[at] = lines[at].replace(/description:.*/, 'description: Spark for the climate and physics teams');
  const changed = join(dir, 'changed.yaml');
  writeFileSync(changed, lines.join('\n'));

  const preview = cli('catalog', 'apply', changed, '--dry-run');
  expect(preview).toContain('~ change configuration Spark cluster');
  expect(preview).toContain('description: EMR cluster v1, set up for the demo. → Spark for the climate and physics teams');
  expect(preview).toContain('a dry run, so nothing was changed');
  expect(cli('catalog', 'export')).toBe(original);

  expect(cli('catalog', 'apply', changed)).toContain('1 change(s) applied.');
  expect(cli('catalog', 'apply', changed)).toContain('No changes');
  expect(cli('catalog', 'export')).toContain('Spark for the climate and physics teams');

  // A file with a mistake names its line and field, and changes nothing.
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, readFileSync(changed, 'utf8').replace('- name: Spark cluster', '- name: Spark cluster\n        colour: blue'));
  const refused = spawnSync(CLI, ['catalog', 'apply', bad], { env, encoding: 'utf8' });
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/bad\.yaml:\d+: types\[\d+\]\.configurations\[\d+\]\.colour: unknown field `colour`/);
  expect(refused.stderr).toContain('Nothing was changed.');

  // Back as it was, for the specs that follow.
  expect(cli('catalog', 'apply', exported)).toContain('1 change(s) applied.');
});
