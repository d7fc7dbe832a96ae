// Issue 19, finding 4: a socket that watched a channel kept receiving its messages after its
// user was removed from it. Here the official JS SDK watches a group, its user is removed
// through this service (by the group's creator, or offboarded by an org admin), and nothing
// said in the group afterwards reaches that socket.
//
// Absence is proven by order, not by waiting: after the group's message, the server posts a
// marker in another channel the user is in. One socket delivers in order, so once the marker
// is in, anything the group sent before it would be in too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamChat } from 'stream-chat';

import { api, chatToken, nextEvent, serveDuringTests, streamServerToken } from './support.mjs';

const service = serveDuringTests();

/** A connected SDK client that fetches its tokens from this service (as the apps do). */
async function connected(userId) {
  const { apiKey, baseUrl } = await chatToken(service.server, userId);
  const client = new StreamChat(apiKey, { baseURL: baseUrl, allowServerSideConnect: true });
  service.clients.push(client);
  await client.connectUser({ id: userId }, async () => (await chatToken(service.server, userId)).token);
  return client;
}

/** Stream's REST API with the app's secret, as a server-side test fixture. */
async function asServer(method, path, body) {
  const { apiKey, baseUrl } = await chatToken(service.server, 'vet-1');
  const response = await fetch(`${baseUrl}${path}?api_key=${apiKey}`, {
    method,
    headers: {
      Authorization: streamServerToken(),
      'Stream-Auth-Type': 'jwt',
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

async function group(name, creator, members) {
  const { status, body } = await api(service.server, 'POST', '/api/chat/channels/group', creator, {
    orgId: 'org-1', name, memberIds: members, createdBy: creator,
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body.channelId;
}

/** Every message text the client's sockets delivered, collected from now on. */
function recordTexts(client) {
  const texts = [];
  client.on((event) => {
    if (event.message?.text) texts.push(`${event.cid}|${event.message.text}`);
  });
  return texts;
}

async function markerChannel(id, userId) {
  await asServer('POST', `/channels/messaging/${id}/query`, {
    data: { created_by_id: 'vet-1', members: ['vet-1', userId] },
  });
}

async function sayInMarker(id, text) {
  await asServer('POST', `/channels/messaging/${id}/message`, {
    message: { text, user_id: 'vet-1' },
  });
}

test("a group's creator removes a member: their socket hears nothing more of it", async () => {
  const groupId = await group('Night shift', 'vet-1', ['nurse-1']);
  await markerChannel('marker-removal', 'nurse-1');
  const vet = await connected('vet-1');
  const nurse = await connected('nurse-1');
  const watched = nurse.channel('messaging', groupId);
  await watched.watch();
  await nurse.channel('messaging', 'marker-removal').watch();
  const texts = recordTexts(nurse);
  const vetGroup = vet.channel('messaging', groupId);
  await vetGroup.watch();

  const before = nextEvent(watched, 'message.new', (e) => e.message?.text === 'still in');
  await vetGroup.sendMessage({ text: 'still in' });
  await before;

  const { status } = await api(service.server, 'POST', `/api/chat/channels/group/${groupId}/members`,
    'vet-1', { remove: ['nurse-1'], addedBy: 'vet-1' });
  assert.equal(status, 200);
  await vetGroup.sendMessage({ text: 'CONFIDENTIAL after removal' });
  await vetGroup.keystroke();
  const marker = nextEvent(nurse, 'message.new', (e) => e.message?.text === 'marker 1');
  await sayInMarker('marker-removal', 'marker 1');
  await marker;

  assert.ok(texts.length > 0);
  assert.ok(!texts.some((t) => t.includes('CONFIDENTIAL')), texts.join('\n'));
  assert.ok(!('vet-1' in watched.state.typing));
});

test('an offboarded member: their socket hears nothing more of the org\'s groups', async () => {
  const groupId = await group('Rota', 'admin-1', ['vet-1', 'nurse-1']);
  await markerChannel('marker-offboarding', 'nurse-1');
  const admin = await connected('admin-1');
  const nurse = await connected('nurse-1');
  await nurse.channel('messaging', groupId).watch();
  await nurse.channel('messaging', 'marker-offboarding').watch();
  const texts = recordTexts(nurse);
  const adminGroup = admin.channel('messaging', groupId);
  await adminGroup.watch();

  // Offboarding also revokes the tokens she holds: the socket closes, and the SDK comes
  // back with a fresh token from this service (as the apps do) and watches again.
  // The SDK's reconnect backs off for seconds before it fetches the new token.
  const recovered = nextEvent(nurse, 'connection.recovered', () => true, 60_000);
  const { status } = await api(service.server, 'DELETE', '/api/orgs/org-1/members/nurse-1', 'admin-1');
  assert.equal(status, 200);
  await recovered;
  await adminGroup.sendMessage({ text: 'CONFIDENTIAL after offboarding' });
  const marker = Promise.race([
    nextEvent(nurse, 'message.new', (e) => e.message?.text === 'marker 2'),
    nextEvent(nurse, 'notification.message_new', (e) => e.message?.text === 'marker 2'),
  ]);
  await sayInMarker('marker-offboarding', 'marker 2');
  await marker;

  assert.ok(!texts.some((t) => t.includes('CONFIDENTIAL')), texts.join('\n'));
});
