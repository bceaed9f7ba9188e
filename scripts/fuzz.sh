#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ for a bounded time each:
#   frame_reader  client bytes after the handshake through the server's frame reader
#   front_end     snowc's parser and type checker on arbitrary programs
# Needs a nightly toolchain (libFuzzer's sanitizer flags); cargo-fuzz is
# installed from crates.io when missing. Without nightly it says so and runs
# the proptest-based fuzz tests of the normal suite instead.
#
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_TARGETS  targets to run (default "frame_reader front_end")
# Crashes are saved under fuzz/artifacts/<target>/; turn each into a
# regression test (snow-rt/src/ws/tests/fuzz_frames.rs,
# snowc/types/tests/fuzz_check.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-frame_reader front_end}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz: no nightly toolchain (cargo fuzz needs one): running the proptest fuzz tests instead" >&2
  cargo test -p snowc_types --test fuzz_check
  cargo test -p snowc_syntax --test fuzz
  cargo test -p snow-rt fuzz_frames
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# The seed corpora: the repository's Snow programs; valid client traffic.
mkdir -p fuzz/corpus/front_end fuzz/corpus/frame_reader
for f in examples/*.snow tests/programs/*.snow tests/ws/*.snow; do
  [ -f "$f" ] && cp "$f" "fuzz/corpus/front_end/$(echo "$f" | tr / _)"
done
# chunk 8, 1 MiB limit, then a masked "hello" text frame and a close 1000.
printf '\x07\x00\x81\x85\x01\x02\x03\x04\x69\x67\x6f\x68\x6e\x88\x82\x01\x02\x03\x04\x02\xea' \
  > fuzz/corpus/frame_reader/hello_close

status=0
for t in $targets; do
  echo "fuzz: $t for ${secs}s" >&2
  if ! timeout --kill-after=30 $((secs + 600)) \
      cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
      2>&1 | tail -n 15; then
    status=1
  fi
  if ls "fuzz/artifacts/$t"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $t found crashes: $(ls fuzz/artifacts/$t/crash-*)"
    status=1
  else
    echo "fuzz: $t: no crash in ${secs}s"
  fi
done
exit "$status"
