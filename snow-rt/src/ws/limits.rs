//! Rate limits (ws.md "Operating a server", docs/OPERATIONS.md "Limits"):
//! a token bucket per connection for `SNOW_WS_MAX_MESSAGES_PER_SEC`, and
//! the count of open connections per remote address for
//! `SNOW_WS_MAX_CONNECTIONS_PER_IP` (with `SNOW_WS_TRUST_PROXY`, the address
//! is `X-Forwarded-For`'s last entry).

use super::handshake::RequestHead;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use std::net::{IpAddr, SocketAddr};

/// The highest message rate a bucket keeps (a higher setting is this):
/// its burst in thousandths of a message must fit in 32 bits.
pub(crate) const MAX_RATE: u64 = 1_000_000;

/// A connection's message budget: a token bucket holding at most `rate`
/// messages (the burst), refilled at `rate` messages per second. Counted
/// in thousandths of a message, so a refill over whole milliseconds is
/// exact. Owned by the connection's task (no atomics), and small: it lives
/// in every connection's task, and the rate is the server's
/// (`ServerConfig::max_messages_per_sec`), passed to each call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    /// Thousandths of a message available.
    tokens: u32,
    /// When it was last refilled (`conn::now_ms`, modulo 2^32: only
    /// differences are used).
    at: u32,
}

/// A message costs this many thousandths.
const MESSAGE: u32 = 1000;

impl Bucket {
    /// A full bucket for `rate` messages per second at `now` (milliseconds).
    pub(crate) fn new(rate: u64, now: u64) -> Bucket {
        Bucket {
            tokens: Self::burst(rate),
            at: now as u32,
        }
    }

    fn burst(rate: u64) -> u32 {
        (rate.min(MAX_RATE) as u32) * MESSAGE
    }

    /// Adds what the time since the last refill earned (up to the burst).
    pub(crate) fn refill(&mut self, rate: u64, now: u64) {
        let elapsed = (now as u32).wrapping_sub(self.at);
        // (A clock that went back, or 49 days without a message: nothing.)
        if elapsed > 0 && elapsed < u32::MAX / 2 {
            let earned = u64::from(elapsed).saturating_mul(rate.min(MAX_RATE));
            let burst = Self::burst(rate);
            self.tokens = u64::from(self.tokens)
                .saturating_add(earned)
                .min(u64::from(burst)) as u32;
            self.at = now as u32;
        }
    }

    /// Takes one message's worth; `false` when the connection is over its
    /// rate. The bucket is refilled once per read; when it looks empty it
    /// is refilled again with `now()` first (a callback that ran long may
    /// have made the read's time stale).
    pub(crate) fn take(&mut self, rate: u64, now: impl FnOnce() -> u64) -> bool {
        if self.tokens < MESSAGE {
            self.refill(rate, now());
        }
        if self.tokens >= MESSAGE {
            self.tokens -= MESSAGE;
            true
        } else {
            false
        }
    }
}

/// The address an upgrade is counted under: the socket's peer, or with
/// `trust_proxy` the last entry of `X-Forwarded-For` (the address the
/// proxy in front of the server saw; earlier entries are whatever the
/// client wrote). IPv4-mapped IPv6 addresses count as IPv4.
pub(crate) fn client_ip(peer: IpAddr, head: &RequestHead, trust_proxy: bool) -> IpAddr {
    let forwarded = || {
        let last = head.header("x-forwarded-for")?.rsplit(',').next()?.trim();
        last.parse::<IpAddr>()
            .ok()
            .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
    };
    let ip = if trust_proxy { forwarded() } else { None }.unwrap_or(peer);
    ip.to_canonical()
}

/// Open connections per remote address (a server's
/// `SNOW_WS_MAX_CONNECTIONS_PER_IP`). Taken once per upgrade and given
/// back once per connection: a plain mutex, a leaf lock.
#[derive(Default)]
pub(crate) struct PerIp {
    open: Mutex<FxHashMap<IpAddr, usize>>,
}

/// One connection's place in its address's count, given back when dropped.
pub(crate) struct IpSlot<'a> {
    table: &'a PerIp,
    ip: IpAddr,
}

impl PerIp {
    /// A place for one more connection from `ip`, unless `max` are open.
    pub(crate) fn take(&self, ip: IpAddr, max: usize) -> Option<IpSlot<'_>> {
        let mut open = self.open.lock();
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot { table: self, ip })
    }

    /// Addresses with a connection open (tests).
    #[cfg(test)]
    pub(crate) fn addresses(&self) -> usize {
        self.open.lock().len()
    }
}

impl Drop for IpSlot<'_> {
    fn drop(&mut self) {
        let mut open = self.table.open.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let mut b = Bucket::new(10, 1000);
        for _ in 0..10 {
            assert!(b.take(10, || 1000));
        }
        assert!(!b.take(10, || 1000), "the burst is the rate");
        // 100 ms earn one message.
        assert!(!b.take(10, || 1099));
        assert!(b.take(10, || 1100));
        assert!(!b.take(10, || 1100));
        // A long pause refills up to the burst, no more.
        b.refill(10, 60_000);
        for _ in 0..10 {
            assert!(b.take(10, || 60_000));
        }
        assert!(!b.take(10, || 60_000));
    }

    #[test]
    fn a_sender_at_the_rate_is_never_refused() {
        let mut b = Bucket::new(20, 0);
        // 10 at once, then one every 50 ms for a minute.
        for _ in 0..10 {
            assert!(b.take(20, || 0));
        }
        for i in 1..1200u64 {
            b.refill(20, i * 50);
            assert!(b.take(20, || i * 50), "message {i}");
        }
    }

    #[test]
    fn huge_rates_and_clock_wraps_are_harmless() {
        let mut b = Bucket::new(u64::MAX, 5);
        for _ in 0..1000 {
            assert!(b.take(u64::MAX, || 5));
        }
        // The millisecond clock passing 2^32 between two reads.
        let mut b = Bucket::new(1, u64::from(u32::MAX) - 10);
        assert!(b.take(1, || u64::from(u32::MAX) - 10));
        assert!(!b.take(1, || u64::from(u32::MAX)));
        assert!(b.take(1, || u64::from(u32::MAX) + 995));
    }

    fn head(xff: Option<&str>) -> RequestHead {
        let mut headers = vec![("host".to_string(), "x".to_string())];
        if let Some(v) = xff {
            headers.push(("x-forwarded-for".to_string(), v.to_string()));
        }
        RequestHead {
            method: "GET".into(),
            target: "/".into(),
            minor: 1,
            headers,
        }
    }

    #[test]
    fn the_address_is_the_peer_unless_the_proxy_is_trusted() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let h = head(Some("198.51.100.9, 203.0.113.7"));
        assert_eq!(client_ip(peer, &h, false), peer, "off by default");
        assert_eq!(
            client_ip(peer, &h, true),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(peer, &head(Some("203.0.113.7:4711")), true),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(peer, &head(Some("[2001:db8::1]:80")), true),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer, &head(Some("nonsense")), true), peer);
        assert_eq!(client_ip(peer, &head(None), true), peer);
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(
            client_ip(mapped, &head(None), false),
            "127.0.0.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn addresses_are_counted_apart_and_given_back() {
        let t = PerIp::default();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let s1 = t.take(a, 2).unwrap();
        let s2 = t.take(a, 2).unwrap();
        assert!(t.take(a, 2).is_none());
        let s3 = t.take(b, 2).unwrap();
        drop(s1);
        let s4 = t.take(a, 2).unwrap();
        drop((s2, s3, s4));
        assert_eq!(t.addresses(), 0);
    }
}
