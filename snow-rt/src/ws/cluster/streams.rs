//! History in a cluster (spec "History" and "Lossless cluster delivery";
//! design: docs/CLUSTER.md "History"): one Redis stream per kept room,
//! written by one script per publish and read by every node with local
//! members in the room.
//!
//! # Redis
//! - `snow:ws:keep` (hash): room -> `"count ms"`, what `Ws.keep` set (any
//!   node; the last call wins). The scripts read the bounds from here, so
//!   every node trims alike.
//! - `snow:ws:off` (hash): room -> the room's last offset.
//! - `snow:ws:hist:<room>` (stream): entry id `<offset>-0`, fields `t`
//!   (Redis's time in ms) and `m` (the text).
//!
//! # Publishing: one round trip, offsets without holes
//! A node guesses the next offset (its `Hist::next`: one more than the
//! last offset it delivered or published), builds the text with it and
//! runs [`PUBLISH_SCRIPT`] with both: the script appends the entry only if
//! the guess is exactly the room's last offset plus one (else it answers
//! the last offset and the node builds again with the next one: only when
//! two nodes published to the room at the same moment), trims by count
//! (`MAXLEN ~`) and age, and records the offset. So offsets are consecutive
//! and every node sees the same ones.
//!
//! # Delivering: in offset order, exactly once per node
//! Each node delivers the published messages of a room to its members in
//! offset order through the room's [`Hist`]: `last` is the last offset it
//! delivered. Its own publish is delivered as soon as Redis accepted it if
//! it is the next one (else it waits in `pending`); the others' are read
//! from the streams of the rooms it has local members in, on a connection
//! of their own ([`reader`]: one `XREAD` over all of them, from each
//! room's `last`). After a session ends (any Redis trouble) the next one
//! reads from the same `last`: what was missed comes first, in order, and
//! what was delivered already is skipped.

use super::super::history::{self, Entry, Hist};
use super::node::{Cmd, Node};
use super::proto::ViewMsg;
use super::resp;
use parking_lot::Mutex;
use redis_protocol::resp2::types::BytesFrame;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The rooms' bounds (`Ws.keep`).
pub(crate) const KEEP: &str = "snow:ws:keep";
/// The rooms' last offsets.
pub(crate) const OFFSETS: &str = "snow:ws:off";
/// `snow:ws:hist:<room>`: a room's stream.
pub(crate) const STREAM: &str = "snow:ws:hist:";

pub(crate) fn stream_key(room: &str) -> Vec<u8> {
    [STREAM.as_bytes(), room.as_bytes()].concat()
}

/// How long a callback waits for Redis's answer (a session that gets no
/// answer for 3 s ends anyway, and its waiters get -1).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Entries per room one `XREAD` answers.
const READ_COUNT: &[u8] = b"1000";
/// How long one `XREAD` blocks when nothing comes.
const READ_BLOCK_MS: &[u8] = b"2000";
/// A publish that keeps losing the race for the next offset gives up.
const ATTEMPTS: usize = 100;

/// KEYS: keep, offsets, stream; ARGV: room, offset, text.
/// `{-1}`: the room keeps no history; `{0, last}`: `offset` is not the
/// next one; `{1, offset, time}`: appended.
pub(crate) const PUBLISH_SCRIPT: &str = r#"
local keep = redis.call('HGET', KEYS[1], ARGV[1])
if not keep then return {-1} end
local sp = string.find(keep, ' ')
local count = tonumber(string.sub(keep, 1, sp - 1))
local ms = tonumber(string.sub(keep, sp + 1))
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local off = tonumber(ARGV[2])
if off ~= last + 1 then return {0, last} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', count, ARGV[2] .. '-0', 't', now, 'm', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ms > 0 then
  local old = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 16)
  local young = nil
  for _, e in ipairs(old) do
    if tonumber(e[2][2]) >= now - ms then young = e[1] break end
  end
  if young then
    redis.call('XTRIM', KEYS[3], 'MINID', young)
  elseif #old > 0 then
    local o = tonumber(string.match(old[#old][1], '^%d+'))
    redis.call('XTRIM', KEYS[3], 'MINID', (o + 1) .. '-0')
  end
end
return {1, off, now}
"#;

/// KEYS: keep, offsets, stream; ARGV: room, after, max.
/// `{-1}`: no history; else `{last, now, entry...}` with the entries kept
/// by count and age after `after` (0: the newest `max`), oldest first, at
/// most `max`, as `XRANGE` answers them.
pub(crate) const READ_SCRIPT: &str = r#"
local keep = redis.call('HGET', KEYS[1], ARGV[1])
if not keep then return {-1} end
local sp = string.find(keep, ' ')
local count = tonumber(string.sub(keep, 1, sp - 1))
local ms = tonumber(string.sub(keep, sp + 1))
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local after = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local lo = last - count
local out = {last, now}
local function kept(e)
  local off = tonumber(string.match(e[1], '^%d+'))
  return off > lo and (ms == 0 or tonumber(e[2][2]) >= now - ms)
end
if after == 0 then
  local es = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', max)
  for i = #es, 1, -1 do
    if kept(es[i]) then out[#out + 1] = es[i] end
  end
else
  local cursor = '(' .. math.max(after, lo, 0) .. '-0'
  local n = 0
  while n < max do
    local es = redis.call('XRANGE', KEYS[3], cursor, '+', 'COUNT', max - n)
    if #es == 0 then break end
    for _, e in ipairs(es) do
      if kept(e) then
        out[#out + 1] = e
        n = n + 1
      end
    end
    cursor = '(' .. es[#es][1]
  end
end
return out
"#;

fn sha1_hex(s: &str) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The scripts' SHA1s (`EVALSHA`; each session loads them first).
pub(crate) static PUBLISH_SHA: LazyLock<String> = LazyLock::new(|| sha1_hex(PUBLISH_SCRIPT));
pub(crate) static READ_SHA: LazyLock<String> = LazyLock::new(|| sha1_hex(READ_SCRIPT));

fn int(f: &BytesFrame) -> Option<i64> {
    match f {
        BytesFrame::Integer(n) => Some(*n),
        BytesFrame::BulkString(b) | BytesFrame::SimpleString(b) => {
            std::str::from_utf8(b).ok()?.parse().ok()
        }
        _ => None,
    }
}

/// An entry as `XRANGE`/`XREAD` answer it: `[id, [field, value, ...]]`.
fn entry(f: &BytesFrame) -> Option<Entry> {
    let BytesFrame::Array(v) = f else { return None };
    let [BytesFrame::BulkString(id), BytesFrame::Array(fields)] = &v[..] else {
        return None;
    };
    let id = std::str::from_utf8(id).ok()?;
    let off: u64 = id.split('-').next()?.parse().ok()?;
    let (mut at, mut text) = (0, None);
    for kv in fields.chunks_exact(2) {
        match (&kv[0], &kv[1]) {
            (BytesFrame::BulkString(k), BytesFrame::BulkString(val)) if &k[..] == b"t" => {
                at = std::str::from_utf8(val).ok()?.parse().ok()?;
            }
            (BytesFrame::BulkString(k), BytesFrame::BulkString(val)) if &k[..] == b"m" => {
                text = Some(std::str::from_utf8(val).ok()?);
            }
            _ => {}
        }
    }
    Some(Entry {
        off,
        at,
        text: text?.into(),
    })
}

/// What the read script answered: the room's last offset and the entries.
fn read_answer(f: &BytesFrame) -> Option<(u64, Vec<Entry>)> {
    let BytesFrame::Array(v) = f else { return None };
    let last = int(v.first()?)?;
    if last < 0 {
        return Some((0, Vec::new()));
    }
    let entries = v.iter().skip(2).filter_map(entry).collect();
    Some((last as u64, entries))
}

impl Node {
    /// Sends one command on the publishing connection (in queue order)
    /// and waits for its answer: `None` when Redis is unreachable or does
    /// not answer in time. Blocks the calling (callback) thread.
    pub(super) fn call(&self, args: Vec<Vec<u8>>) -> Option<BytesFrame> {
        if !self.connected.load(Ordering::Relaxed) {
            return None;
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.tx
            .send(Cmd::Call {
                args,
                reply: Some(tx),
            })
            .ok()?;
        match rx.recv_timeout(CALL_TIMEOUT) {
            Ok(Ok(f)) => Some(f),
            _ => None,
        }
    }

    fn script_args(sha: &str, room: &str, a: Vec<u8>, b: Vec<u8>) -> Vec<Vec<u8>> {
        vec![
            b"EVALSHA".to_vec(),
            sha.as_bytes().to_vec(),
            b"3".to_vec(),
            KEEP.as_bytes().to_vec(),
            OFFSETS.as_bytes().to_vec(),
            stream_key(room),
            room.as_bytes().to_vec(),
            a,
            b,
        ]
    }

    /// `Ws.keep` in a cluster: the bounds go to Redis (for every node's
    /// scripts) and to the other nodes (which start reading the stream).
    pub(crate) fn keep(&self, room: &str, count: u64, ms: u64) {
        let _ = self.tx.send(Cmd::Call {
            args: vec![
                b"HSET".to_vec(),
                KEEP.as_bytes().to_vec(),
                room.as_bytes().to_vec(),
                format!("{count} {ms}").into_bytes(),
            ],
            reply: None,
        });
        self.publish_view(&ViewMsg::Keep { room, count, ms });
        self.streams_wake.notify_one();
    }

    /// Another node said `Ws.keep(room, count, ms)`.
    pub(super) fn kept_elsewhere(&self, room: &str, count: u64, ms: u64) {
        history::keep(room, count as usize, ms);
        self.streams_wake.notify_one();
    }

    /// `Ws.publish` in a cluster: the offset, or -1 (not kept, Redis
    /// unreachable, or no answer). `build` makes the text for an offset.
    pub(crate) fn publish_kept(
        &self,
        room: &str,
        h: &Arc<Mutex<Hist>>,
        build: &mut dyn FnMut(u64) -> Box<str>,
    ) -> i64 {
        for _ in 0..ATTEMPTS {
            if !self.connected.load(Ordering::Relaxed) {
                return -1;
            }
            if h.lock().next == 0 {
                // This node has not published to nor followed the room:
                // ask for its last offset (once).
                let Some(last) = self.last_offset(room) else {
                    return -1;
                };
                let mut g = h.lock();
                if g.next == 0 {
                    g.next = last + 1;
                }
            }
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let (off, text) = {
                let mut g = h.lock();
                let off = g.next;
                let text = build(off);
                let args = Self::script_args(
                    &PUBLISH_SHA,
                    room,
                    off.to_string().into_bytes(),
                    text.as_bytes().to_vec(),
                );
                // Queued under the room's lock: this node's guesses reach
                // Redis in the order they were made.
                if self
                    .tx
                    .send(Cmd::Call {
                        args,
                        reply: Some(tx),
                    })
                    .is_err()
                {
                    return -1;
                }
                g.next = off + 1;
                (off, text)
            };
            let answer = match rx.recv_timeout(CALL_TIMEOUT) {
                Ok(Ok(BytesFrame::Array(v))) => v,
                _ => return -1,
            };
            match answer.first().and_then(int) {
                Some(1) => {
                    let at = answer.get(2).and_then(int).unwrap_or(0) as u64;
                    let deliver = self.deliver.room;
                    let mut g = h.lock();
                    g.arrive(
                        Entry { off, at, text },
                        false,
                        history::now_ms(),
                        &mut |t| deliver(room, true, t.as_bytes(), None),
                    );
                    history::enforce_cap(&mut g);
                    return off as i64;
                }
                Some(0) => {
                    let last = answer.get(1).and_then(int).unwrap_or(0).max(0) as u64;
                    h.lock().next = last + 1;
                }
                _ => return -1,
            }
        }
        -1
    }

    /// The room's last offset in Redis (`HGET snow:ws:off`; 0 for a room
    /// never published to), or `None` when Redis is unreachable or answers
    /// something else.
    fn last_offset(&self, room: &str) -> Option<u64> {
        let f = self.call(vec![
            b"HGET".to_vec(),
            OFFSETS.as_bytes().to_vec(),
            room.as_bytes().to_vec(),
        ])?;
        if f == BytesFrame::Null {
            return Some(0);
        }
        int(&f).filter(|n| *n >= 0).map(|n| n as u64)
    }

    /// `Ws.join` of a kept room in a cluster. When the node does not follow
    /// the room yet (its first local member), the room's last offset is
    /// asked first (one round trip), then, under the room's lock, the node
    /// starts following at it and the connection joins: every entry after
    /// that offset reaches the member, whichever node published it. (Left
    /// to the streams reader, which asks the same once it wakes, the
    /// publishes between the join and its `HMGET` were never delivered
    /// here.) While Redis is unreachable the join happens at once and the
    /// reader starts following when a session begins.
    pub(crate) fn join_kept(
        &self,
        room: &str,
        h: &Arc<Mutex<Hist>>,
        join: &mut dyn FnMut() -> bool,
    ) -> bool {
        {
            let g = h.lock();
            if g.following {
                // Under the lock, like below: never between a plan's
                // forgetting the room and this member's join.
                return join();
            }
        }
        let last = self.last_offset(room);
        let mut g = h.lock();
        let start = last.is_some() && !g.following;
        if let (Some(last), true) = (last, start) {
            g.follow_from(last);
        }
        // Under the lock: the reader's plan (which forgets a followed room
        // without local members) sees the member and the following together.
        let joined = join();
        drop(g);
        if start {
            self.streams_wake.notify_one();
        }
        joined
    }

    /// The read script: the room's last offset and its kept entries after
    /// `after` (0: the newest `max`), or `None` when Redis is unreachable.
    pub(crate) fn read_stream(
        &self,
        room: &str,
        after: u64,
        max: usize,
    ) -> Option<(u64, Vec<Entry>)> {
        let f = self.call(Self::script_args(
            &READ_SHA,
            room,
            after.to_string().into_bytes(),
            max.to_string().into_bytes(),
        ))?;
        read_answer(&f)
    }

    /// `Ws.history` in a cluster (from Redis), or `None` when Redis is
    /// unreachable.
    pub(crate) fn read_kept(&self, room: &str, after: u64, max: usize) -> Option<Vec<Entry>> {
        self.read_stream(room, after, max).map(|(_, v)| v)
    }

    /// `Ws.resume` in a cluster: queues (`replay`) every kept message after
    /// `after` and joins (`join`) with nothing published in between lost
    /// or doubled; the first replayed offset (0: none), `None` when the
    /// join failed.
    ///
    /// When this node already follows the room and its copy reaches back
    /// to `after`, everything happens under the room's lock without a
    /// round trip. Otherwise the stream is read first (without the lock),
    /// then, under the lock: if the node follows the room, the entries up
    /// to what it delivered (`last`) are replayed from the answer and its
    /// copy (those it delivered since the read), the newer ones will come
    /// live; if not, it starts following at the stream's last offset.
    pub(crate) fn resume_kept(
        &self,
        room: &str,
        h: &Arc<Mutex<Hist>>,
        after: u64,
        replay: &mut dyn FnMut(&str),
        join: &mut dyn FnMut() -> bool,
    ) -> Option<u64> {
        // A client that saw an offset this node has not delivered yet (it
        // was on a node ahead of this one) waits, at most 2 s, until this
        // node caught up: what it saw is then not delivered to it again.
        let t0 = std::time::Instant::now();
        loop {
            let g = h.lock();
            if !g.following || after <= g.last || !self.connected.load(Ordering::Relaxed) {
                break;
            }
            drop(g);
            if t0.elapsed() > Duration::from_secs(2) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let now = history::now_ms();
        {
            let mut g = h.lock();
            let covered =
                g.following && (after >= g.last || (g.first() != 0 && g.first() <= after + 1));
            if covered {
                return replay_and_join(&mut g, after, now, None, replay, join);
            }
        }
        let count = h.lock().count;
        let read = self.read_stream(room, after, count);
        let mut g = h.lock();
        match read {
            None => replay_and_join(&mut g, after, now, None, replay, join),
            Some((last, entries)) => {
                if !g.following {
                    g.follow_from(last);
                    for e in entries.iter() {
                        g.push(e.clone(), now);
                    }
                    history::enforce_cap(&mut g);
                    self.streams_wake.notify_one();
                }
                replay_and_join(&mut g, after, now, Some((last, entries)), replay, join)
            }
        }
    }
}

/// Under the room's lock: replays what was read from the stream up to
/// what this node delivered, then its own copy after that, then joins.
fn replay_and_join(
    g: &mut Hist,
    after: u64,
    now: u64,
    read: Option<(u64, Vec<Entry>)>,
    replay: &mut dyn FnMut(&str),
    join: &mut dyn FnMut() -> bool,
) -> Option<u64> {
    let mut first = 0;
    let mut upto = after;
    if let Some((last, entries)) = read {
        for e in entries.iter().filter(|e| e.off > after && e.off <= g.last) {
            if first == 0 {
                first = e.off;
            }
            replay(&e.text);
            upto = upto.max(e.off);
        }
        upto = upto.max(last.min(g.last));
    }
    for e in g.after(upto, now) {
        if first == 0 {
            first = e.off;
        }
        replay(&e.text);
    }
    join().then_some(first)
}

// ---- the streams reader (on the cluster thread) ----

/// Which streams to read from where; starts and stops following rooms.
/// A room is followed while it keeps history and this node has local
/// members in it.
async fn plan(
    node: &'static Node,
    r: &mut resp::Reader,
    w: &mut resp::Writer,
) -> Result<Vec<(Arc<str>, u64)>, String> {
    let mut read = Vec::new();
    let mut start = Vec::new();
    for (room, h) in history::all() {
        let mut g = h.lock();
        let local = node.local.lock().rooms.contains_key(&*room);
        match (local, g.following) {
            (true, true) => read.push((room, g.last)),
            (true, false) => start.push(room),
            (false, true) => g.forget(),
            (false, false) => {}
        }
    }
    if start.is_empty() {
        return Ok(read);
    }
    // Start at each room's last offset: what is published from now on.
    let mut args: Vec<&[u8]> = vec![b"HMGET", OFFSETS.as_bytes()];
    args.extend(start.iter().map(|r| r.as_bytes()));
    let answer = resp::call_frame(r, w, &args).await?;
    let BytesFrame::Array(lasts) = answer else {
        return Err("unexpected answer to HMGET".into());
    };
    for (room, last) in start.into_iter().zip(lasts.iter()) {
        let last = if *last == BytesFrame::Null {
            0
        } else {
            int(last).unwrap_or(0).max(0) as u64
        };
        let Some(h) = history::get(&room) else {
            continue;
        };
        let mut g = h.lock();
        if !g.following && node.local.lock().rooms.contains_key(&*room) {
            g.follow_from(last);
        }
        if g.following {
            read.push((room.clone(), g.last));
        }
    }
    Ok(read)
}

/// Reads the streams of the rooms this node follows and delivers their
/// entries in order, until the connection fails. `unblock` is the command
/// that wakes this connection's blocking `XREAD` (sent on another one)
/// when the set of rooms changes.
pub(super) async fn reader(
    node: &'static Node,
    mut r: resp::Reader,
    mut w: resp::Writer,
    unblock: Vec<Vec<u8>>,
) -> String {
    loop {
        let rooms = match plan(node, &mut r, &mut w).await {
            Ok(v) => v,
            Err(e) => return e,
        };
        if rooms.is_empty() {
            node.streams_wake.notified().await;
            continue;
        }
        let keys: Vec<Vec<u8>> = rooms.iter().map(|(room, _)| stream_key(room)).collect();
        let ids: Vec<Vec<u8>> = rooms
            .iter()
            .map(|(_, last)| format!("{last}-0").into_bytes())
            .collect();
        let mut args: Vec<&[u8]> = vec![
            b"XREAD",
            b"COUNT",
            READ_COUNT,
            b"BLOCK",
            READ_BLOCK_MS,
            b"STREAMS",
        ];
        args.extend(keys.iter().map(|k| k.as_slice()));
        args.extend(ids.iter().map(|k| k.as_slice()));
        if let Err(e) = w.command(&args).await {
            return e;
        }
        let answer = tokio::select! {
            a = r.next_frame() => a,
            _ = node.streams_wake.notified() => {
                // The rooms changed: wake the XREAD (its answer, entries or
                // nothing, is still read and handled below).
                let _ = node.tx.send(Cmd::Call { args: unblock.clone(), reply: None });
                r.next_frame().await
            }
        };
        match answer {
            Ok(BytesFrame::Array(streams)) => deliver(node, &streams),
            Ok(BytesFrame::Null) => {}
            Ok(BytesFrame::Error(e)) => return format!("Redis refused XREAD: {e}"),
            Ok(_) => return "unexpected answer to XREAD".into(),
            Err(e) => return e,
        }
        tokio::task::consume_budget().await;
    }
}

/// Delivers what an `XREAD` answered: `[[key, [entry...]]...]`.
fn deliver(node: &'static Node, streams: &[BytesFrame]) {
    let now = history::now_ms();
    for s in streams {
        let BytesFrame::Array(v) = s else { continue };
        let [BytesFrame::BulkString(key), BytesFrame::Array(entries)] = &v[..] else {
            continue;
        };
        let Some(room) = std::str::from_utf8(key)
            .ok()
            .and_then(|k| k.strip_prefix(STREAM))
        else {
            continue;
        };
        let Some(h) = history::get(room) else {
            continue;
        };
        let deliver = node.deliver.room;
        let mut g = h.lock();
        for e in entries.iter().filter_map(entry) {
            g.arrive(e, true, now, &mut |t| {
                deliver(room, true, t.as_bytes(), None)
            });
        }
        history::enforce_cap(&mut g);
    }
}

/// At the start of a session: the bounds this process's `Ws.keep` calls
/// set go to Redis (the first session sets them, later ones only restore
/// what a Redis without persistence forgot), then every room's bounds come
/// back (rooms kept by other nodes included).
pub(super) async fn sync_keep(
    r: &mut resp::Reader,
    w: &mut resp::Writer,
    first: bool,
) -> Result<(), String> {
    let set: &[u8] = if first { b"HSET" } else { b"HSETNX" };
    for (room, count, ms) in history::kept() {
        let v = format!("{count} {ms}");
        resp::call_frame(r, w, &[set, KEEP.as_bytes(), room.as_bytes(), v.as_bytes()]).await?;
    }
    for script in [PUBLISH_SCRIPT, READ_SCRIPT] {
        resp::call_frame(r, w, &[b"SCRIPT", b"LOAD", script.as_bytes()]).await?;
    }
    let BytesFrame::Array(all) = resp::call_frame(r, w, &[b"HGETALL", KEEP.as_bytes()]).await?
    else {
        return Err("unexpected answer to HGETALL".into());
    };
    for kv in all.chunks_exact(2) {
        let (BytesFrame::BulkString(room), BytesFrame::BulkString(v)) = (&kv[0], &kv[1]) else {
            continue;
        };
        let (Ok(room), Ok(v)) = (std::str::from_utf8(room), std::str::from_utf8(v)) else {
            continue;
        };
        let mut it = v.split(' ').map(|n| n.parse::<u64>());
        if let (Some(Ok(count)), Some(Ok(ms))) = (it.next(), it.next()) {
            history::keep(room, count as usize, ms);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(s: &str) -> BytesFrame {
        BytesFrame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn entries_and_answers_are_decoded() {
        let e = BytesFrame::Array(vec![
            bulk("42-0"),
            BytesFrame::Array(vec![
                bulk("t"),
                bulk("1700000000000"),
                bulk("m"),
                bulk("hi"),
            ]),
        ]);
        assert_eq!(
            entry(&e),
            Some(Entry {
                off: 42,
                at: 1_700_000_000_000,
                text: "hi".into()
            })
        );
        let answer = BytesFrame::Array(vec![BytesFrame::Integer(42), BytesFrame::Integer(5), e]);
        let (last, v) = read_answer(&answer).unwrap();
        assert_eq!((last, v.len()), (42, 1));
        assert_eq!(
            read_answer(&BytesFrame::Array(vec![BytesFrame::Integer(-1)])),
            Some((0, vec![]))
        );
        assert_eq!(entry(&bulk("x")), None);
    }

    #[test]
    fn script_shas_are_sha1_hex() {
        assert_eq!(PUBLISH_SHA.len(), 40);
        assert_ne!(*PUBLISH_SHA, *READ_SHA);
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
