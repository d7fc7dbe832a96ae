// A real `yc-chat serve` process for the JS tests, and small helpers around it.
//
// The service runs against a `yc-chat emulator` process with a fixed Stream key and secret,
// and a fixed JWT secret for callers, so the tests can sign what a frontend would get
// from elsewhere (an expired Stream token, the emulator's server-side switches).
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

export const JWT_SECRET = 'js-tests-jwt-secret-' + 'j'.repeat(40);
export const STREAM_KEY = 'js-tests-stream-key';
export const STREAM_SECRET = 'js-tests-stream-secret-' + 's'.repeat(30);

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** An HS256 JWT, as PyJWT and Stream's SDKs sign them. */
export function signJwt(claims, secret) {
  const head = base64url({ alg: 'HS256', typ: 'JWT' });
  const body = base64url(claims);
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

/** A caller's bearer token for this service (what the host platform's login would give). */
export function bearer(userId) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub: userId, iat: now, exp: now + 600 }, JWT_SECRET);
}

/** A Stream user token that expired a minute ago. */
export function expiredStreamToken(userId) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ user_id: userId, iat: now - 120, exp: now - 60 }, STREAM_SECRET);
}

/** A server-side Stream token (the secret's holder), for the emulator's own switches. */
export function streamServerToken() {
  return signJwt({ server: true }, STREAM_SECRET);
}

export function fixture(now = new Date()) {
  const soon = new Date(now.getTime() + 2 * 60 * 1000).toISOString();
  return {
    orgs: [{ id: 'org-1', name: 'Happy Paws' }],
    users: [
      { id: 'vet-1', name: 'Dr. Ana Núñez', email: 'ana@hp.example', kind: 'staff' },
      { id: 'nurse-1', name: 'Priya Shah', email: 'priya@hp.example', kind: 'staff' },
      { id: 'admin-1', name: 'Maya Ortega', email: 'maya@hp.example', kind: 'staff' },
      { id: 'owner-1', name: 'Sam Lee', kind: 'pet_owner' },
    ],
    memberships: [
      { orgId: 'org-1', userId: 'vet-1', role: 'vet' },
      { orgId: 'org-1', userId: 'nurse-1', role: 'nurse' },
      { orgId: 'org-1', userId: 'admin-1', role: 'owner' },
    ],
    appointments: [
      {
        id: 'apt-1', orgId: 'org-1', petOwnerId: 'owner-1', vetId: 'vet-1',
        startsAt: soon, petName: 'Rex', petOwnerName: 'Sam Lee',
      },
    ],
  };
}

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

function command() {
  if (process.env.YC_CHAT) return process.env.YC_CHAT;
  const local = join(repo, '.venv', 'bin', 'yc-chat');
  return existsSync(local) ? local : 'yc-chat';
}

function spawnLogged(args, env) {
  const child = spawn(command(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  return { child, output: () => output };
}

async function waitUntilAnswering(what, url, started) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`${what} exited:\n${started.output()}`);
    try {
      await fetch(url);
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      started.child.kill('SIGTERM');
      throw new Error(`${what} did not answer in 30 s:\n${started.output()}`);
    }
    await sleep(100);
  }
}

async function stopChild(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Start `yc-chat serve` (extra args) beside its own `yc-chat emulator`, whose Stream key and
 * secret the tests know (a half-configured Stream is refused, so serve gets key, secret and
 * the emulator's address), and wait until both answer. */
export async function startServer({ args = [], seed = true } = {}) {
  const port = await freePort();
  const emulatorPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'yc-chat-js-'));
  const seedArgs = [];
  if (seed) {
    const file = join(dir, 'fixture.json');
    writeFileSync(file, JSON.stringify(fixture()));
    seedArgs.push('--seed', file);
  }
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(JWT_|STREAM_|MONGODB_|REDIS_|TOKEN_RATE|WRITE_RATE)/.test(key),
    ),
  );
  Object.assign(env, {
    JWT_SECRET,
    STREAM_API_KEY: STREAM_KEY,
    STREAM_API_SECRET: STREAM_SECRET,
    WRITE_RATE_LIMIT: 'off',
    TOKEN_RATE_LIMIT: 'off',
    LOG_LEVEL: 'WARNING',
  });
  const base = `http://127.0.0.1:${port}`;
  const emulator = spawnLogged(
    ['emulator', '--host', '127.0.0.1', '--port', String(emulatorPort),
      '--webhook-url', `${base}/api/webhooks/stream`],
    env,
  );
  await waitUntilAnswering('yc-chat emulator', `http://127.0.0.1:${emulatorPort}/`, emulator);
  const served = spawnLogged(
    ['serve', '--host', '127.0.0.1', '--port', String(port), ...seedArgs, ...args],
    { ...env, STREAM_BASE_URL: `http://127.0.0.1:${emulatorPort}` },
  );
  try {
    await waitUntilAnswering('yc-chat serve', `${base}/healthz`, served);
  } catch (error) {
    await stopChild(emulator.child);
    throw error;
  }
  return {
    base,
    output: () => served.output() + emulator.output(),
    async stop() {
      await stopChild(served.child);
      await stopChild(emulator.child);
    },
  };
}

/** The seeded `yc-chat serve` of one test file: started before its tests; after them, every
 * SDK client put in `clients` is disconnected and the server stopped. */
export function serveDuringTests() {
  const served = { server: undefined, clients: [] };
  before(async () => {
    served.server = await startServer();
  });
  after(async () => {
    await Promise.all(served.clients.map((client) => client.disconnectUser().catch(() => {})));
    await served.server?.stop();
  });
  return served;
}

/** Call this service's API as `userId`; returns {status, body}. */
export async function api(server, method, path, userId, body) {
  const response = await fetch(server.base + path, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(userId ? { Authorization: `Bearer ${bearer(userId)}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The token endpoint's answer for `userId` ({token, expiresAt, apiKey, baseUrl}). */
export async function chatToken(server, userId) {
  const { status, body } = await api(server, 'POST', '/api/chat/token', userId, { userId });
  if (status !== 200) throw new Error(`token for ${userId}: ${status} ${JSON.stringify(body)}`);
  return body;
}

export function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

/** Resolve with the first event of `type` on `target` (a client or channel) matching `test`. */
export function nextEvent(target, type, test = () => true, timeoutMs = 10_000) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      fail(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = target.on(type, (event) => {
      if (!test(event)) return;
      clearTimeout(timer);
      subscription.unsubscribe();
      done(event);
    });
  });
}
