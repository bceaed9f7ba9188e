// The chat page: one WebSocket to the server that served this page, the
// JSON protocol of ../server.snow, and reconnection with backoff. The page
// remembers the offset of the last message it saw in its room and joins
// with it after a reconnect, so the server replays what it missed (also
// across a server restart, when the history is in Redis); the member list
// follows the server's presence diffs.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  ws: null,
  id: null,             // our connection's id (from "hello")
  nick: null,           // the nickname we chose, re-sent after a reconnect
  room: roomFromHash(),
  members: new Map(),   // id -> nick, for the current room (presence)
  offsets: new Map(),   // room -> the offset of the last message seen there
  attempt: 0,           // failed connection attempts in a row
  wasConnected: false,
};

function roomFromHash() {
  const room = decodeURIComponent(location.hash.slice(1)).trim();
  return room || "lobby";
}

// Sends when connected; answers whether it did.
function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(msg));
    return true;
  }
  return false;
}

function setStatus(name, text) {
  $("status").dataset.state = name;
  $("status").textContent = text;
}

// ---- rendering (textContent only: nothing a user sends becomes markup) ----

function addLine(cls, nick, text) {
  const li = document.createElement("li");
  li.className = cls;
  if (nick !== null) {
    const n = document.createElement("span");
    n.className = "nick";
    n.textContent = nick;
    li.append(n);
  }
  const t = document.createElement("span");
  t.className = "text";
  t.textContent = text;
  li.append(t);
  const list = $("messages");
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

const system = (text) => addLine("system", null, text);

function renderMembers() {
  $("count").dataset.count = state.members.size;
  $("count").textContent = state.members.size === 1 ? "1 here" : `${state.members.size} here`;
  const ul = $("members");
  ul.replaceChildren();
  for (const [id, nick] of [...state.members].sort((a, b) => a[0] - b[0])) {
    const li = document.createElement("li");
    li.textContent = nick;
    if (id === state.id) li.className = "me";
    ul.append(li);
  }
}

function showRoom() {
  $("room").value = state.room;
  $("room-name").textContent = "#" + state.room;
  document.title = `#${state.room} · Snow chat`;
}

// ---- the protocol ----

const handlers = {
  hello(m) {
    state.id = m.id;
    if (!state.nick) $("nick").value = m.nick;
  },
  said(m) {
    if (m.room !== state.room) return;
    // A message at or before the last offset seen was shown already.
    const last = state.offsets.get(m.room) || 0;
    if (m.off <= last) return;
    state.offsets.set(m.room, m.off);
    addLine(m.id === state.id ? "mine" : "theirs", m.nick, m.text);
  },
  reset(m) {
    // The room's history restarted (one server, restarted): its offsets
    // start over.
    state.offsets.delete(m.room);
  },
  gap(m) {
    if (m.room !== state.room) return;
    system("some messages from while you were away are no longer kept");
  },
  presence_state(m) {
    if (m.room !== state.room) return;
    state.members = new Map(m.members.map((x) => [x.id, x.nick]));
    renderMembers();
  },
  presence_diff(m) {
    if (m.room !== state.room) return;
    for (const x of m.leaves) {
      if (!state.members.has(x.id)) continue;
      state.members.delete(x.id);
      system(`${x.nick} left`);
    }
    for (const x of m.joins) {
      const old = state.members.get(x.id);
      state.members.set(x.id, x.nick);
      if (old === undefined) system(x.id === state.id ? `you joined #${m.room}` : `${x.nick} joined`);
      else if (old !== x.nick) system(`${old} is now ${x.nick}`);
    }
    renderMembers();
  },
  error(m) {
    system(`server: ${m.message}`);
  },
};

function enterRoom() {
  send({ type: "join", room: state.room, since: state.offsets.get(state.room) || 0 });
}

// ---- connection and reconnection ----

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => {
    state.attempt = 0;
    setStatus("connected", "connected");
    if (state.wasConnected) system("reconnected");
    state.wasConnected = true;
    if (state.nick) send({ type: "nick", nick: state.nick });
    enterRoom();
  };
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    const h = handlers[m.type];
    if (h) h(m);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.members.clear();
    renderMembers();
    reconnectLater();
  };
}

// Exponential backoff: 0.25 s, 0.5 s, 1 s, ... up to 5 s, with jitter so a
// restarted server is not hit by every page at the same moment.
function reconnectLater() {
  const base = Math.min(5000, 250 * 2 ** state.attempt);
  const delay = Math.round(base * (0.5 + Math.random() / 2));
  state.attempt += 1;
  setStatus("reconnecting", `reconnecting in ${(delay / 1000).toFixed(1)} s…`);
  setTimeout(connect, delay);
}

// ---- the forms ----

$("room-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const room = $("room").value.trim();
  if (!room || room === state.room) return;
  state.room = room;
  history.replaceState(null, "", "#" + encodeURIComponent(room));
  state.members.clear();
  renderMembers();
  // A fresh view of the room: its last messages are replayed.
  $("messages").replaceChildren();
  state.offsets.delete(room);
  showRoom();
  enterRoom();
});

$("nick-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const nick = $("nick").value.trim();
  if (!nick) return;
  state.nick = nick;
  send({ type: "nick", nick });
});

$("say-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  if (send({ type: "say", text })) $("text").value = "";
});

showRoom();
setStatus("connecting", "connecting…");
connect();
