// Bun peer of the Snow WebSocket benchmark: Bun.serve + server.publish.
// Protocol: bench/README.md. Run with `bun server.js` (PORT, default 9000).
const port = Number(process.env.PORT || 9000);

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const path = new URL(req.url).pathname;
    const room = path.startsWith("/r/") ? path.slice(3) : null;
    if (server.upgrade(req, { data: { room } })) return;
    return new Response("websocket upgrade required", { status: 400 });
  },
  websocket: {
    maxPayloadLength: 16 * 1024 * 1024,
    backpressureLimit: 16 * 1024 * 1024,
    // The compressed scenarios (bench/run.py, "fanout-deflate-*") turn
    // permessage-deflate on with PERMESSAGE_DEFLATE=1.
    perMessageDeflate: process.env.PERMESSAGE_DEFLATE === "1",
    open(ws) {
      if (ws.data.room !== null) ws.subscribe(ws.data.room);
    },
    message(ws, msg) {
      if (typeof msg === "string" && msg.charCodeAt(0) === 47 /* "/" */) {
        const [cmd, room] = msg.split(" ");
        if (cmd === "/join") {
          ws.subscribe(room);
          ws.send("J " + room);
        } else if (cmd === "/leave") {
          ws.unsubscribe(room);
          ws.send("L " + room);
        } else {
          ws.send("? " + msg);
        }
        return;
      }
      if (ws.data.room !== null) server.publish(ws.data.room, msg);
      else ws.send(msg);
    },
  },
});
console.log(`bun peer listening on ${server.port}`);
