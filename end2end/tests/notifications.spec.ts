import { expect, test } from '@playwright/test';
import { createServer } from 'http';
import { AddressInfo } from 'net';
import { hydrated, signIn } from './helpers';

test('grace registers a Slack webhook, sends a test message to it, and the URL is never shown back', async ({ page }) => {
  // A webhook receiver on this machine, as Slack would be.
  const received: any[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body));
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/T000/B000/secret-token`;

  try {
    await signIn(page, 'grace');
    await expect(page).toHaveURL(/\/teams$/);
    await page.getByRole('link', { name: 'Notifications' }).click();
    await hydrated(page);
    await page.getByLabel('Name', { exact: true }).fill('Physics channel');
    await page.getByLabel('Team (empty for all teams)').fill('physics');
    await page.getByLabel('Incoming webhook URL').fill(url);
    await page.getByRole('button', { name: 'Add target' }).click();
    const target = page.getByTestId('notification-target').filter({ hasText: 'Physics channel' });
    await expect(target).toContainText('Slack · physics');
    await expect(target).toContainText('…oken');
    expect(await page.content()).not.toContain('secret-token');

    await target.getByRole('button', { name: 'Send test' }).click();
    await expect(page.getByTestId('notification-message')).toContainText('delivered');
    expect(received).toHaveLength(1);
    expect(received[0].text).toContain('Test message from Atrium');
    expect(received[0].blocks[0].type).toBe('header');
  } finally {
    receiver.close();
  }
});
