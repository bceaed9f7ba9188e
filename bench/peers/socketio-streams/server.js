// Socket.IO history peer of the Snow WebSocket benchmark (bench/README.md,
// "History"): the Socket.IO peer (../socketio/server.js, same protocol) with
// @socket.io/redis-streams-adapter, the adapter Socket.IO built on Redis
// Streams so that a node whose Redis connection drops catches up (its pub/sub
// adapter loses those packets). Every emit to a room is an XADD to one stream
// that every node reads with XREAD. Run with
// `REDIS_URL=redis://127.0.0.1:6379 PORT=9000 node server.js`.
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-streams-adapter");
const { createClient } = require("redis");

const port = Number(process.env.PORT || 9000);
const url = process.env.REDIS_URL || "redis://127.0.0.1:6379";

async function main() {
  const redisClient = createClient({ url });
  await redisClient.connect();
  const io = new Server({
    transports: ["websocket"],
    perMessageDeflate: false,
    maxHttpBufferSize: 16 * 1024 * 1024,
    serveClient: false,
    adapter: createAdapter(redisClient),
  });
  io.on("connection", (socket) => {
    const room = socket.handshake.query.room || null;
    if (room !== null) socket.join(room);
    socket.on("msg", (msg) => {
      if (typeof msg === "string" && msg.charCodeAt(0) === 47 /* "/" */) {
        const [cmd, r] = msg.split(" ");
        if (cmd === "/join") {
          socket.join(r);
          socket.emit("msg", "J " + r);
        } else if (cmd === "/leave") {
          socket.leave(r);
          socket.emit("msg", "L " + r);
        } else {
          socket.emit("msg", "? " + msg);
        }
        return;
      }
      if (room !== null) io.to(room).emit("msg", msg);
      else socket.emit("msg", msg);
    });
  });
  io.listen(port);
  console.log(`socket.io (redis streams adapter) peer listening on ${port}, redis ${url}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
