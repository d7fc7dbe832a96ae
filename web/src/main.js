// The clinic console: one pane per demo persona. Each pane gets a Stream token (and the
// Stream address and key) from this service, connects the official stream-chat client,
// lists its channels and talks in the selected one. Ending a chat calls this service.
import { StreamChat } from 'stream-chat';
import './style.css';

const AUDIENCE = { client: 'client', colleague: 'colleague', group: 'group' };

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

async function callService(persona, method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${persona.bearer}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${data.error ?? response.status}`);
  return data;
}

const isClosed = (channel) => channel.data?.status === 'ended' || channel.data?.frozen === true;

class Pane {
  constructor(persona, appointmentId) {
    this.persona = persona;
    this.appointmentId = appointmentId;
    this.channels = [];
    this.selected = null;
    this.listeners = [];
    this.root = element('section', { class: 'pane', dataset: { persona: persona.key } });
    this.status = element('span', { class: 'status' }, 'connecting…');
    this.list = element('ul', { class: 'channels', 'data-testid': 'channel-list' });
    this.conversation = element('div', { class: 'conversation' });
    this.root.append(
      element('div', { class: 'who' }, element('span', { class: 'name' }, persona.label), this.status),
      this.list,
      this.conversation,
    );
  }

  async start() {
    const userId = this.persona.userId;
    const first = await callService(this.persona, 'POST', '/api/chat/token', { userId });
    this.client = new StreamChat(first.apiKey, { baseURL: first.baseUrl ?? undefined });
    // A token provider: the SDK comes back here when a token expires.
    let handed = first.token;
    await this.client.connectUser({ id: userId }, async () => {
      if (handed) {
        const token = handed;
        handed = null;
        return token;
      }
      return (await callService(this.persona, 'POST', '/api/chat/token', { userId })).token;
    });
    this.status.textContent = 'online';
    this.status.classList.add('online');
    this.client.on('connection.changed', (event) => {
      this.status.textContent = event.online ? 'online' : 'reconnecting…';
      this.status.classList.toggle('online', Boolean(event.online));
    });
    for (const type of ['notification.message_new', 'notification.added_to_channel']) {
      this.client.on(type, () => this.loadChannels());
    }
    this.client.on('message.new', () => this.renderList());
    await this.loadChannels();
  }

  async loadChannels() {
    const userId = this.persona.userId;
    this.channels = await this.client.queryChannels(
      { members: { $in: [userId] } },
      [{ last_message_at: -1 }],
      { watch: true, state: true, limit: 30 },
    );
    if (!this.selected) {
      const appointment = this.channels.find((c) => c.data?.appointmentId === this.appointmentId);
      this.select(appointment ?? this.channels[0] ?? null);
    }
    this.renderList();
  }

  select(channel) {
    for (const listener of this.listeners) listener.unsubscribe();
    this.listeners = [];
    this.selected = channel;
    if (channel) {
      const rerender = () => this.renderConversation();
      for (const type of ['message.new', 'message.updated', 'message.read', 'typing.start',
        'typing.stop', 'channel.updated', 'member.added', 'member.removed']) {
        this.listeners.push(channel.on(type, rerender));
      }
      this.listeners.push(channel.on('message.new', () => channel.markRead().catch(() => {})));
      channel.markRead().catch(() => {});
    }
    this.renderList();
    this.renderConversation();
  }

  renderList() {
    this.list.replaceChildren(
      ...this.channels.map((channel) => {
        const category = AUDIENCE[channel.data?.chatCategory] ?? 'group';
        const unread = channel === this.selected ? 0 : channel.countUnread();
        return element(
          'li',
          {
            class: `channel-item${channel === this.selected ? ' selected' : ''}`,
            dataset: { cid: channel.cid },
            onclick: () => this.select(channel),
          },
          unread ? element('span', { class: 'unread' }, String(unread)) : null,
          element('span', { class: 'title' }, this.title(channel)),
          element('span', { class: `pill ${category}`, 'data-testid': 'audience' }, category),
        );
      }),
    );
  }

  // The conversation is built once per selected channel (so typing in the composer is
  // never thrown away) and its parts are refreshed on every event.
  buildConversation(channel) {
    this.view = {
      title: element('span', { class: 'title' }),
      actions: element('span'),
      banner: element('div'),
      messages: element('div', { class: 'messages', 'data-testid': 'messages' }),
      typing: element('div', { class: 'typing', 'data-testid': 'typing' }),
      input: element('input', { 'aria-label': 'message' }),
      send: element('button', { type: 'submit' }, 'Send'),
    };
    const { input, send } = this.view;
    input.addEventListener('input', () => channel.keystroke().catch(() => {}));
    const composer = element('form', {
      class: 'composer',
      'data-testid': 'composer',
      onsubmit: async (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        input.value = '';
        await channel.stopTyping().catch(() => {});
        await channel.sendMessage({ text }).catch((error) => this.showError(error));
      },
    }, input, send);
    this.conversation.replaceChildren(
      element('div', { class: 'head' }, this.view.title, this.view.actions),
      this.view.banner,
      this.view.messages,
      this.view.typing,
      composer,
    );
  }

  renderConversation() {
    const channel = this.selected;
    if (!channel) {
      this.view = null;
      this.conversation.replaceChildren(element('p', { class: 'error' }, 'No chats yet.'));
      return;
    }
    if (this.view?.channel !== channel) {
      this.buildConversation(channel);
      this.view.channel = channel;
    }
    const me = this.persona.userId;
    const closed = isClosed(channel);
    const others = Object.values(channel.state.read).filter((read) => read.user?.id !== me);
    const seen = (message) => others.some((read) => read.last_read >= message.created_at);
    const messages = channel.state.messages.map((message) => {
      const own = message.user?.id === me;
      const system = message.type === 'system';
      return element(
        'div',
        { class: `message${own ? ' own' : ''}${system ? ' system' : ''}`, dataset: { id: message.id } },
        system ? null : element('span', { class: 'author' }, message.user?.name ?? message.user?.id),
        message.text,
        own && seen(message) ? element('span', { class: 'read-mark' }, '✓✓ Seen') : null,
      );
    });
    const typing = Object.values(channel.state.typing)
      .filter((event) => event.user?.id !== me)
      .map((event) => event.user?.name ?? event.user?.id);
    const view = this.view;
    view.title.textContent = this.title(channel);
    const mayEnd = this.persona.mayEnd && !closed && channel.data?.chatCategory !== 'colleague';
    view.actions.replaceChildren(...(mayEnd ? [element('button', {
      class: 'end-chat',
      onclick: () => callService(this.persona, 'POST', `/api/chat/channels/${channel.id}/end`)
        .catch((error) => this.showError(error)),
    }, 'End chat')] : []));
    view.banner.replaceChildren(
      ...(closed ? [element('div', { class: 'session-closed', role: 'status' }, 'Session closed')] : []),
    );
    view.messages.replaceChildren(...messages);
    view.messages.scrollTop = view.messages.scrollHeight;
    view.typing.textContent = !closed && typing.length ? `${typing.join(', ')} is typing…` : '';
    view.input.disabled = view.send.disabled = closed;
    view.input.placeholder = closed ? 'Session closed' : 'Write a message';
  }

  title(channel) {
    if (channel.data?.chatCategory === 'colleague') {
      // A colleague DM is named after the other member, as the caller sees it.
      const other = Object.values(channel.state.members).find((m) => m.user?.id !== this.persona.userId);
      return other?.user?.name ?? channel.id;
    }
    return channel.data?.name ?? channel.id;
  }

  showError(error) {
    this.conversation.prepend(element('p', { class: 'error' }, String(error.message ?? error)));
  }
}

async function main() {
  const panes = document.getElementById('panes');
  const config = await (await fetch('config.json')).json();
  // Chats exist once someone opens them: the pet owner opens the appointment chat (as the
  // app would), the vet a colleague DM and a group (both idempotent here).
  const owner = config.personas.find((persona) => persona.key === 'owner');
  const vet = config.personas.find((persona) => persona.key === 'vet');
  await callService(owner, 'POST', '/api/chat/channels', { appointmentId: config.appointmentId });
  await callService(vet, 'POST', '/api/chat/channels/internal', {
    orgId: config.orgId, memberIds: [vet.userId, config.colleagueId], createdBy: vet.userId,
  });
  await callService(vet, 'POST', '/api/chat/channels/group', {
    orgId: config.orgId, name: config.group.name, channelId: config.group.channelId,
    memberIds: [vet.userId, config.colleagueId], createdBy: vet.userId,
  }).catch(() => {}); // 409 once it exists
  const started = config.personas.map((persona) => {
    const pane = new Pane(persona, config.appointmentId);
    panes.append(pane.root);
    return pane.start().catch((error) => pane.showError(error));
  });
  await Promise.all(started);
  document.body.dataset.ready = 'true';
}

main();
