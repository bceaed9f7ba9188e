// Node + Socket.IO peer of the Snow WebSocket benchmark (WebSocket transport
// only). Protocol: bench/README.md, with the room in the query string
// (`/socket.io/?EIO=4&transport=websocket&room=ROOM`) and every message an
// event "msg" with a string argument. Run with `node server.js` (PORT).
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 9000);
const io = new Server(port, {
  transports: ["websocket"],
  perMessageDeflate: false,
  maxHttpBufferSize: 16 * 1024 * 1024,
  serveClient: false,
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
console.log(`socket.io peer listening on ${port}`);
