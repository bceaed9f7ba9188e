// Node + ws peer of the Snow WebSocket benchmark. Protocol: bench/README.md.
// Run with `node server.js` (PORT, default 9000).
const { WebSocketServer } = require("ws");

const port = Number(process.env.PORT || 9000);
const rooms = new Map(); // room name -> Set of sockets

function join(ws, room) {
  let members = rooms.get(room);
  if (members === undefined) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.rooms.add(room);
}

function leave(ws, room) {
  const members = rooms.get(room);
  if (members !== undefined) {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  }
  ws.rooms.delete(room);
}

const wss = new WebSocketServer({
  port,
  host: "127.0.0.1",
  perMessageDeflate: false,
  maxPayload: 16 * 1024 * 1024,
});

wss.on("connection", (ws, req) => {
  const path = req.url.split("?")[0];
  ws.room = path.startsWith("/r/") ? path.slice(3) : null;
  ws.rooms = new Set();
  if (ws.room !== null) join(ws, ws.room);
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data[0] === 47 /* "/" */) {
      const [cmd, room] = data.toString().split(" ");
      if (cmd === "/join") {
        join(ws, room);
        ws.send("J " + room);
      } else if (cmd === "/leave") {
        leave(ws, room);
        ws.send("L " + room);
      } else {
        ws.send("? " + data.toString());
      }
      return;
    }
    if (ws.room === null) {
      ws.send(data, { binary: isBinary });
      return;
    }
    const members = rooms.get(ws.room);
    if (members === undefined) return;
    for (const m of members) {
      if (m.readyState === 1) m.send(data, { binary: isBinary });
    }
  });
  ws.on("close", () => {
    for (const room of [...ws.rooms]) leave(ws, room);
  });
});
wss.on("listening", () => console.log(`node-ws peer listening on ${port}`));
