use super::{rs, s};
use crate::closure::testing::{capture, make};
use crate::region::{self, pin_current, run_callback, stats};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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
fn pinned_region_stays_valid() {
    let before = stats();
    let w = run_callback(|| {
        let w = s("pinned value");
        pin_current();
        w
    })
    .unwrap();
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
    assert_eq!(after.live_chunks, before.live_chunks + 1);
}

#[test]
fn pin_in_nested_callback_keeps_the_outer_region() {
    let before = stats();
    let (outer, inner) = run_callback(|| {
        let outer = s("outer");
        let inner = run_callback(|| {
            let w = s("inner");
            pin_current();
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
fn pin_outside_callback_is_harmless() {
    let before = stats();
    pin_current();
    let w = s("root");
    run_callback(|| s("cb")).unwrap();
    assert_eq!(rs(w), "root");
    assert_eq!(stats().pinned_regions, before.pinned_regions);
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

extern "C-unwind" fn count_tick(this: *const u8) -> i64 {
    let counter = unsafe { capture(this, 0) } as *const AtomicUsize;
    unsafe { (*counter).fetch_add(1, Ordering::SeqCst) };
    // Allocate in the tick's region.
    s("tick");
    0
}

/// Panics on its first three ticks, then just counts.
extern "C-unwind" fn panicking_tick(this: *const u8) -> i64 {
    let counter = unsafe { capture(this, 0) } as *const AtomicUsize;
    let n = unsafe { (*counter).fetch_add(1, Ordering::SeqCst) };
    if n < 3 {
        boom()
    }
    0
}

fn leaked_counter() -> &'static AtomicUsize {
    Box::leak(Box::new(AtomicUsize::new(0)))
}

fn wait_for(counter: &AtomicUsize, n: usize) -> bool {
    for _ in 0..200 {
        if counter.load(Ordering::SeqCst) >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn timer_ticks_repeatedly() {
    let counter = leaked_counter();
    let clo = make(count_tick as *const u8, &[counter as *const _ as i64]);
    assert_eq!(crate::timer::snow_timer_every(0, 5, clo), 0);
    assert!(
        wait_for(counter, 5),
        "ticks: {}",
        counter.load(Ordering::SeqCst)
    );
}

#[test]
fn timer_goes_on_after_a_panicking_tick() {
    let counter = leaked_counter();
    let clo = make(panicking_tick as *const u8, &[counter as *const _ as i64]);
    crate::timer::snow_timer_every(0, 5, clo);
    assert!(
        wait_for(counter, 3),
        "ticks: {}",
        counter.load(Ordering::SeqCst)
    );
}

#[test]
fn timer_started_in_a_callback_pins_its_closure() {
    let counter = leaked_counter();
    let before = stats();
    run_callback(|| {
        let clo = make(count_tick as *const u8, &[counter as *const _ as i64]);
        crate::timer::snow_timer_every(0, 5, clo);
    })
    .unwrap();
    // Reuse freed memory aggressively: a freed closure would be overwritten.
    for _ in 0..200 {
        run_callback(|| {
            (0..200).for_each(|_| {
                s("overwrite-overwrite");
            })
        })
        .unwrap();
    }
    assert_eq!(stats().pinned_regions, before.pinned_regions + 1);
    assert!(wait_for(counter, 5));
}

#[test]
fn negative_allocation_is_a_panic() {
    let r = run_callback(|| region::snow_alloc(-1) as usize);
    assert_eq!(r, Err("allocation of a negative size".to_string()));
}

#[test]
fn loop_marks_free_each_iteration_and_keep_older_values() {
    use crate::region::{snow_region_mark, snow_region_reset};
    std::thread::spawn(|| {
        let before_loop = s("allocated before the loop");
        let mark = snow_region_mark();
        let start = stats();
        for i in 0..2000 {
            // ~40 KB per iteration, including a big object in its own chunk
            for _ in 0..10 {
                s(&"z".repeat(1000));
            }
            crate::value::new_bytes(&vec![i as u8; 30_000]);
            snow_region_reset(mark);
        }
        let end = stats();
        assert_eq!(end.live_chunks, start.live_chunks);
        assert_eq!(end.live_bytes, start.live_bytes);
        assert_eq!(
            unsafe { crate::value::str_ref(before_loop) },
            "allocated before the loop"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn loop_reset_after_a_pin_keeps_everything() {
    use crate::region::{snow_region_mark, snow_region_reset};
    std::thread::spawn(|| {
        let mark = snow_region_mark();
        let kept = s("handed to the runtime");
        pin_current();
        let before = stats();
        snow_region_reset(mark);
        assert_eq!(stats().live_bytes, before.live_bytes);
        assert_eq!(
            unsafe { crate::value::str_ref(kept) },
            "handed to the runtime"
        );
        // the allocator goes on after the kept value, never over it
        let next = s("next");
        assert_ne!(next, kept);
        assert_eq!(
            unsafe { crate::value::str_ref(kept) },
            "handed to the runtime"
        );
    })
    .join()
    .unwrap();
}

#[test]
fn loop_reset_after_a_pin_frees_later_iterations_again() {
    use crate::region::{snow_region_mark, snow_region_reset};
    std::thread::spawn(|| {
        let mark = snow_region_mark();
        let kept = s("a timer's closure");
        pin_current();
        snow_region_reset(mark); // keeps `kept`, moves the mark above it
        let after_pin = stats();
        for _ in 0..1000 {
            crate::value::new_bytes(&[7u8; 30_000]);
            for _ in 0..5 {
                s(&"w".repeat(1000));
            }
            snow_region_reset(mark);
        }
        assert_eq!(
            stats().live_bytes,
            after_pin.live_bytes,
            "iterations after the pin are freed"
        );
        assert_eq!(unsafe { crate::value::str_ref(kept) }, "a timer's closure");
    })
    .join()
    .unwrap();
}
