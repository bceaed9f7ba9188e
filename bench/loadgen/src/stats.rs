//! A log-linear latency histogram (about 1.5 % precision) and percentiles.

/// Values below this are stored exactly (one bucket per microsecond).
const LINEAR: u64 = 128;
/// Sub-buckets per power of two above `LINEAR`.
const SUB_BITS: u32 = 6;
const BUCKETS: usize = LINEAR as usize + (64 - 7) * (1 << SUB_BITS);

/// Counts of latencies in microseconds.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= 7
    let m = (v >> (e - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + (e as usize - 7) * (1 << SUB_BITS) + m as usize
}

/// The smallest value of bucket `i` (what percentiles report).
fn lower(i: usize) -> u64 {
    if (i as u64) < LINEAR {
        return i as u64;
    }
    let j = i - LINEAR as usize;
    let e = (j >> SUB_BITS) as u32 + 7;
    let m = (j & ((1 << SUB_BITS) - 1)) as u64;
    (1u64 << e) | (m << (e - SUB_BITS))
}

impl Histogram {
    pub fn record(&mut self, micros: u64) {
        self.counts[index(micros)] += 1;
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` (0..=1); 0 for an empty histogram.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return lower(i);
            }
        }
        lower(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_within_two_percent() {
        for v in [0u64, 1, 127, 128, 129, 1000, 12_345, 1 << 20, 987_654_321] {
            let lo = lower(index(v));
            assert!(lo <= v, "{v}: lower bound {lo} above the value");
            assert!(
                (v - lo) as f64 <= v as f64 * 0.02,
                "{v}: bucket {lo} too coarse"
            );
        }
        assert!(index(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut h = Histogram::default();
        for v in 1..=100u64 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), 50);
        assert_eq!(h.quantile(0.99), 99);
        assert_eq!(h.quantile(1.0), 100);
        h.record(1_000_000);
        assert!(h.quantile(1.0) >= 980_000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }
}
