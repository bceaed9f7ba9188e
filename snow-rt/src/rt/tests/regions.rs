//! Regions through callbacks: memory per callback, pins, nested and own
//! regions, and why a callback stopped ([`Abort`]).

use crate::rt::region::{self, stats};
use crate::rt::testing::{collect_with_roots, rs, s, safepoint};
use crate::rt::{run_callback, with_region, Abort, OwnRegion};

fn boom() -> ! {
    crate::rt::panic::snow_panic(s("boom"), s("t.snow"), 3, 4)
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
                assert_eq!(crate::stdlib::string::snow_string_byte_size(w), 1000);
            }
            let big = crate::rt::new_bytes(&vec![i as u8; 30_000]);
            assert_eq!(crate::stdlib::bytes::snow_bytes_size(big), 30_000);
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
        collect_with_roots(&[], true);
        assert_eq!(rs(w), "root value");
        let before = stats();
        run_callback(|| s("cb")).unwrap();
        assert_eq!(stats().pinned_regions, before.pinned_regions);
        drop(pin);
        collect_with_roots(&[], true);
        assert_eq!(stats().live_chunks, 0, "nothing left once unpinned");
    })
    .join()
    .unwrap();
}

#[test]
fn snow_panic_in_callback_returns_err() {
    let r: Result<i64, Abort> = run_callback(|| boom());
    assert_eq!(r, Err(Abort::Panic("boom".to_string())));
    assert_eq!(stats().depth, 0);
    // The thread keeps working afterwards.
    assert_eq!(run_callback(|| 5).unwrap(), 5);
}

#[test]
fn rust_panic_in_callback_returns_err() {
    let r: Result<(), Abort> = run_callback(|| panic!("runtime bug {}", 7));
    assert_eq!(r, Err(Abort::Panic("runtime bug 7".to_string())));
    let r: Result<(), Abort> = run_callback(|| std::panic::panic_any(5u8));
    assert_eq!(r, Err(Abort::Panic("unknown panic".to_string())));
}

#[test]
fn nested_callbacks() {
    let before = stats();
    let r = run_callback(|| {
        let x = s("outer value");
        assert_eq!(stats().depth, 1);
        let inner: Result<i64, Abort> = run_callback(|| {
            assert_eq!(stats().depth, 2);
            s(&"inner".repeat(10_000));
            boom()
        });
        assert_eq!(inner, Err(Abort::Panic("boom".into())));
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
    // SAFETY: 100,000 bytes were just allocated at `c`.
    unsafe { std::ptr::write_bytes(c as *mut u8, 0xAB, 100_000) };
}

#[test]
fn negative_allocation_is_a_panic() {
    let r = run_callback(|| region::snow_alloc(-1) as usize);
    assert_eq!(
        r,
        Err(Abort::Panic("allocation of a negative size".to_string()))
    );
}

/// Recurses with a safepoint per call, as generated code does, until the
/// stack runs out.
#[inline(never)]
fn deep(file: i64, n: u64) -> u64 {
    let frame = [n; 64];
    safepoint(file, 7, 9);
    if n == u64::MAX {
        return 0;
    }
    let r = deep(file, n + 1);
    // The frame is live across the call: a real recursion, not a loop.
    std::hint::black_box(&frame);
    r
}

#[test]
fn a_stack_overflow_is_its_own_abort() {
    std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(|| {
            let file = s("deep.snow");
            let r = run_callback(|| deep(file, 0));
            assert_eq!(r, Err(Abort::StackOverflow));
            assert_eq!(Abort::StackOverflow.to_string(), "stack overflow");
            // The thread goes on: the real limit is back in place.
            assert_eq!(run_callback(|| 1).unwrap(), 1);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_timeout_signal_ends_only_the_callback_it_was_meant_for() {
    std::thread::spawn(|| {
        let file = s("slow.snow");
        let r = run_callback(|| {
            let ctl = crate::rt::stack::current().expect("registered by run_callback");
            let seq = ctl.callback_seq.load(std::sync::atomic::Ordering::SeqCst);
            // A signal for a callback that already ended is ignored...
            ctl.signal_timeout(seq - 1, 5);
            safepoint(file, 1, 1);
            // ...one for this callback ends it at its next safepoint.
            ctl.signal_timeout(seq, 5);
            drop(ctl);
            safepoint(file, 2, 3);
            unreachable!("the safepoint panics")
        });
        assert_eq!(r, Err(Abort::TimedOut { ms: 5 }));
        assert_eq!(
            Abort::TimedOut { ms: 5 }.to_string(),
            "callback timed out (ran longer than 5 ms)"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn the_heap_limit_message_names_its_setting() {
    let a = Abort::HeapLimit {
        live: 300 << 20,
        limit: 256 << 20,
    };
    assert_eq!(
        a.to_string(),
        "callback heap limit exceeded: 300 MiB live (SNOW_WS_CALLBACK_HEAP_BYTES = 268435456)"
    );
}

#[test]
fn an_own_region_is_the_current_region_on_any_thread() {
    let mut own = OwnRegion::new();
    let before = stats();
    // Build a value in it on this thread and pin it (a service's state).
    let (state, pin) = with_region(&mut own, || {
        assert_eq!(stats().depth, before.depth + 1);
        let w = s("state v1");
        (w, crate::rt::pin(w))
    });
    let here = |st: crate::rt::Stats| (st.depth, st.live_chunks, st.live_bytes);
    assert_eq!(
        here(stats()),
        here(before),
        "nothing of it is this thread's"
    );
    assert!(own.bytes() > 0);
    // Another thread runs code in it: allocates garbage, collects it with
    // the pin as the only root, and reads the state.
    let own = std::thread::spawn(move || {
        let mut own = own;
        with_region(&mut own, || {
            for _ in 0..5_000 {
                s(&"garbage".repeat(20));
            }
            let st = collect_with_roots(&[], true);
            assert!(st.live < 4096, "only the pinned state is live: {st:?}");
            assert_eq!(rs(state), "state v1");
        });
        own
    })
    .join()
    .unwrap();
    assert_eq!(rs(pin.word()), "state v1");
    // A panic inside leaves the region and restores the previous one.
    let mut own = own;
    let r = crate::rt::catch(|| with_region(&mut own, || boom()));
    assert_eq!(r, Err(Abort::Panic("boom".into())));
    assert_eq!(here(stats()), here(before));
    // Pins made in an own region inside a callback keep no enclosing region.
    let pinned = stats().pinned_regions;
    run_callback(|| with_region(&mut own, || std::mem::forget(crate::rt::pin(s("x"))))).unwrap();
    assert_eq!(stats().pinned_regions, pinned);
    drop(pin);
    drop(own);
}

#[test]
fn a_collection_asked_for_by_a_region_left_before_a_safepoint_is_asked_for_again() {
    std::thread::spawn(|| {
        crate::rt::register_current_thread();
        let file = s("svc.snow");
        let mut own = OwnRegion::new();
        // Past the collection threshold without a safepoint: the region is
        // left with its collection asked for and not run.
        with_region(&mut own, || {
            for _ in 0..100_000 {
                s(&"x".repeat(100));
            }
        });
        // A safepoint of the enclosing region takes the thread's signal.
        safepoint(file, 1, 1);
        // Back in the own region, its next allocation asks again.
        with_region(&mut own, || {
            let before = stats().collections;
            s("one more");
            safepoint(file, 2, 1);
            assert_eq!(
                stats().collections,
                before + 1,
                "the own region was collected"
            );
        });
    })
    .join()
    .unwrap();
}
