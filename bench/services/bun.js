// The Bun side of the services benchmark (bench/services/README.md): the
// same handlers as services.snow on a JS object updated in place, called
// from the one JS thread. A lower bound: no copy, no lock, no heap of its
// own. `bun bun.js (calls|casts) (counter|map) N` prints "ops N ms T".
const [kind, state, nText] = process.argv.slice(2);
const n = Number(nText);

class Counter {
  constructor() { this.n = 0; }
  add(k) { this.n += k; return this.n; }   // a call: the reply
  bump(k) { this.n += k; }                 // a cast
}

class Store {
  constructor() { this.m = new Map(); for (let i = 0; i < 1000; i++) this.m.set(i, 0); }
  put(k, v) { this.m.set(k % 1000, v); return this.m.size; }
  set(k, v) { this.m.set(k % 1000, v); }
}

function run() {
  let acc = 0;
  if (state === "counter") {
    const c = new Counter();
    if (kind === "calls") for (let i = n; i > 0; i--) acc += c.add(1);
    else { for (let i = n; i > 0; i--) c.bump(1); acc = c.n; }
  } else {
    const s = new Store();
    if (kind === "calls") for (let i = n; i > 0; i--) acc += s.put(i, i);
    else { for (let i = n; i > 0; i--) s.set(i, i); acc = s.m.size; }
  }
  return acc;
}

const t0 = performance.now();
const acc = run();
const ms = performance.now() - t0;
if (acc === -1) console.log("impossible");
console.log(`ops ${n} ms ${ms.toFixed(1)}`);
