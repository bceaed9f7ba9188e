//! What cluster nodes say to each other through Redis: channel names and the
//! binary message formats (the contract is docs/CLUSTER.md, "Wire format").
//!
//! Every Snow message starts with a version byte ([`VERSION`]) and a kind
//! byte, then the sending node's number (u64, big-endian); decoding never
//! panics and answers `None` for anything it does not understand (a foreign
//! publisher, a future version), which the receiver drops.

/// `snow:ws:room:<room>`: plain text from any Redis client, delivered as a
/// text frame to the room's members (Snow itself never publishes here).
pub(crate) const ROOM_TEXT: &str = "snow:ws:room:";
/// `snow:ws:msg:<room>`: Snow's own broadcasts ([`RoomMsg`]).
pub(crate) const ROOM_MSG: &str = "snow:ws:msg:";
/// `snow:ws:node:<n>`: messages for one node ([`Direct`]).
pub(crate) const NODE: &str = "snow:ws:node:";
/// `snow:ws:view`: membership events, snapshots, heartbeats ([`ViewMsg`]).
pub(crate) const VIEW: &str = "snow:ws:view";
/// The key whose `INCR` gives a starting node its number.
pub(crate) const NODE_COUNTER: &str = "snow:ws:node-counter";

pub(crate) const VERSION: u8 = 1;

/// Payload kinds of room broadcasts and direct sends.
pub(crate) const TEXT: u8 = b'T';
pub(crate) const BINARY: u8 = b'B';
/// A direct close (code and reason).
pub(crate) const CLOSE: u8 = b'C';
/// A room broadcast addressed to one node ([`Direct::Room`]).
pub(crate) const ROOM: u8 = b'R';

pub(crate) fn room_text_channel(room: &str) -> Vec<u8> {
    [ROOM_TEXT.as_bytes(), room.as_bytes()].concat()
}

pub(crate) fn room_msg_channel(room: &str) -> Vec<u8> {
    [ROOM_MSG.as_bytes(), room.as_bytes()].concat()
}

pub(crate) fn node_channel(node: u64) -> Vec<u8> {
    format!("{NODE}{node}").into_bytes()
}

/// A reader over a message's bytes; every read checks the length.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn rest(self) -> &'a [u8] {
        self.0
    }
}

fn header(kind: u8, node: u64, capacity: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(10 + capacity);
    v.push(VERSION);
    v.push(kind);
    v.extend_from_slice(&node.to_be_bytes());
    v
}

fn put_str(v: &mut Vec<u8>, s: &str) {
    v.extend_from_slice(&(s.len() as u32).to_be_bytes());
    v.extend_from_slice(s.as_bytes());
}

/// A broadcast on `snow:ws:msg:<room>`:
/// `VERSION kind(T|B) origin:u64 except:u64 payload...` (`except` 0: none).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RoomMsg<'a> {
    pub kind: u8,
    pub origin: u64,
    pub except: Option<u64>,
    pub payload: &'a [u8],
}

pub(crate) fn encode_room_msg(
    kind: u8,
    origin: u64,
    except: Option<u64>,
    payload: &[u8],
) -> Vec<u8> {
    let mut v = header(kind, origin, 8 + payload.len());
    v.extend_from_slice(&except.unwrap_or(0).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub(crate) fn decode_room_msg(b: &[u8]) -> Option<RoomMsg<'_>> {
    let mut r = Rd(b);
    if r.u8()? != VERSION {
        return None;
    }
    let kind = r.u8()?;
    if kind != TEXT && kind != BINARY {
        return None;
    }
    let origin = r.u64()?;
    let except = r.u64()?;
    Some(RoomMsg {
        kind,
        origin,
        except: (except != 0).then_some(except),
        payload: r.rest(),
    })
}

/// A message on `snow:ws:node:<n>` for that node: `VERSION kind
/// origin:u64 conn:u64` then the text or binary payload (kinds T and B) or
/// `code:u16 reason` (kind C) for one of its connections; or a broadcast
/// for its members of a room, `VERSION R origin:u64 except:u64 kind:u8
/// room:str payload` (kind T or B), which a broadcast takes instead of
/// `snow:ws:msg:<room>` when exactly one other node has members there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Direct<'a> {
    Send {
        conn: u64,
        kind: u8,
        payload: &'a [u8],
    },
    Close {
        conn: u64,
        code: u16,
        reason: &'a str,
    },
    Room {
        room: &'a str,
        kind: u8,
        except: Option<u64>,
        payload: &'a [u8],
    },
}

pub(crate) fn encode_send(origin: u64, conn: u64, kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = header(kind, origin, 8 + payload.len());
    v.extend_from_slice(&conn.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub(crate) fn encode_close(origin: u64, conn: u64, code: u16, reason: &str) -> Vec<u8> {
    let mut v = header(CLOSE, origin, 10 + reason.len());
    v.extend_from_slice(&conn.to_be_bytes());
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(reason.as_bytes());
    v
}

/// A broadcast to `room` for one node's members (see [`Direct`]).
pub(crate) fn encode_room_direct(
    kind: u8,
    origin: u64,
    room: &str,
    except: Option<u64>,
    payload: &[u8],
) -> Vec<u8> {
    let mut v = header(ROOM, origin, 13 + room.len() + payload.len());
    v.extend_from_slice(&except.unwrap_or(0).to_be_bytes());
    v.push(kind);
    put_str(&mut v, room);
    v.extend_from_slice(payload);
    v
}

pub(crate) fn decode_direct(b: &[u8]) -> Option<Direct<'_>> {
    let mut r = Rd(b);
    if r.u8()? != VERSION {
        return None;
    }
    let kind = r.u8()?;
    let _origin = r.u64()?;
    let conn = r.u64()?;
    match kind {
        ROOM => {
            let kind = r.u8()?;
            if kind != TEXT && kind != BINARY {
                return None;
            }
            let room = r.str()?;
            Some(Direct::Room {
                room,
                kind,
                except: (conn != 0).then_some(conn),
                payload: r.rest(),
            })
        }
        TEXT | BINARY => Some(Direct::Send {
            conn,
            kind,
            payload: r.rest(),
        }),
        CLOSE => {
            let code = r.u16()?;
            let reason = std::str::from_utf8(r.rest()).ok()?;
            Some(Direct::Close { conn, code, reason })
        }
        _ => None,
    }
}

/// A message on `snow:ws:view`: `VERSION kind origin:u64 seq:u64 body`.
/// `seq` counts every view message of the origin node (1, 2, 3, ...), so
/// a receiver notices a lost one and asks for a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ViewMsg<'a> {
    /// `H`: I am alive.
    Heartbeat,
    /// `J conn:u64 room`: a connection of mine joined a room.
    Join { conn: u64, room: &'a str },
    /// `L conn:u64 room`: ... left it.
    Leave { conn: u64, room: &'a str },
    /// `S rooms:u32 (room count:u32 conn:u64*)* tracked:u32 (room conn:u64
    /// at:u64 meta)*`: all my memberships and my presence entries.
    Snapshot(Vec<(&'a str, Vec<u64>)>, Vec<Track<'a>>),
    /// `Q target:u64`: please publish your snapshot (0: every node).
    Query { target: u64 },
    /// `X`: I am leaving the cluster (shutdown).
    Bye,
    /// `K count:u64 ms:u64 room`: `Ws.keep(room, count, ms)` was called
    /// here (start reading the room's stream when you have members).
    Keep { room: &'a str, count: u64, ms: u64 },
    /// `P conn:u64 at:u64 room meta`: a connection of mine is tracked in a
    /// room (`Ws.track`; again: a new meta).
    Track(Track<'a>),
    /// `U conn:u64 room`: ... is not any more (`Ws.untrack`; a leave drops
    /// the entry too).
    Untrack { conn: u64, room: &'a str },
}

/// A presence entry: `conn` tracked in `room` since `at` with `meta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Track<'a> {
    pub conn: u64,
    pub room: &'a str,
    pub at: u64,
    pub meta: &'a str,
}

fn put_track(v: &mut Vec<u8>, t: &Track<'_>) {
    v.extend_from_slice(&t.conn.to_be_bytes());
    v.extend_from_slice(&t.at.to_be_bytes());
    put_str(v, t.room);
    put_str(v, t.meta);
}

fn track<'a>(r: &mut Rd<'a>) -> Option<Track<'a>> {
    let conn = r.u64()?;
    let at = r.u64()?;
    let room = r.str()?;
    let meta = r.str()?;
    Some(Track {
        conn,
        room,
        at,
        meta,
    })
}

pub(crate) const V_HEARTBEAT: u8 = b'H';
pub(crate) const V_JOIN: u8 = b'J';
pub(crate) const V_LEAVE: u8 = b'L';
pub(crate) const V_SNAPSHOT: u8 = b'S';
pub(crate) const V_QUERY: u8 = b'Q';
pub(crate) const V_BYE: u8 = b'X';
pub(crate) const V_KEEP: u8 = b'K';
pub(crate) const V_TRACK: u8 = b'P';
pub(crate) const V_UNTRACK: u8 = b'U';

pub(crate) fn encode_view(origin: u64, seq: u64, msg: &ViewMsg<'_>) -> Vec<u8> {
    let kind = match msg {
        ViewMsg::Heartbeat => V_HEARTBEAT,
        ViewMsg::Join { .. } => V_JOIN,
        ViewMsg::Leave { .. } => V_LEAVE,
        ViewMsg::Snapshot(..) => V_SNAPSHOT,
        ViewMsg::Query { .. } => V_QUERY,
        ViewMsg::Bye => V_BYE,
        ViewMsg::Keep { .. } => V_KEEP,
        ViewMsg::Track(_) => V_TRACK,
        ViewMsg::Untrack { .. } => V_UNTRACK,
    };
    let mut v = header(kind, origin, 16);
    v.extend_from_slice(&seq.to_be_bytes());
    match msg {
        ViewMsg::Heartbeat | ViewMsg::Bye => {}
        ViewMsg::Join { conn, room }
        | ViewMsg::Leave { conn, room }
        | ViewMsg::Untrack { conn, room } => {
            v.extend_from_slice(&conn.to_be_bytes());
            put_str(&mut v, room);
        }
        ViewMsg::Snapshot(rooms, tracked) => {
            v.extend_from_slice(&(rooms.len() as u32).to_be_bytes());
            for (room, conns) in rooms {
                put_str(&mut v, room);
                v.extend_from_slice(&(conns.len() as u32).to_be_bytes());
                for c in conns {
                    v.extend_from_slice(&c.to_be_bytes());
                }
            }
            v.extend_from_slice(&(tracked.len() as u32).to_be_bytes());
            for t in tracked {
                put_track(&mut v, t);
            }
        }
        ViewMsg::Track(t) => put_track(&mut v, t),
        ViewMsg::Query { target } => v.extend_from_slice(&target.to_be_bytes()),
        ViewMsg::Keep { room, count, ms } => {
            v.extend_from_slice(&count.to_be_bytes());
            v.extend_from_slice(&ms.to_be_bytes());
            put_str(&mut v, room);
        }
    }
    v
}

/// (origin, seq, message)
pub(crate) fn decode_view(b: &[u8]) -> Option<(u64, u64, ViewMsg<'_>)> {
    let mut r = Rd(b);
    if r.u8()? != VERSION {
        return None;
    }
    let kind = r.u8()?;
    let origin = r.u64()?;
    let seq = r.u64()?;
    let msg = match kind {
        V_HEARTBEAT => ViewMsg::Heartbeat,
        V_BYE => ViewMsg::Bye,
        V_JOIN | V_LEAVE | V_UNTRACK => {
            let conn = r.u64()?;
            let room = r.str()?;
            match kind {
                V_JOIN => ViewMsg::Join { conn, room },
                V_LEAVE => ViewMsg::Leave { conn, room },
                _ => ViewMsg::Untrack { conn, room },
            }
        }
        V_TRACK => ViewMsg::Track(track(&mut r)?),
        V_SNAPSHOT => {
            let n = r.u32()? as usize;
            // Each room takes at least 8 bytes: a lying count cannot make
            // us reserve much.
            let mut rooms = Vec::with_capacity(n.min(r.0.len() / 8));
            for _ in 0..n {
                let room = r.str()?;
                let k = r.u32()? as usize;
                let ids = r.take(k.checked_mul(8)?)?;
                let conns = ids
                    .chunks_exact(8)
                    .map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default()))
                    .collect();
                rooms.push((room, conns));
            }
            let n = r.u32()? as usize;
            // Each entry takes at least 24 bytes.
            let mut tracked = Vec::with_capacity(n.min(r.0.len() / 24));
            for _ in 0..n {
                tracked.push(track(&mut r)?);
            }
            ViewMsg::Snapshot(rooms, tracked)
        }
        V_QUERY => ViewMsg::Query { target: r.u64()? },
        V_KEEP => {
            let count = r.u64()?;
            let ms = r.u64()?;
            ViewMsg::Keep {
                room: r.str()?,
                count,
                ms,
            }
        }
        _ => return None,
    };
    Some((origin, seq, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_messages_round_trip() {
        let b = encode_room_msg(TEXT, 7, Some(99), b"hello");
        assert_eq!(
            decode_room_msg(&b),
            Some(RoomMsg {
                kind: TEXT,
                origin: 7,
                except: Some(99),
                payload: b"hello"
            })
        );
        let b = encode_room_msg(BINARY, 7, None, &[0, 1, 2]);
        assert_eq!(decode_room_msg(&b).unwrap().except, None);
        assert_eq!(decode_room_msg(&b).unwrap().payload, &[0, 1, 2]);
    }

    #[test]
    fn direct_messages_round_trip() {
        let b = encode_send(3, 44, BINARY, b"xyz");
        assert_eq!(
            decode_direct(&b),
            Some(Direct::Send {
                conn: 44,
                kind: BINARY,
                payload: b"xyz"
            })
        );
        let b = encode_close(3, 44, 4000, "bye now");
        assert_eq!(
            decode_direct(&b),
            Some(Direct::Close {
                conn: 44,
                code: 4000,
                reason: "bye now"
            })
        );
        let b = encode_room_direct(TEXT, 3, "lobby", Some(44), b"hi all");
        assert_eq!(
            decode_direct(&b),
            Some(Direct::Room {
                room: "lobby",
                kind: TEXT,
                except: Some(44),
                payload: b"hi all"
            })
        );
        let b = encode_room_direct(BINARY, 3, "", None, &[0, 255]);
        assert_eq!(
            decode_direct(&b),
            Some(Direct::Room {
                room: "",
                kind: BINARY,
                except: None,
                payload: &[0, 255]
            })
        );
        // Every truncation before the payload is rejected.
        let b = encode_room_direct(TEXT, 3, "lobby", None, b"");
        for n in 0..b.len() {
            assert!(decode_direct(&b[..n]).is_none(), "prefix {n}");
        }
    }

    #[test]
    fn view_messages_round_trip() {
        let msgs = [
            ViewMsg::Heartbeat,
            ViewMsg::Bye,
            ViewMsg::Join {
                conn: 5,
                room: "lobby",
            },
            ViewMsg::Leave { conn: 5, room: "" },
            ViewMsg::Query { target: 0 },
            ViewMsg::Keep {
                room: "chat",
                count: 100,
                ms: 0,
            },
            ViewMsg::Snapshot(vec![("a", vec![1, 2, 3]), ("b", vec![])], vec![]),
            ViewMsg::Snapshot(
                vec![("a", vec![1])],
                vec![Track {
                    conn: 1,
                    room: "a",
                    at: 7,
                    meta: "{\"nick\":\"ada\"}",
                }],
            ),
            ViewMsg::Track(Track {
                conn: 2,
                room: "r",
                at: 1_700_000_000_000_000,
                meta: "",
            }),
            ViewMsg::Untrack { conn: 2, room: "r" },
        ];
        for (i, m) in msgs.iter().enumerate() {
            let b = encode_view(9, i as u64 + 1, m);
            assert_eq!(decode_view(&b), Some((9, i as u64 + 1, msgs[i].clone())));
        }
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        let good = encode_view(
            1,
            1,
            &ViewMsg::Snapshot(
                vec![("room", vec![1, 2]), ("x", vec![3])],
                vec![Track {
                    conn: 1,
                    room: "room",
                    at: 5,
                    meta: "m",
                }],
            ),
        );
        // Every truncation of a valid message, and some lies.
        for n in 0..good.len() {
            assert!(decode_view(&good[..n]).is_none(), "prefix {n}");
        }
        let mut lie = encode_view(1, 1, &ViewMsg::Snapshot(vec![], vec![]));
        lie[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_view(&lie).is_none());
        assert!(decode_room_msg(b"plain text").is_none());
        assert!(
            decode_direct(&[VERSION, b'Z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                .is_none()
        );
        assert!(decode_room_msg(&[]).is_none());
    }
}
