use super::{rs, s};
use crate::region::{self, run_callback, stats};

fn boom() -> ! {
    crate::panic::snow_panic(s("boom"), s("t.snow"), 3, 4)
}

#[test]
fn memory_does_not_grow_with_callbacks() {
    // Warm up: the first callback may fill the chunk cache.
    run_callback(|| s(&"x".repeat(1000))).unwrap();
    let before = stats();
    let mut max_inside = 0;
    for i in 0..1000 {
        run_callback(|| {
            // ~100 KB per callback: 70 small strings and one big object.
            for _ in 0..70 {
                let w = s(&"y".repeat(1000));
                assert_eq!(crate::string::snow_string_byte_size(w), 1000);
            }
            let big = crate::value::new_bytes(&vec![i as u8; 30_000]);
            assert_eq!(crate::bytes::snow_bytes_size(big), 30_000);
            max_inside = max_inside.max(stats().live_bytes);
        })
        .unwrap();
    }
    let after = stats();
    assert_eq!(after.live_chunks, before.live_chunks);
    assert_eq!(after.live_bytes, before.live_bytes);
    assert!(after.cached_chunks <= 16);
    // Inside a callback: the root's chunks plus at most ~4 chunks of this callback.
    assert!(
        max_inside <= before.live_bytes + 4 * region::CHUNK_SIZE + 64 * 1024,
        "{max_inside}"
    );
    assert_eq!(after.depth, 0);
}

#[test]
fn freed_chunks_are_reused() {
    run_callback(|| s("warm")).unwrap();
    let a = run_callback(|| s("first")).unwrap();
    let b = run_callback(|| s("second")).unwrap();
    assert_eq!(a, b, "the second callback reuses the freed chunk");
}

#[test]
fn pinned_region_stays_valid_until_its_pin_is_dropped() {
    let before = stats();
    let (w, pin) = run_callback(|| {
        let w = s("pinned value");
        for _ in 0..100 {
            s("garbage in the same region");
        }
        (w, region::pin(w))
    })
    .unwrap();
    assert_eq!(pin.word(), w);
    for _ in 0..50 {
        run_callback(|| {
            for _ in 0..100 {
                s("garbage garbage!");
            }
        })
        .unwrap();
    }
    assert_eq!(rs(w), "pinned value");
    let after = stats();
    assert_eq!(after.pinned_regions, before.pinned_regions + 1);
    assert_eq!(
        after.live_chunks, before.live_chunks,
        "kept outside this thread's regions"
    );
    let (bytes, set) = pin.kept();
    assert!(bytes >= region::CHUNK_SIZE, "the region is kept: {bytes}");
    drop(pin);
    assert!(
        set.upgrade().is_none(),
        "dropping the last pin frees the kept region"
    );
}

#[test]
fn pin_in_nested_callback_keeps_the_outer_region() {
    let before = stats();
    let (outer, inner) = run_callback(|| {
        let outer = s("outer");
        let inner = run_callback(|| {
            let w = s("inner");
            std::mem::forget(region::pin(w));
            w
        })
        .unwrap();
        (outer, inner)
    })
    .unwrap();
    run_callback(|| {
        (0..100).for_each(|_| {
            s("zzzzz");
        })
    })
    .unwrap();
    assert_eq!(
        (rs(outer), rs(inner)),
        ("outer".to_string(), "inner".to_string())
    );
    assert_eq!(stats().pinned_regions, before.pinned_regions + 2);
}

#[test]
fn pin_outside_callback_is_a_root_of_the_root_region() {
    std::thread::spawn(|| {
        let w = s("root value");
        let pin = region::pin(w);
        for _ in 0..1000 {
            s(&"garbage".repeat(100));
        }
        // No other root: the pin alone keeps it through a major collection.
        region::collect_with_roots(&[], true);
        assert_eq!(rs(w), "root value");
        let before = stats();
        run_callback(|| s("cb")).unwrap();
        assert_eq!(stats().pinned_regions, before.pinned_regions);
        drop(pin);
        region::collect_with_roots(&[], true);
        assert_eq!(stats().live_chunks, 0, "nothing left once unpinned");
    })
    .join()
    .unwrap();
}

#[test]
fn snow_panic_in_callback_returns_err() {
    let r: Result<i64, String> = run_callback(|| boom());
    assert_eq!(r, Err("boom".to_string()));
    assert_eq!(stats().depth, 0);
    // The thread keeps working afterwards.
    assert_eq!(run_callback(|| 5).unwrap(), 5);
}

#[test]
fn rust_panic_in_callback_returns_err() {
    let r: Result<(), String> = run_callback(|| panic!("runtime bug {}", 7));
    assert_eq!(r, Err("runtime bug 7".to_string()));
    let r: Result<(), String> = run_callback(|| std::panic::panic_any(5u8));
    assert_eq!(r, Err("unknown panic".to_string()));
}

#[test]
fn nested_callbacks() {
    let before = stats();
    let r = run_callback(|| {
        let x = s("outer value");
        assert_eq!(stats().depth, 1);
        let inner: Result<i64, String> = run_callback(|| {
            assert_eq!(stats().depth, 2);
            s(&"inner".repeat(10_000));
            boom()
        });
        assert_eq!(inner, Err("boom".into()));
        assert_eq!(stats().depth, 1);
        rs(x)
    });
    assert_eq!(r.unwrap(), "outer value");
    assert_eq!(stats().depth, 0);
    assert_eq!(stats().live_chunks, before.live_chunks);
}

#[test]
fn snow_alloc_is_aligned_and_distinct() {
    let a = region::snow_alloc(3) as usize;
    let b = region::snow_alloc(0) as usize;
    let c = region::snow_alloc(100_000) as usize;
    assert_eq!(a % 8, 0);
    assert_eq!(b % 8, 0);
    assert_eq!(c % 8, 0);
    assert!(b >= a + 8 || a >= b + 8);
    unsafe { std::ptr::write_bytes(c as *mut u8, 0xAB, 100_000) };
}

#[test]
fn negative_allocation_is_a_panic() {
    let r = run_callback(|| region::snow_alloc(-1) as usize);
    assert_eq!(r, Err("allocation of a negative size".to_string()));
}
