// A small clinic app on the official React UI kit (stream-chat-react 13), as a frontend
// developer would write it: the persona (?persona=vet|owner) signs in through this service's
// token endpoint with the demo's bearer token, and the kit's standard components do the rest.
// react-kit.test.mjs bundles it with esbuild and drives two of it in Chromium.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { StreamChat } from 'stream-chat';
import {
  Channel,
  ChannelHeader,
  ChannelList,
  Chat,
  MessageInput,
  MessageList,
  Thread,
  Window,
} from 'stream-chat-react';
import 'stream-chat-react/dist/css/v2/index.css';

async function callService(bearer, method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${data.error ?? response.status}`);
  return data;
}

function App({ client, userId }) {
  return (
    <Chat client={client} theme="str-chat__theme-light">
      <div className="clinic">
        <aside>
          <button
            type="button"
            data-testid="mark-all-read"
            onClick={() => client.markAllRead().catch(showError)}
          >
            Mark all read
          </button>
          <ChannelList
            filters={{ type: 'messaging', members: { $in: [userId] } }}
            sort={{ last_message_at: -1 }}
            options={{ state: true, watch: true, presence: true, limit: 10 }}
            setActiveChannelOnMount={false}
          />
        </aside>
        <Channel>
          <Window>
            <ChannelHeader />
            <MessageList />
            <MessageInput focus />
          </Window>
          <Thread />
        </Channel>
      </div>
    </Chat>
  );
}

function showError(error) {
  const note = document.createElement('p');
  note.className = 'kit-error';
  note.textContent = String(error?.message ?? error);
  document.body.prepend(note);
}

async function main() {
  const key = new URLSearchParams(window.location.search).get('persona');
  const config = await (await fetch('/demo/config.json')).json();
  const persona = config.personas.find((candidate) => candidate.key === key);
  const userId = persona.userId;
  const first = await callService(persona.bearer, 'POST', '/api/chat/token', { userId });
  const client = new StreamChat(first.apiKey, { baseURL: first.baseUrl ?? undefined });
  // A token provider, as the apps have: the first answer, then this service again on expiry.
  let handed = first.token;
  await client.connectUser({ id: userId }, async () => {
    if (handed) {
      const token = handed;
      handed = null;
      return token;
    }
    return (await callService(persona.bearer, 'POST', '/api/chat/token', { userId })).token;
  });
  // For the test's own look at the client (never to act in the kit's place).
  window.kit = { client, userId };
  createRoot(document.getElementById('root')).render(<App client={client} userId={userId} />);
  document.body.dataset.ready = 'true';
}

main().catch(showError);
