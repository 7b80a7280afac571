import { type Page, expect, test } from '@playwright/test';
import { hydrated, signIn, wcagViolations } from './helpers';

const STUDY = `Sequencing run ${Date.now() % 100000}`;
const CSV = 'sample,depth\nNA12878,31\nNA19240,28\n';
const FASTA = '>chr21_fragment\nGATTACAGATTACACCGGTTAACCGG\n';

// One story, in order: ada's study is what gus, alan and the launch then use.
test.describe.configure({ mode: 'serial' });

let studyUrl = '';

test('ada creates a team study, uploads two files with progress, and downloads the same bytes', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics');
  await page.getByRole('link', { name: 'Studies' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/studies$/);
  await hydrated(page);
  // The seeded studies of each kind ada may see from Genomics Lab.
  const listed = page.getByTestId('studies');
  for (const name of ['Reference genomes', 'Patient cohort', "Ada's notes", 'Institutional reference panel', '1000 Genomes (sample)']) {
    await expect(listed).toContainText(name);
  }
  expect(await wcagViolations(page)).toEqual([]);

  const form = page.getByTestId('new-study');
  await form.getByLabel('For').selectOption('team');
  await form.getByLabel('Name', { exact: true }).fill(STUDY);
  await form.getByLabel('Description').fill('Two files from the browser.');
  await form.getByRole('button', { name: 'Create study' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/studies\/\d+$/);
  studyUrl = new URL(page.url()).pathname;
  await expect(page.getByTestId('study-name')).toHaveText(STUDY);
  await expect(page.getByTestId('no-files')).toBeVisible();
  await hydrated(page);

  await page.getByLabel('Files').setInputFiles([
    { name: 'samples.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) },
    { name: 'chr21.fasta', mimeType: 'application/octet-stream', buffer: Buffer.from(FASTA) },
  ]);
  await page.getByRole('button', { name: 'Upload' }).click();
  const uploads = page.getByTestId('uploads');
  for (const name of ['samples.csv', 'chr21.fasta']) {
    const row = uploads.locator(`[data-upload="${name}"]`);
    await expect(row.getByRole('progressbar', { name: `Upload of ${name}` })).toBeVisible();
    await expect(row.getByTestId('upload-status')).toHaveText('uploaded', { timeout: 15_000 });
    await expect(row.getByRole('progressbar')).toHaveAttribute('value', '100');
  }
  const files = page.getByTestId('study-files');
  await expect(files.locator('[data-file="samples.csv"]')).toContainText('35 B');
  await expect(files.locator('[data-file="chr21.fasta"]')).toBeVisible();
  expect(await wcagViolations(page)).toEqual([]);

  // A download is minted per click: the link leads through the portal to S3.
  const href = await files.getByRole('link', { name: 'Download samples.csv' }).getAttribute('href');
  expect(href).toContain('/download?path=samples.csv');
  const downloaded = await page.request.get(href!);
  expect(downloaded.ok()).toBe(true);
  expect(await downloaded.text()).toBe(CSV);
});

test('gus, a guest, reads the study but cannot upload', async ({ page }) => {
  await signIn(page, 'gus');
  await expect(page).toHaveURL(/\/teams/);
  await page.goto(studyUrl);
  await expect(page.getByTestId('study-access')).toHaveText('read-only');
  await expect(page.getByTestId('study-files').locator('[data-file="samples.csv"]')).toBeVisible();
  await expect(page.getByTestId('upload')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  const id = studyUrl.split('/').pop()!;
  const posted = await page.request.post('/api/study_upload', {
    form: { team: 'genomics', id, path: 'gus.csv', size: '5', content_type: 'text/csv' },
  });
  expect(posted.status()).toBe(403);
});

test('alan, of another team, gets 403 on the study and on its downloads', async ({ page }) => {
  await signIn(page, 'alan');
  await expect(page).toHaveURL(/\/teams/);
  const response = await page.goto(studyUrl);
  expect(response?.status()).toBe(403);
  const download = await page.request.get(`${studyUrl}/download?path=samples.csv`, { maxRedirects: 0 });
  expect(download.status()).toBe(403);
});

test('ada launches a workstation with the study read-write and its page lists it', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/catalog');
  await hydrated(page);
  const item = page.getByTestId('catalog-item').filter({ hasText: 'Standard workstation' });
  await item.getByLabel('Workspace name').fill(`ada-data-${Date.now() % 100000}`);
  await item.getByTestId('launch-studies').getByLabel(STUDY).selectOption('rw');
  await item.getByRole('button', { name: 'Launch' }).click();
  await expect(page).toHaveURL(/\/workspaces\/[0-9a-f-]{36}$/);
  const mounted = page.getByTestId('workspace-studies').locator(`[data-study="${STUDY}"]`);
  await expect(mounted).toBeVisible();
  await expect(mounted.getByTestId('study-mount-access')).toHaveText('read-write');
});

/** Signs in as a reviewer and approves (or rejects, with a note) the request at `url`. */
async function review(page: Page, who: string, url: string, button: 'Approve' | 'Reject' = 'Approve', note = '') {
  await page.context().clearCookies();
  await signIn(page, who);
  await expect(page).toHaveURL(/\/teams/);
  await page.goto(url);
  await hydrated(page);
  const form = page.getByTestId('request-review');
  if (note) {
    await form.getByLabel(/^Note/).fill(note);
  }
  await form.getByRole('button', { name: button }).click();
}

test('controlled data leaves through an export once scanned and approved by two people', async ({ page }) => {
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/studies');
  await page.getByRole('link', { name: 'Patient cohort' }).click();
  await hydrated(page);
  // No direct downloads from a controlled study.
  await expect(page.getByRole('link', { name: 'Download cohort.csv' })).toHaveCount(0);
  const egress = page.getByTestId('egress');
  await egress.getByLabel(/results\/summary\.csv/).check();
  await egress.getByLabel('Why these files should leave').fill('Aggregate counts for the paper');
  await egress.getByRole('button', { name: 'Request export' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/requests\/\d+$/);
  const requestUrl = new URL(page.url()).pathname;
  // Scanned (the page looks again while it scans), then waiting for its two reviewers.
  await expect(page.getByTestId('request-status')).toHaveText('in review', { timeout: 20_000 });
  await expect(page.getByTestId('request-files')).toContainText('no threats found');
  await expect(page.getByRole('link', { name: 'Download results/summary.csv' })).toHaveCount(0);
  expect(await wcagViolations(page)).toEqual([]);

  await review(page, 'rosalind', requestUrl, 'Approve', 'Aggregates only: fine.');
  await expect(page.getByTestId('request-approvals')).toContainText('(1 so far)');
  await expect(page.getByTestId('request-status')).toHaveText('in review');
  await review(page, 'grace', requestUrl);
  await expect(page.getByTestId('request-status')).toHaveText('completed');
  await expect(page.getByTestId('request-history')).toContainText('airlock.complete');

  await page.context().clearCookies();
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto(requestUrl);
  const link = page.getByRole('link', { name: 'Download results/summary.csv' });
  const downloaded = await page.request.get((await link.getAttribute('href'))!);
  expect(await downloaded.text()).toMatch(/^sample,population/);
});

/** ada starts an import into Reference genomes, uploads one file into its inbox and submits it: the request's path. */
async function importFile(page: Page, name: string, body: string) {
  await page.context().clearCookies();
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/studies');
  await page.getByRole('link', { name: 'Reference genomes' }).click();
  await hydrated(page);
  const start = page.getByTestId('import');
  await start.getByLabel('What the data is and why it should come in').fill('Samples from the sequencer');
  await start.getByRole('button', { name: 'Start an import' }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/requests\/\d+$/);
  await hydrated(page);
  await expect(page.getByTestId('request-status')).toHaveText('draft');
  await page.getByLabel('Files').setInputFiles([{ name, mimeType: 'text/csv', buffer: Buffer.from(body) }]);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByTestId('request-files')).toContainText(name, { timeout: 15_000 });
  await page.getByRole('button', { name: 'Submit for scanning and review' }).click();
  return new URL(page.url()).pathname;
}

test('ada imports a file into Reference genomes; rosalind and grace approve it and ada finds it in the study', async ({ page }) => {
  const name = `import-${Date.now() % 100000}.csv`;
  const requestUrl = await importFile(page, name, CSV);
  await expect(page.getByTestId('request-status')).toHaveText('in review', { timeout: 20_000 });
  expect(await wcagViolations(page)).toEqual([]);

  // A reviewer reads the file before deciding, through a link minted for them.
  await page.context().clearCookies();
  await signIn(page, 'rosalind');
  await expect(page).toHaveURL(/\/teams/);
  await page.goto(requestUrl);
  const open = page.getByRole('link', { name: `Open ${name} (read-only)` });
  const read = await page.request.get((await open.getAttribute('href'))!);
  expect(await read.text()).toBe(CSV);
  await review(page, 'rosalind', requestUrl);
  await expect(page.getByTestId('request-approvals')).toContainText('(1 so far)');
  await review(page, 'grace', requestUrl);
  await expect(page.getByTestId('request-status')).toHaveText('completed');

  await page.context().clearCookies();
  await signIn(page, 'ada');
  await expect(page).toHaveURL(/\/teams$/);
  await page.goto('/teams/genomics/studies');
  await page.getByRole('link', { name: 'Reference genomes' }).click();
  await expect(page.getByRole('link', { name: `Download ${name}` })).toBeVisible();
});

test('a file carrying a threat is quarantined and its import blocked, and ada sees why', async ({ page }) => {
  const eicar = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
  await importFile(page, 'eicar.csv', eicar);
  await expect(page.getByTestId('request-status')).toHaveText('blocked', { timeout: 20_000 });
  await expect(page.getByTestId('request-note')).toContainText('Threats found in eicar.csv: quarantined');
  await expect(page.getByTestId('request-files')).toContainText('threats found');
  await expect(page.getByTestId('request-review')).toHaveCount(0);
  expect(await wcagViolations(page)).toEqual([]);
});

test("ada browses her team's scratch space from the team home, uploads a file and downloads one; gus only reads", async ({ page, browser }) => {
  await signIn(page, 'ada');
  await page.goto('/teams/genomics');
  await page.getByRole('link', { name: /Browse the scratch space/ }).click();
  await expect(page).toHaveURL(/\/teams\/genomics\/scratch$/);
  await hydrated(page);
  await expect(page.getByTestId('scratch-location')).toContainText('s3://');
  const files = page.getByTestId('study-files');
  await expect(files.locator('[data-file="README.txt"]')).toBeVisible();
  expect(await wcagViolations(page)).toEqual([]);

  const href = await files.getByRole('link', { name: 'Download README.txt' }).getAttribute('href');
  expect(href).toBe('/teams/genomics/scratch/download?path=README.txt');
  const readme = await page.request.get(href!);
  expect(readme.ok()).toBe(true);
  expect(await readme.text()).toContain('The scratch space of Genomics Lab');

  const name = `notes-${Date.now() % 100000}.csv`;
  await page.getByLabel('Files').setInputFiles([{ name, mimeType: 'text/csv', buffer: Buffer.from(CSV) }]);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByTestId('uploads').locator(`[data-upload="${name}"]`).getByTestId('upload-status')).toHaveText('uploaded', { timeout: 15_000 });
  const mine = files.locator(`[data-file="${name}"]`);
  await expect(mine).toContainText('35 B');
  // Hers to delete; the README, which a workspace wrote, is the team admins'.
  await expect(mine.getByRole('button', { name: 'Delete' })).toBeVisible();
  await expect(files.locator('[data-file="README.txt"]').getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await mine.getByRole('button', { name: 'Delete' }).click();
  await mine.getByRole('button', { name: 'Delete for good' }).click();
  await expect(mine).toHaveCount(0);

  // gus, a guest, reads and downloads but has no upload.
  const guest = await browser.newPage();
  await signIn(guest, 'gus');
  await expect(guest).toHaveURL(/\/teams/);
  await guest.goto('/teams/genomics/scratch');
  await hydrated(guest);
  await expect(guest.getByTestId('study-files').locator('[data-file="README.txt"]')).toBeVisible();
  await expect(guest.getByTestId('upload')).toHaveCount(0);
  await guest.close();
});
