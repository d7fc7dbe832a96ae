// The official stream-chat JS SDK (v9, what the clinic web app and the pet-owner app use)
// against a real `yc-chat serve` process and its built-in Stream emulator.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { StreamChat } from 'stream-chat';

import {
  api,
  chatToken,
  expiredStreamToken,
  nextEvent,
  serveDuringTests,
  streamServerToken,
} from './support.mjs';

const service = serveDuringTests();

/** A fresh SDK client configured only from this service's token answer. */
async function sdkFor(userId) {
  const { apiKey, baseUrl } = await chatToken(service.server, userId);
  // A new instance each time (not getInstance): two users in one process.
  const client = new StreamChat(apiKey, {
    baseURL: baseUrl,
    timeout: 10_000,
    // Node stands in for the browser and the phone here.
    allowServerSideConnect: true,
  });
  service.clients.push(client);
  return client;
}

async function openAppointmentChat(userId) {
  const { status, body } = await api(service.server, 'POST', '/api/chat/channels', userId, {
    appointmentId: 'apt-1',
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body.channelId;
}

describe('two users on the appointment chat', () => {
  let vet;
  let owner;
  let vetChannel;
  let ownerChannel;
  let providerCalls = 0;

  before(async () => {
    const channelId = await openAppointmentChat('owner-1');
    vet = await sdkFor('vet-1');
    owner = await sdkFor('owner-1');
    // The vet with a static token, the pet owner with a token provider (as the apps do).
    const { token } = await chatToken(service.server, 'vet-1');
    const vetHello = await vet.connectUser({ id: 'vet-1' }, token);
    const ownerHello = await owner.connectUser({ id: 'owner-1' }, async () => {
      providerCalls += 1;
      return (await chatToken(service.server, 'owner-1')).token;
    });
    assert.equal(vetHello.me.id, 'vet-1');
    assert.equal(vetHello.me.name, 'Dr. Ana Núñez');
    assert.equal(ownerHello.me.id, 'owner-1');
    assert.ok(owner.wsConnection?.isHealthy);
    vetChannel = vet.channel('messaging', channelId);
    ownerChannel = owner.channel('messaging', channelId);
    await vetChannel.watch();
    await ownerChannel.watch();
  });

  test('both watch the chat with its data, config and capabilities', () => {
    for (const channel of [vetChannel, ownerChannel]) {
      assert.equal(channel.data.chatCategory, 'client');
      assert.equal(channel.data.status, 'active');
      assert.equal(channel.data.frozen, false);
      assert.equal(channel.getConfig().typing_events, true);
      assert.ok(channel.data.own_capabilities.includes('send-message'));
      assert.deepEqual(Object.keys(channel.state.members).sort(), ['owner-1', 'vet-1']);
    }
    assert.ok(providerCalls >= 1);
  });

  test('a message from one reaches the other over the socket', async () => {
    const arrived = nextEvent(ownerChannel, 'message.new', (e) => e.message?.text === 'Hi Sam');
    const sent = await vetChannel.sendMessage({ text: 'Hi Sam' });
    const event = await arrived;
    assert.equal(event.message.id, sent.message.id);
    assert.equal(event.user.id, 'vet-1');
    assert.ok(ownerChannel.state.messages.some((m) => m.id === sent.message.id));
    assert.equal(ownerChannel.countUnread(), 1);
  });

  test('typing events arrive', async () => {
    const started = nextEvent(vetChannel, 'typing.start', (e) => e.user?.id === 'owner-1');
    await ownerChannel.keystroke();
    await started;
    assert.ok('owner-1' in vetChannel.state.typing);
    const stopped = nextEvent(vetChannel, 'typing.stop', (e) => e.user?.id === 'owner-1');
    await ownerChannel.stopTyping();
    await stopped;
    assert.ok(!('owner-1' in vetChannel.state.typing));
  });

  test('read events arrive and reset the unread count', async () => {
    const read = nextEvent(vetChannel, 'message.read', (e) => e.user?.id === 'owner-1');
    const own = nextEvent(ownerChannel, 'message.read', (e) => e.user?.id === 'owner-1');
    await ownerChannel.markRead();
    await Promise.all([read, own]);
    const lastRead = vetChannel.state.read['owner-1'];
    assert.ok(lastRead.last_read instanceof Date);
    assert.equal(ownerChannel.countUnread(), 0);
  });

  test('the reader hears notification.mark_read while watching, and the badge clears', async () => {
    const arrived = nextEvent(ownerChannel, 'message.new', (e) => e.message?.text === 'unread one');
    await vetChannel.sendMessage({ text: 'unread one' });
    await arrived;
    assert.equal(ownerChannel.countUnread(), 1);
    // The React kit's ChannelPreview resets its badge on this client event.
    const notice = nextEvent(owner, 'notification.mark_read', (e) => e.cid === ownerChannel.cid);
    const seen = nextEvent(vetChannel, 'message.read', (e) => e.user?.id === 'owner-1');
    await ownerChannel.markRead();
    const [event] = await Promise.all([notice, seen]);
    assert.equal(event.unread_count, 0);
    assert.equal(event.total_unread_count, 0);
    assert.equal(ownerChannel.countUnread(), 0);
  });

  test('mark all read clears every badge', async () => {
    const arrived = nextEvent(ownerChannel, 'message.new', (e) => e.message?.text === 'unread two');
    await vetChannel.sendMessage({ text: 'unread two' });
    await arrived;
    assert.equal(ownerChannel.countUnread(), 1);
    const notice = nextEvent(owner, 'notification.mark_read', (e) => !e.cid);
    await owner.markAllRead();
    const event = await notice;
    assert.equal(event.unread_channels, 0);
    assert.equal(ownerChannel.countUnread(), 0);
  });

  test('a reply updates the reply count of its parent on both sides', async () => {
    const parent = (await vetChannel.sendMessage({ text: 'Any vomiting?' })).message;
    const vetSees = nextEvent(vetChannel, 'message.updated', (e) => e.message?.id === parent.id);
    const ownerSees = nextEvent(ownerChannel, 'message.updated', (e) => e.message?.id === parent.id);
    const reply = nextEvent(vetChannel, 'message.new', (e) => e.message?.parent_id === parent.id);
    await ownerChannel.sendMessage({ text: 'No', parent_id: parent.id });
    await Promise.all([vetSees, ownerSees, reply]);
    assert.equal(vetChannel.state.findMessage(parent.id).reply_count, 1);
    assert.equal(ownerChannel.state.findMessage(parent.id).reply_count, 1);
    const { messages } = await vetChannel.getReplies(parent.id, { limit: 10 });
    assert.deepEqual(messages.map((m) => m.text), ['No']);
  });

  test('the client reads the upload settings with its own token, as before every upload', async () => {
    const settings = await owner.getAppSettings();
    assert.ok(settings.app.image_upload_config.size_limit > 0);
    assert.equal(settings.app.webhook_url, undefined);
    // The composer's check before uploading (the browser upload itself is in browser.test).
    const file = new File([Buffer.alloc(16, 3)], 'chart.png', { type: 'image/png' });
    const check = await ownerChannel.messageComposer.attachmentManager.getUploadConfigCheck(file);
    assert.deepEqual(check, { uploadBlocked: false });
  });

  test('watchers, presence and own reactions', async () => {
    assert.equal(vetChannel.state.watcher_count, 2);
    assert.equal(vetChannel.state.members['owner-1'].user.online, true);
    const stopped = nextEvent(vetChannel, 'user.watching.stop', (e) => e.user?.id === 'owner-1');
    await ownerChannel.stopWatching();
    assert.equal((await stopped).watcher_count, 1);
    assert.ok(!('owner-1' in vetChannel.state.watchers));
    const started = nextEvent(vetChannel, 'user.watching.start', (e) => e.user?.id === 'owner-1');
    await ownerChannel.watch();
    assert.equal((await started).watcher_count, 2);
    assert.ok('owner-1' in vetChannel.state.watchers);

    const sent = (await vetChannel.sendMessage({ text: 'Good boy' })).message;
    await ownerChannel.sendReaction(sent.id, { type: 'like' });
    const { message } = await owner.getMessage(sent.id);
    assert.deepEqual(message.own_reactions.map((r) => r.type), ['like']);
    assert.deepEqual((await vet.getMessage(sent.id)).message.own_reactions, []);
  });

  test('a pinned message is pinned on both sides', async () => {
    const sent = (await vetChannel.sendMessage({ text: 'Give half a tablet twice a day' })).message;
    const seen = nextEvent(ownerChannel, 'message.updated', (e) => e.message?.id === sent.id);
    await vet.pinMessage(sent);
    assert.equal((await seen).message.pinned, true);
    assert.ok(ownerChannel.state.pinnedMessages.some((m) => m.id === sent.id));
    const state = await owner.channel('messaging', ownerChannel.id).query({ messages: { limit: 5 } });
    assert.ok(state.pinned_messages.some((m) => m.id === sent.id));
  });

  test('mark unread brings the badge back for the reader only', async () => {
    const sent = (await vetChannel.sendMessage({ text: 'Any questions?' })).message;
    await ownerChannel.markRead();
    const notice = nextEvent(owner, 'notification.mark_unread', (e) => e.cid === ownerChannel.cid);
    await ownerChannel.markUnread({ message_id: sent.id });
    const event = await notice;
    assert.equal(event.unread_messages, 1);
    assert.equal(event.first_unread_message_id, sent.id);
    const counts = await owner.getUnreadCount();
    assert.equal(counts.total_unread_count, 1);
    await ownerChannel.markRead();
  });

  test('threads, search, own channel pins and user mutes as the kits call them', async () => {
    const parent = (await vetChannel.sendMessage({ text: 'How is Rex sleeping?' })).message;
    await ownerChannel.sendMessage({ text: 'Better now', parent_id: parent.id });
    const { threads } = await owner.queryThreads({ limit: 10 });
    assert.ok(threads.some((t) => t.id === parent.id));

    const { results } = await owner.search({ cid: ownerChannel.cid }, 'sleeping');
    assert.deepEqual(results.map((r) => r.message.id), [parent.id]);

    await ownerChannel.pin();
    const pinned = await owner.queryChannels({ pinned: true, cid: ownerChannel.cid });
    assert.deepEqual(pinned.map((c) => c.cid), [ownerChannel.cid]);
    assert.deepEqual(await vet.queryChannels({ pinned: true, cid: vetChannel.cid }), []);
    await ownerChannel.unpin();

    const muted = await owner.muteUser('vet-1');
    assert.equal(muted.mute.target.id, 'vet-1');
    await owner.unmuteUser('vet-1');
  });

  test('a photo is uploaded, sent as an attachment and served back', async () => {
    const bytes = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'binary'), Buffer.alloc(32, 7)]);
    const uploaded = await ownerChannel.sendImage(bytes, 'rex.png', 'image/png');
    assert.match(uploaded.file, /\/uploads\//);
    const arrived = nextEvent(vetChannel, 'message.new', (e) => e.message?.text === 'Rex today');
    await ownerChannel.sendMessage({
      text: 'Rex today',
      attachments: [{ type: 'image', image_url: uploaded.file, fallback: 'rex.png' }],
    });
    const event = await arrived;
    assert.equal(event.message.attachments[0].image_url, uploaded.file);
    const served = await fetch(uploaded.file);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), bytes);
  });

  test('the message composer uploads a photo and sends it; both sides get the served image', async () => {
    const composer = ownerChannel.messageComposer;
    // stream-chat's default upload recognises a File only where `window` exists and, in
    // Node, hands it to the `form-data` package, which takes Buffers and streams only
    // ("uri.split is not a function" without `window`, "source.on is not a function" with
    // one). So outside a browser an app plugs in its own upload, as the SDK allows; the
    // browser's default path is in react-kit.test.mjs.
    composer.attachmentManager.setCustomUploadFn(async (file) =>
      ownerChannel.sendImage(Buffer.from(await file.arrayBuffer()), file.name, file.type),
    );
    const bytes = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'binary'), Buffer.alloc(24, 9)]);
    const file = new File([bytes], 'x-ray.png', { type: 'image/png' });
    try {
      const attachment = await composer.attachmentManager.uploadFile(file);
      assert.equal(attachment.localMetadata.uploadState, 'finished');
      assert.match(attachment.image_url, /\/uploads\/[0-9a-f]+\/x-ray\.png$/);
      composer.textComposer.setText('The x-ray');
      const composition = await composer.compose();
      const arrived = nextEvent(vetChannel, 'message.new', (e) => e.message?.text === 'The x-ray');
      const { message } = await ownerChannel.sendMessage(composition.message, composition.sendOptions);
      composer.clear();
      assert.equal(message.attachments[0].type, 'image');
      assert.equal(message.attachments[0].image_url, attachment.image_url);
      const event = await arrived;
      assert.equal(event.message.attachments[0].image_url, attachment.image_url);
      const served = await fetch(event.message.attachments[0].image_url);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), bytes);
    } finally {
      composer.attachmentManager.setCustomUploadFn(undefined);
    }
  });

  test('reactions reach the other side live', async () => {
    const sent = await vetChannel.sendMessage({ text: 'Rex looks great' });
    const added = nextEvent(vetChannel, 'reaction.new', (e) => e.message?.id === sent.message.id);
    await ownerChannel.sendReaction(sent.message.id, { type: 'love' });
    const event = await added;
    assert.equal(event.reaction.user_id, 'owner-1');
    assert.deepEqual(vetChannel.state.findMessage(sent.message.id).reaction_counts, { love: 1 });
    const removed = nextEvent(vetChannel, 'reaction.deleted', (e) => e.message?.id === sent.message.id);
    await ownerChannel.deleteReaction(sent.message.id, 'love');
    await removed;
    assert.deepEqual(vetChannel.state.findMessage(sent.message.id).reaction_counts, {});
  });

  test('edits and deletes reach the other side live', async () => {
    const sent = await ownerChannel.sendMessage({ text: 'Rex ate a sock' });
    const updated = nextEvent(vetChannel, 'message.updated', (e) => e.message?.id === sent.message.id);
    await owner.updateMessage({ ...sent.message, text: 'Rex ate two socks' });
    assert.equal((await updated).message.text, 'Rex ate two socks');
    assert.equal(vetChannel.state.findMessage(sent.message.id).text, 'Rex ate two socks');

    const deleted = nextEvent(vetChannel, 'message.deleted', (e) => e.message?.id === sent.message.id);
    await owner.deleteMessage(sent.message.id);
    await deleted;
    assert.equal(vetChannel.state.findMessage(sent.message.id).type, 'deleted');
    // Nobody edits someone else's message.
    await assert.rejects(vet.partialUpdateMessage(sent.message.id, { set: { text: 'x' } }), (error) => {
      assert.equal(error.code, 17);
      return true;
    });
  });

  test('a connection the server drops is recovered by the SDK', async () => {
    const recovered = nextEvent(owner, 'connection.recovered');
    const { apiKey, baseUrl } = await chatToken(service.server, 'vet-1');
    const dropped = await fetch(`${baseUrl}/_emulator/disconnect?api_key=${apiKey}`, {
      method: 'POST',
      headers: { Authorization: streamServerToken(), 'Stream-Auth-Type': 'jwt' },
    });
    assert.equal(dropped.status, 200);
    assert.ok((await dropped.json()).dropped >= 2);
    await recovered;
    // Watching again after recovery: a new message still arrives live.
    const arrived = nextEvent(ownerChannel, 'message.new', (e) => e.message?.text === 'still here');
    await vetChannel.sendMessage({ text: 'still here' });
    await arrived;
  });

  test('ending the chat through this service reaches the other side live', async () => {
    const frozen = nextEvent(ownerChannel, 'channel.updated', (e) => e.channel?.frozen === true);
    const notice = nextEvent(ownerChannel, 'message.new', (e) => e.message?.type === 'system');
    const { status } = await api(
      service.server, 'POST', `/api/chat/channels/${ownerChannel.id}/end`, 'vet-1',
    );
    assert.equal(status, 200);
    const [update, system] = await Promise.all([frozen, notice]);
    assert.equal(update.channel.status, 'ended');
    assert.equal(ownerChannel.data.frozen, true);
    assert.equal(ownerChannel.data.status, 'ended');
    assert.equal(system.message.user.id, 'system');

    await assert.rejects(ownerChannel.sendMessage({ text: 'one more thing' }), (error) => {
      assert.equal(error.code, 17);
      assert.equal(error.status, 403);
      return true;
    });
  });
});

test('an expired token is refreshed through the token provider', async () => {
  const client = await sdkFor('nurse-1');
  const handed = [];
  await client.connectUser({ id: 'nurse-1' }, async () => {
    // The first token handed out has already expired; the SDK must come back for another.
    const token = handed.length === 0
      ? expiredStreamToken('nurse-1')
      : (await chatToken(service.server, 'nurse-1')).token;
    handed.push(token);
    return token;
  });
  assert.equal(handed.length, 2);
  assert.ok(client.wsConnection?.isHealthy);
  assert.equal(client.user.id, 'nurse-1');
});

test('a static expired token is refused with code 40', async () => {
  const client = await sdkFor('nurse-1');
  await assert.rejects(client.connectUser({ id: 'nurse-1' }, expiredStreamToken('nurse-1')), (error) => {
    assert.match(String(error.message), /"code":40/);
    return true;
  });
});
