// The official React UI kit (stream-chat-react 13 on stream-chat 9) between two users in
// Debian's Chromium against a real `yc-chat serve --demo`: a small app of the kit's standard
// components (react-kit/app.jsx, bundled here with esbuild), the vet and the pet owner each
// in their own browser context. Every assertion reads what the kit rendered.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { StreamChat } from 'stream-chat';

import { STREAM_KEY, STREAM_SECRET, startServer } from './support.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const found = existsSync(CHROMIUM);
if (!found && process.env.CI === 'true') {
  throw new Error(`Chromium is required under CI (looked for ${CHROMIUM})`);
}
const skip = found ? false : `SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)`;
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
const PAGE = '<!doctype html><meta charset="utf-8"><title>Clinic (React kit)</title>'
  + '<link rel="stylesheet" href="/kit/app.css"><div id="root"></div>'
  + '<script type="module" src="/kit/app.js"></script>';

let server;
let browser;
let bundle;
let config;
let appointmentChat;
let colleagueChat;
let vet;
let owner;

/** The app bundled for the browser (the kit, React and stream-chat from node_modules). */
async function buildApp() {
  const outdir = mkdtempSync(join(tmpdir(), 'yc-chat-react-kit-'));
  await build({
    entryPoints: [join(here, 'react-kit', 'app.jsx')],
    bundle: true,
    outdir,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.eot': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
    publicPath: '/kit/',
    logLevel: 'error',
  });
  return outdir;
}

/** One user's app in its own browser context: every response status and page error kept. */
async function openApp(persona) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  // The app is served from the service's origin (as a frontend behind the same host would
  // be), so its calls to /api and /demo/config.json are same-origin.
  await context.route(`${server.base}/kit/**`, (route) => {
    const name = new URL(route.request().url()).pathname.slice('/kit/'.length) || 'index.html';
    if (name === 'index.html') return route.fulfill({ contentType: TYPES['.html'], body: PAGE });
    const file = join(bundle, name);
    if (!existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({
      contentType: TYPES[extname(name)] ?? 'application/octet-stream',
      body: readFileSync(file),
    });
  });
  const page = await context.newPage();
  const seen = { statuses: [], errors: [] };
  page.on('response', (response) => seen.statuses.push([response.status(), response.url()]));
  page.on('pageerror', (error) => seen.errors.push(String(error)));
  await page.goto(`${server.base}/kit/?persona=${persona}`);
  await page.waitForSelector('body[data-ready="true"], .kit-error', { state: 'attached', timeout: 30_000 });
  const failed = await page.locator('.kit-error').allTextContents();
  assert.deepEqual([failed, seen.errors], [[], []], `the ${persona}'s app did not start`);
  return { context, page, seen };
}

async function callService(persona, method, path, body) {
  const response = await fetch(server.base + path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${persona.bearer}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status}`);
  return response.json();
}

before(async () => {
  if (skip) return;
  [server, bundle] = await Promise.all([
    startServer({ args: ['--demo'], seed: false }),
    buildApp(),
  ]);
  config = await (await fetch(`${server.base}/demo/config.json`)).json();
  const persona = (key) => config.personas.find((candidate) => candidate.key === key);
  // The chats are opened through this service, as the console does: the pet owner's
  // appointment chat, and the vet's DM with a colleague (whose app is not open here).
  appointmentChat = (await callService(persona('owner'), 'POST', '/api/chat/channels', {
    appointmentId: config.appointmentId,
  })).channelId;
  colleagueChat = (await callService(persona('vet'), 'POST', '/api/chat/channels/internal', {
    orgId: config.orgId, memberIds: [persona('vet').userId, config.colleagueId],
    createdBy: persona('vet').userId,
  })).channelId;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // The app's page is answered by the test (route.fulfill), so Chromium cannot tell it
      // came from 127.0.0.1 and would block its WebSocket to the emulator as a public page
      // reaching into the local network; the real console is served over loopback.
      '--disable-features=LocalNetworkAccessChecks',
    ],
  });
  [vet, owner] = await Promise.all([openApp('vet'), openApp('owner')]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (bundle) rmSync(bundle, { recursive: true, force: true });
});

// A valid 1x1 PNG, so Chromium decodes and shows it like any photo.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const previews = (app) => app.page.getByTestId('channel-preview-button');
// The appointment chat's preview (the vet also has a DM with a colleague).
const preview = (app) => previews(app).filter({ hasText: 'Sam Lee' }).first();
const badge = (app) => preview(app).getByTestId('unread-badge');
const main = (app) => app.page.locator('.str-chat__main-panel');
const thread = (app) => app.page.locator('.str-chat__thread');
const message = (scope, text) => scope.locator('.str-chat__message', { hasText: text }).last();

/** Type into the main composer and send with Enter, as a user does. */
async function send(app, text) {
  const input = main(app).locator('textarea');
  await input.fill(text);
  await input.press('Enter');
  await message(main(app), text).waitFor();
}

/** Open a message's action menu (hover shows the options) and pick `item`. */
async function messageAction(app, text, item) {
  const target = message(main(app), text);
  await target.hover();
  await target.getByTestId('message-actions-toggle-button').click();
  await app.page.getByTestId('message-actions-box').getByText(item, { exact: true }).click();
}

/** Wait until a message's action menu offers `item` (reopened until it does). */
async function actionOffered(app, text, item) {
  const target = message(main(app), text);
  const offered = app.page.getByTestId('message-actions-box').getByText(item, { exact: true });
  await waitFor(async () => {
    await target.hover();
    await target.getByTestId('message-actions-toggle-button').click();
    const found = await offered.isVisible();
    await app.page.keyboard.press('Escape');
    return found;
  });
}

describe('the React kit between the vet and the pet owner', { skip }, () => {
  test('the owner writes: the vet gets an unread badge, which clears when the vet opens the chat', async () => {
    await preview(owner).click();
    await main(owner).locator('.str-chat__channel-header').waitFor();
    await preview(vet).waitFor();
    assert.equal(await badge(vet).count(), 0);

    await send(owner, 'Hello, Rex is limping');
    await badge(vet).filter({ hasText: '1' }).waitFor();
    await preview(vet).filter({ hasText: 'Hello, Rex is limping' }).waitFor();

    await preview(vet).click();
    await message(main(vet), 'Hello, Rex is limping').waitFor();
    await badge(vet).waitFor({ state: 'detached' });
  });

  test('typing shows on the other side, and a reply arrives live', async () => {
    await main(vet).locator('textarea').pressSequentially('Since when', { delay: 20 });
    await main(owner).getByTestId('typing-indicator').filter({ hasText: 'Dr. Ana Núñez is typing' }).waitFor();
    await main(vet).locator('textarea').press('Enter');
    await message(main(owner), 'Since when').waitFor();
    // Both have the chat open: the kit marks what arrives read, so no badge stays.
    await badge(owner).waitFor({ state: 'detached' });
    await badge(vet).waitFor({ state: 'detached' });
  });

  test('a thread reply: the other side sees "1 reply" and the reply in its Thread', async () => {
    const parent = message(main(vet), 'Hello, Rex is limping');
    await parent.hover();
    await parent.getByTestId('thread-action').click();
    const input = thread(vet).locator('textarea');
    await input.fill('Does he put weight on the paw?');
    await input.press('Enter');
    await message(thread(vet), 'Does he put weight on the paw?').waitFor();

    const count = message(main(owner), 'Hello, Rex is limping').getByTestId('replies-count-button');
    await count.filter({ hasText: '1 reply' }).waitFor();
    await message(main(vet), 'Hello, Rex is limping')
      .getByTestId('replies-count-button').filter({ hasText: '1 reply' }).waitFor();
    await count.click();
    await message(thread(owner), 'Does he put weight on the paw?').waitFor();
  });

  test('a photo uploaded through MessageInput shows on both sides and its URL serves it', async () => {
    await main(owner).getByTestId('file-input').setInputFiles({
      name: 'rex-paw.png', mimeType: 'image/png', buffer: PNG,
    });
    // The composer's preview shows the uploaded URL once the emulator has answered.
    await main(owner).getByTestId('attachment-preview-image').locator('img[src*="/uploads/"]').waitFor();
    await send(owner, 'His paw today');
    const sources = [];
    for (const app of [owner, vet]) {
      const image = message(main(app), 'His paw today').getByTestId('image-test');
      await image.waitFor();
      sources.push(await image.getAttribute('src'));
    }
    assert.equal(sources[0], sources[1]);
    assert.match(sources[0], /\/uploads\/[0-9a-f]+\/rex-paw\.png/);
    const served = await fetch(sources[0]);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG);
  });

  test('a file uploaded through MessageInput shows on both sides and downloads', async () => {
    const report = Buffer.from('%PDF-1.4\n% lab results for Rex\n%%EOF\n');
    await main(owner).getByTestId('file-input').setInputFiles({
      name: 'lab-results.pdf', mimeType: 'application/pdf', buffer: report,
    });
    await main(owner).getByTestId('attachment-preview-file').waitFor();
    await waitFor(() => main(owner).getByTestId('send-button').isEnabled());
    await main(owner).getByTestId('send-button').click();
    const links = [];
    for (const app of [owner, vet]) {
      const file = main(app).getByTestId('attachment-file').filter({ hasText: 'lab-results.pdf' });
      await file.waitFor();
      links.push(await file.locator('a[href*="/uploads/"]').getAttribute('href'));
    }
    assert.equal(links[0], links[1]);
    const served = await fetch(links[0]);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'application/pdf');
    // Not an image: a download, never shown inline from the emulator's origin.
    assert.match(served.headers.get('content-disposition'), /^attachment;/);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), report);
  });

  test('a reaction shows on the other side', async () => {
    const target = message(main(vet), 'His paw today');
    await target.hover();
    await target.getByTestId('message-reaction-action').click();
    await vet.page.getByTestId('reaction-selector').getByTestId('select-reaction-button').first().click();
    await vet.page.keyboard.press('Escape');
    await message(main(owner), 'His paw today').getByTestId('reaction-list').filter({ hasText: '1' }).waitFor();
  });

  test('an edit and a delete show on the other side', async () => {
    await send(owner, 'He eats normaly');
    await message(main(vet), 'He eats normaly').waitFor();
    await messageAction(owner, 'He eats normaly', 'Edit Message');
    const editor = owner.page.locator('.str-chat__edit-message-form');
    await editor.locator('textarea').fill('He eats normally');
    await editor.getByTestId('send-button-edit-form').click();
    await message(main(vet), 'He eats normally').getByText('Edited', { exact: true }).waitFor();

    await messageAction(owner, 'He eats normally', 'Delete');
    await main(vet).getByText('This message was deleted...').waitFor();
    assert.equal(await message(main(vet), 'He eats normally').count(), 0);
  });

  test('the vet mutes the owner: the kit offers "Unmute", and "Mute" again once unmuted', async () => {
    await messageAction(vet, 'His paw today', 'Mute');
    await actionOffered(vet, 'His paw today', 'Unmute');
    // Through the client, not the menu: the kit's menu labels its item from the chat's mutes
    // but its handler reads the channel's copy, which may not have re-rendered yet.
    await vet.page.evaluate(() => window.kit.client.unmuteUser('owner-sam'));
    await actionOffered(vet, 'His paw today', 'Mute');
  });

  test('mark all read clears the badges', async () => {
    // A fresh start of the vet's app: nothing open, read state as the emulator keeps it.
    await vet.page.reload();
    await vet.page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    await preview(vet).waitFor();
    assert.equal(await badge(vet).count(), 0);
    await send(owner, 'Also, he sleeps a lot');
    await send(owner, 'Is that normal?');
    await badge(vet).filter({ hasText: '2' }).waitFor();

    await vet.page.getByTestId('mark-all-read').click();
    await badge(vet).waitFor({ state: 'detached' });
    assert.ok(vet.seen.statuses.some(([status, url]) => status < 300 && /\/channels\/read\?/.test(url)));
    await vet.page.reload();
    await vet.page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    await preview(vet).filter({ hasText: 'Is that normal?' }).waitFor();
    assert.equal(await badge(vet).count(), 0);
  });

  test('a new message moves its chat to the top of the list', async () => {
    // The colleague writes from elsewhere (their app, here the server-side SDK for them).
    const baseUrl = await vet.page.evaluate(() => window.kit.client.baseURL);
    const stream = new StreamChat(STREAM_KEY, STREAM_SECRET, { baseURL: baseUrl });
    await stream.channel('messaging', colleagueChat).sendMessage({
      text: 'Can you check room 2?', user_id: config.colleagueId,
    });
    const top = previews(vet).first();
    await top.filter({ hasText: 'Can you check room 2?' }).waitFor();
    await top.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await send(owner, 'We are in the waiting room');
    await top.filter({ hasText: 'We are in the waiting room' }).waitFor();
    assert.equal(await previews(vet).nth(1).filter({ hasText: 'Can you check room 2?' }).count(), 1);
  });

  test("the owner's app loses its connection, says so, reconnects and catches up", async () => {
    await preview(vet).click();
    const notice = main(owner).getByText('Connection failure, reconnecting now...');
    await owner.context.setOffline(true);
    await notice.waitFor();
    await send(vet, 'Are you still there?');
    await owner.context.setOffline(false);
    await notice.waitFor({ state: 'detached' });
    await message(main(owner), 'Are you still there?').waitFor();
  });

  test("the vet ends the chat: the owner's next message fails and never reaches the vet", async () => {
    const vetPersona = config.personas.find((candidate) => candidate.key === 'vet');
    await callService(vetPersona, 'POST', `/api/chat/channels/${appointmentChat}/end`);
    await waitFor(() => owner.page.evaluate(
      () => Object.values(window.kit.client.activeChannels).some((c) => c.data?.frozen === true),
    ));
    const input = main(owner).locator('textarea');
    await input.fill('Thank you, doctor');
    await input.press('Enter');
    await message(main(owner), 'Thank you, doctor').getByText(/Message Failed/).waitFor();
    assert.equal(await message(main(vet), 'Thank you, doctor').count(), 0);
  });

  test('no 5xx from the service or the emulator, and no page errors, on either side', () => {
    for (const app of [vet, owner]) {
      // The service's answers and the emulator's (its own origin) were both recorded.
      assert.ok(app.seen.statuses.some(([, url]) => url.startsWith(`${server.base}/api/`)));
      assert.ok(app.seen.statuses.some(([, url]) => !url.startsWith(server.base)));
      assert.deepEqual(app.seen.statuses.filter(([status]) => status >= 500), []);
      assert.deepEqual(app.seen.errors, []);
    }
  });
});

async function waitFor(check, timeout = 10_000, explain = async () => '') {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not true within ${timeout} ms: ${check} ${await explain()}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
