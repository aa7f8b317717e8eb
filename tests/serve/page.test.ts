// The chat page in a real headless Chromium (Debian's `chromium`, driven by playwright-core): it
// asks for the API key, streams an answer in, stops it, takes a thumbs down with a better answer,
// and that feedback is found in the database and in the JSONL the admin page exports. An answer
// holding <script> or an onerror attribute runs nothing. Screenshots at phone and desktop widths,
// light and dark, go to a temporary directory and to /tmp/cs-shots/. Skipped, with the reason,
// where no Chromium is installed (.ci/run installs it).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { tinyModelDir } from './helpers.js';
import { pacedEngine } from './chat-helpers.js';
import { createServer, type NablaServer } from '../../src/serve/app.js';
import { loadServedModel } from '../../src/serve/load.js';
import { openStore, type ConversationStore } from '../../src/serve/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { pgliteDataDir } from '../helpers/pglite.js';

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
const KEY = 'page-k3y';
const SHOTS = '/tmp/cs-shots';

describe.skipIf(!chromium)(`the chat page in Chromium${chromium ? '' : ' (skipped: no Chromium installed; .ci/run installs Debian’s chromium)'}`, () => {
  let store: ConversationStore;
  let server: NablaServer;
  let browser: Browser;
  let url = '';
  let shotsDir = '';
  beforeAll(async () => {
    const { chromium: pw } = await import('playwright-core');
    const [dir, data, shots] = await Promise.all([tinyModelDir(), pgliteDataDir('nabla-page-'), tempDir('nabla-shots-')]);
    shotsDir = shots;
    [store, browser] = await Promise.all([
      openStore({ data }),
      pw.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] }),
    ]);
    const loaded = await loadServedModel(dir, { parallel: 2 });
    // 40 ms a token: an answer takes seconds to arrive, as a real model's would, so it can be watched and stopped.
    server = await createServer({ name: 'tiny-shop', apiKey: KEY, model: { ...loaded, engine: pacedEngine(loaded.engine, 40) }, store, processMetrics: false });
    url = await server.listen({ port: 0 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close(0);
    await store?.close();
  });

  /** A tab whose errors fail the test (a CSP violation, an exception); `key`: the API key already given this session. */
  async function open(o: { key?: boolean; width?: number; height?: number; dark?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 800 }, colorScheme: o.dark ? 'dark' : 'light', acceptDownloads: true });
    if (o.key) await context.addInitScript((k) => sessionStorage.setItem('nabla-api-key', k), KEY);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // The browser logs every 401 it gets; the page answers those by asking for the key.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    page.on('dialog', (d) => {
      errors.push(`unexpected dialog: ${d.message()}`);
      void d.dismiss();
    });
    return { context, page, errors };
  }

  it('asks for the key, streams an answer in, stops it, takes a thumbs down with a better answer: in the database and the export', async () => {
    const { context, page, errors } = await open();
    try {
      await page.goto(`${url}/`);
      // The server wants a key: the page asks for it once.
      await page.locator('#api-key').waitFor();
      await page.screenshot({ path: join(shotsDir, 'key-dialog.png') });
      await page.locator('#api-key').fill(KEY);
      await page.locator('#api-key-ok').click();
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.locator('#model').textContent()).toBe('tiny-shop');

      await page.locator('#settings-toggle').click();
      await page.locator('#system-prompt').fill('You answer questions about the shop.');
      await page.locator('#temperature').fill('0'); // greedy: the tiny model's answer runs long
      await page.locator('#question').fill('Where is my order?');
      await page.locator('#question').press('Enter');

      // The answer grows while it streams.
      const answer = page.locator('.message.assistant .markdown').last();
      const lengths: number[] = [];
      for (let i = 0; i < 100 && lengths.length < 3; i++) {
        const n = ((await answer.textContent()) ?? '').length;
        if (n > (lengths.at(-1) ?? 0)) lengths.push(n);
        await page.waitForTimeout(60);
      }
      expect(lengths.length).toBeGreaterThanOrEqual(3); // it grew across observations (at least twice)
      await page.screenshot({ path: join(shotsDir, 'chat-streaming.png') });
      expect(await page.locator('#stop').isVisible()).toBe(true);
      await page.locator('#stop').click();

      // The stopped answer is stored with what was generated; the page shows it with its controls.
      const stopped = page.locator('.message.assistant[data-id]').last();
      await stopped.waitFor();
      expect(await stopped.locator('.meta').textContent()).toContain('stopped');
      expect(await page.locator('#send').isVisible()).toBe(true);
      const id = (await stopped.getAttribute('data-id'))!;
      const shown = (await stopped.locator('.markdown').textContent()) ?? '';
      expect(shown.length).toBeGreaterThanOrEqual(lengths[1]);

      await stopped.locator('.thumb.down').click();
      const editor = stopped.locator('.editor textarea');
      await editor.fill('Your order ships within 2 working days; the tracking link is in your confirmation email.');
      await stopped.locator('.editor button[type="submit"]').click();
      await stopped.locator('.correction').waitFor();
      expect(await stopped.locator('.correction').textContent()).toContain('ships within 2 working days');
      expect(await stopped.locator('.thumb.down').getAttribute('aria-pressed')).toBe('true');

      // In the database.
      const conversationId = /#c=([\w-]+)/.exec(page.url())![1];
      const stored = (await store.getConversation(conversationId))!;
      expect(stored.conversation.systemPrompt).toBe('You answer questions about the shop.');
      expect(stored.conversation.title).toBe('Where is my order?');
      const a = stored.messages.find((m) => m.id === id)!;
      expect(a).toMatchObject({ role: 'assistant', finishReason: 'abort', model: 'tiny-shop' });
      expect(a.sampling).toMatchObject({ temperature: 0 });
      expect(a.content.trim().startsWith(shown.trim().slice(0, 10))).toBe(true);
      expect(a.feedback).toMatchObject({ rating: 'down', correction: 'Your order ships within 2 working days; the tracking link is in your confirmation email.' });

      // The page lists the conversation; a reload shows it again from the store.
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.locator('.conversation-item .conversation-title').allTextContents()).toContain('Where is my order?');
      expect(await page.locator('.message.assistant .correction').last().textContent()).toContain('ships within 2 working days');

      // The admin page: filtered by rating, and the export (a download of the JSONL).
      await page.goto(`${url}/admin`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.locator('#rating').selectOption('corrected');
      await page.locator(`.admin-item[data-id="${conversationId}"]`).waitFor();
      await page.locator(`.admin-item[data-id="${conversationId}"] summary`).click();
      await page.locator(`.admin-item[data-id="${conversationId}"] .correction`).waitFor();
      await page.locator('#rating').selectOption('up');
      await page.locator(`.admin-item[data-id="${conversationId}"]`).waitFor({ state: 'detached' });
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
      expect(download.suggestedFilename()).toMatch(/^nabla-feedback-\d{4}-\d\d-\d\d\.jsonl$/);
      const lines = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toContainEqual({
        messages: [
          { role: 'system', content: 'You answer questions about the shop.' },
          { role: 'user', content: 'Where is my order?' },
          { role: 'assistant', content: 'Your order ships within 2 working days; the tracking link is in your confirmation email.' },
        ],
      });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('an answer holding <script>, onerror and javascript: links shows them as text and runs nothing', async () => {
    const c = await store.createConversation({ model: 'tiny-shop', title: 'Markup in an answer' });
    await store.addMessage({ conversationId: c.id, role: 'user', content: 'Show me <b>HTML</b>' });
    const evil = [
      'Here is **bold**, *italic*, `code <b>`, and a [safe link](https://example.com/help).',
      '<script>window.__xss = "script"</script>',
      '<img src=x onerror="window.__xss = \'img\'">',
      '[click me](javascript:window.__xss=%22link%22) and <a href="javascript:alert(1)">a</a>',
      '```html',
      '<script>window.__xss = "code"</script>',
      '```',
      '- one <svg onload="window.__xss=\'svg\'">',
      '- two',
    ].join('\n');
    const a = await store.addMessage({ conversationId: c.id, role: 'assistant', content: evil, model: 'tiny-shop', finishReason: 'stop' });
    await store.setFeedback(a.id, { rating: 'down', correction: 'Fixed: <img src=y onerror="window.__xss=\'correction\'">' });
    const { context, page, errors } = await open({ key: true });
    try {
      await page.goto(`${url}/#c=${c.id}`);
      await page.waitForSelector('body[data-ready="true"]');
      const m = page.locator(`.message.assistant[data-id="${a.id}"]`);
      await m.waitFor();
      const text = (await m.textContent()) ?? '';
      expect(text).toContain('<script>window.__xss = "script"</script>');
      expect(text).toContain('<img src=x onerror=');
      expect(text).toContain('Fixed: <img src=y onerror=');
      expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
      // Built as nodes: the markup is text, not elements.
      expect(await page.locator('#messages script, #messages img, #messages svg:not(.icon), #messages [onerror], #messages [onload]').count()).toBe(0);
      expect(await m.locator('strong').textContent()).toBe('bold');
      expect(await m.locator('em').textContent()).toBe('italic');
      expect(await m.locator('pre code').textContent()).toBe('<script>window.__xss = "code"</script>');
      const hrefs = await m.locator('a').evaluateAll((as) => as.map((x) => (x as HTMLAnchorElement).href));
      expect(hrefs).toEqual(['https://example.com/help']);
      expect(await m.locator('li').count()).toBe(2);
      // The user's own text is text too.
      expect(await page.locator('.message.user').first().textContent()).toBe('Show me <b>HTML</b>');
      expect(await page.locator('#messages b').count()).toBe(0);

      await page.goto(`${url}/admin`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.locator(`.admin-item[data-id="${c.id}"] summary`).click();
      await page.locator(`.admin-item[data-id="${c.id}"] .transcript`).waitFor();
      expect(await page.locator('.admin-list script, .admin-list img, .admin-list svg, .admin-list [onerror], .admin-list [onload]').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('without a store the page says how to start the server with one', async () => {
    const loaded = await loadServedModel(await tinyModelDir(), { parallel: 1 });
    const bare = await createServer({ name: 'no-store', model: loaded, processMetrics: false });
    const { context, page, errors } = await open();
    try {
      await page.goto(`${await bare.listen({ port: 0 })}/`);
      await page.locator('#banner').waitFor();
      expect(await page.locator('#banner').textContent()).toMatch(/--no-store.*--data DIR/);
      expect(await page.locator('#composer').evaluate((f) => (f as HTMLElement).inert)).toBe(true);
      expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
    } finally {
      await context.close();
      await bare.close(0);
    }
  });

  it('looks right at phone and desktop widths, light and dark (screenshots)', async () => {
    const c = await store.createConversation({ model: 'tiny-shop', title: 'Returning a jacket', systemPrompt: 'You are the shop assistant.' });
    await store.addMessage({ conversationId: c.id, role: 'user', content: 'How do I return a jacket that does not fit?' });
    const answer = [
      'You can return it within **30 days** of delivery:',
      '',
      '1. Open *My orders* and choose **Return an item**.',
      '2. Print the prepaid label.',
      '3. Drop the parcel at any post office.',
      '',
      'The refund reaches your card in `3-5` working days. See https://shop.example/returns for details.',
    ].join('\n');
    const a = await store.addMessage({
      conversationId: c.id,
      role: 'assistant',
      content: answer,
      model: 'tiny-shop',
      finishReason: 'stop',
      completionTokens: 58,
      timings: { predicted_per_second: 41.5 },
    });
    await store.setFeedback(a.id, { rating: 'up' });
    await store.addMessage({ conversationId: c.id, role: 'user', content: 'And if it was a gift?' });
    const b = await store.addMessage({ conversationId: c.id, role: 'assistant', content: 'Gifts can be returned too', model: 'tiny-shop', finishReason: 'abort', completionTokens: 6 });
    await store.setFeedback(b.id, { rating: 'down', correction: 'Gifts can be returned too: the refund goes to the person who paid, or as a gift card on request.' });

    mkdirSync(SHOTS, { recursive: true });
    const shots: string[] = [];
    for (const [label, width, height] of [
      ['phone', 390, 844],
      ['desktop', 1280, 800],
    ] as const) {
      for (const dark of [false, true]) {
        const { context, page, errors } = await open({ key: true, width, height, dark });
        try {
          await page.goto(`${url}/#c=${c.id}`);
          await page.waitForSelector('body[data-ready="true"]');
          await page.locator(`.message.assistant[data-id="${b.id}"] .correction`).waitFor();
          const name = `chat-${label}-${dark ? 'dark' : 'light'}.png`;
          await page.screenshot({ path: join(shotsDir, name) });
          shots.push(name);
          // No horizontal scrolling at either width.
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
          if (label === 'phone') {
            await page.locator('#menu').click();
            await page.waitForTimeout(300); // the drawer slides in
            const drawer = `chat-${label}-${dark ? 'dark' : 'light'}-menu.png`;
            await page.screenshot({ path: join(shotsDir, drawer) });
            shots.push(drawer);
          }
          await page.goto(`${url}/admin`);
          await page.waitForSelector('body[data-ready="true"]');
          await page.locator(`.admin-item[data-id="${c.id}"] summary`).click();
          await page.locator(`.admin-item[data-id="${c.id}"] .transcript`).waitFor();
          const admin = `admin-${label}-${dark ? 'dark' : 'light'}.png`;
          await page.screenshot({ path: join(shotsDir, admin) });
          shots.push(admin);
          expect(errors).toEqual([]);
        } finally {
          await context.close();
        }
      }
    }
    // and the two the first test took (the key dialog, an answer streaming in), when it ran
    for (const name of ['key-dialog.png', 'chat-streaming.png']) if (existsSync(join(shotsDir, name))) shots.push(name);
    for (const name of shots) {
      expect(statSync(join(shotsDir, name)).size).toBeGreaterThan(10_000); // a page, not a blank
      copyFileSync(join(shotsDir, name), join(SHOTS, name));
    }
    expect(shots.length).toBeGreaterThanOrEqual(10);
  });
});
