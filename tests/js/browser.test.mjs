// The clinic console of `yc-chat serve --demo` in headless Chromium (Debian's package,
// driven by playwright-core): the vet and the pet owner side by side, live.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { startServer } from './support.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const found = existsSync(CHROMIUM);
if (!found && process.env.CI === 'true') {
  throw new Error(`Chromium is required under CI (looked for ${CHROMIUM})`);
}
const skip = found ? false : `SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)`;

let server;
let context;
let profile;

before(async () => {
  if (skip) return;
  server = await startServer({ args: ['--demo'], seed: false });
  profile = mkdtempSync(join(tmpdir(), 'yc-chat-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 720 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
});

after(async () => {
  await context?.close();
  await server?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('vet and pet owner talk live, and ending the chat closes it on both sides', { skip }, async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.goto(`${server.base}/demo/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

  const vet = page.locator('[data-persona="vet"]');
  const owner = page.locator('[data-persona="owner"]');
  await assertText(vet.locator('.who .status'), 'online');
  await assertText(owner.locator('.who .status'), 'online');
  // The channel lists carry the audience pills from chatCategory.
  assert.ok((await vet.locator('.pill.client').count()) >= 1);
  assert.ok((await vet.locator('.pill.colleague, .pill.group').count()) >= 1);
  assert.ok((await owner.locator('.pill.client').count()) >= 1);
  assert.equal(await owner.locator('.pill.colleague').count(), 0);

  // The vet writes; the pet owner's side shows it.
  await vet.getByLabel('message').fill('Hello Sam, how is Rex today?');
  await vet.getByRole('button', { name: 'Send' }).click();
  await owner.locator('.message', { hasText: 'Hello Sam, how is Rex today?' }).waitFor();

  // The owner starts typing: the vet sees the indicator.
  await owner.getByLabel('message').pressSequentially('He is', { delay: 30 });
  await assertText(vet.locator('[data-testid="typing"]'), 'Sam Lee is typing…');
  // The owner's open chat marks the message read: the vet sees the read mark.
  await vet.locator('.message.own .read-mark', { hasText: 'Seen' }).first().waitFor();

  await vet.getByRole('button', { name: 'End chat' }).click();
  await vet.locator('.session-closed', { hasText: 'Session closed' }).waitFor();
  await owner.locator('.session-closed', { hasText: 'Session closed' }).waitFor();
  assert.equal(await owner.getByLabel('message').isDisabled(), true);
  assert.equal(await vet.getByRole('button', { name: 'End chat' }).count(), 0);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'clinic-console.png') });
  assert.deepEqual(problems, []);
});

async function assertText(locator, expected, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let seen;
  while (Date.now() < deadline) {
    seen = await locator.textContent();
    if (seen?.includes(expected)) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  assert.fail(`expected "${expected}", saw "${seen}"`);
}
