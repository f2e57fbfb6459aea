/**
 * End to end in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) opens the demo page, sends a name and sees the Go JSON reply in the log.
 * Skipped only when Chromium is missing outside CI; in CI (.ci/run installs it) it must run.
 */
import { existsSync } from 'fs';
import { chromium, Browser } from 'playwright-core';
import { BackendHandle, startBackend } from '../../src/backend';
import { startProxy } from '../../src/proxy';
import { recordingSession, waitFor } from '../proxy/helpers';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM) || Boolean(process.env.CI);
const maybe = available ? describe : describe.skip;

maybe('demo page in headless Chromium', () => {
  let backend: BackendHandle;
  let browser: Browser;

  beforeAll(async () => {
    backend = await startBackend({ port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await backend?.close();
  });

  test('type a name, press Send, see the JSON reply; the long texts and the binary button work too', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`http://${backend.address}/`);
    await page.locator('#status.open').waitFor({ timeout: 30000 });

    await page.fill('#message', '张三 <Tom>');
    await page.click('#send');
    const reply = page.locator('#log li.received').first();
    await reply.waitFor({ timeout: 30000 });
    const text = await reply.textContent();
    // The log shows the reply text with its final newline as ⏎ and its length in bytes.
    expect(text).toContain('{"name":"张三 \\u003cTom\\u003e","age":18,"description":"张三 \\u003cTom\\u003e很厉害!!!!"}⏎');
    expect(text).toContain('(95 bytes)'); // 9 + 22 + 26 + 35 + 3

    await page.click('#send-binary'); // no answer expected
    await page.click('#send-126');
    await page.click('#send-65536');
    await page.locator('#log li.received').nth(2).waitFor({ timeout: 30000 });
    const received = await page.locator('#log li.received .meta').allTextContents();
    // 126 ASCII bytes -> 9 + 126 + 26 + 139 + 3 = 303; 65,536 -> 131,123.
    expect(received).toEqual(['  (95 bytes)', '  (303 bytes)', '  (131,123 bytes)']);

    await page.screenshot({ path: '/tmp/wsscope-demo-page.png' });
    await page.close();
  }, 90000);

  test('through the proxy: the page and its WebSocket, no /favicon.ico 404 among the connections on the projector', async () => {
    const rec = recordingSession();
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: `ws://${backend.address}/json`, session: rec.session });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      await page.locator('#status.open').waitFor({ timeout: 30000 });
      await page.fill('#message', 'hi');
      await page.click('#send');
      await page.locator('#log li.received').first().waitFor({ timeout: 30000 });
      await page.close();
      await waitFor(() => rec.of('end').length === rec.of('open').length, 'every connection ended');
      expect(rec.of('http').map((e) => e.request.target)).toEqual(['/']);
      expect(rec.of('handshake').map((e) => e.request.target)).toEqual(['/json']);
    } finally {
      await proxy.close();
    }
  }, 90000);
});
