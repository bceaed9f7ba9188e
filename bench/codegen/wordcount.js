// The Bun side of the word count (bench/codegen/README.md): the same work
// as wordcount.snow with a JS Map. `bun wordcount.js FILE`.
const text = require("fs").readFileSync(process.argv[2], "utf8");
const words = text.replace(/\n/g, " ").split(" ");
const counts = new Map();
for (const w of words) {
  if (w !== "") counts.set(w, (counts.get(w) || 0) + 1);
}
let total = 0;
for (const n of counts.values()) total += n;
let bw = "", bn = 0;
for (const [w, n] of counts) if (n > bn) { bw = w; bn = n; }
console.log(`${total} words, ${counts.size} distinct, most frequent: ${bw} (${bn})`);
