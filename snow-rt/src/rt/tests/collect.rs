//! Collections of the current region (`gc.rs` through `region.rs`): what
//! is reachable survives, garbage is reused, memory stays bounded, and a
//! safepoint (`snow_check`) collects from the real stack. Every collection
//! in a test build ends with `Heap::verify` (gc.rs).

use crate::rt::region::{self, stats};
use crate::rt::testing::{collect_with_roots, ints, rs, s, safepoint};
use crate::rt::{cons, list_from_slice, list_to_vec, new_tuple, word};

/// A root range holding exactly `words`.
fn roots(words: &[i64]) -> [(usize, usize); 1] {
    let a = words.as_ptr() as usize;
    [(a, a + 8 * words.len())]
}

#[test]
fn reachable_values_survive_and_garbage_is_reused() {
    std::thread::spawn(|| {
        // A list of strings and a chain of tuples (`(i, text, next)`),
        // built among lots of garbage.
        let mut list = 0;
        let mut chain = 0;
        for i in 0..20_000 {
            let text = s(&format!("value {i}"));
            for _ in 0..5 {
                s(&format!("garbage {i}"));
                cons(1, list);
                new_tuple(&[i, list, chain]);
            }
            list = cons(text, list);
            chain = new_tuple(&[i, text, chain]);
        }
        let keep = [list, chain];
        let st = collect_with_roots(&roots(&keep), true);
        assert!(st.major);
        let texts: Vec<String> = ints(list).into_iter().map(rs).collect();
        assert_eq!(texts.len(), 20_000);
        assert_eq!(texts[0], "value 19999");
        assert_eq!(texts[19_999], "value 0");
        let mut at = chain;
        for i in (0..20_000).rev() {
            // SAFETY: every link of the chain is a tuple of three words.
            let (n, text, next) = unsafe { (word(at, 0), word(at, 1), word(at, 2)) };
            assert_eq!(n, i);
            if i % 4_999 == 0 {
                assert_eq!(rs(text), format!("value {i}"));
            }
            at = next;
        }
        assert_eq!(at, 0);
        // Allocating the same amount again reuses the freed memory.
        let chunks = stats().live_chunks;
        for i in 0..20_000 {
            for _ in 0..5 {
                s(&format!("garbage {i}"));
            }
        }
        assert!(
            stats().live_chunks <= chunks + 2,
            "{} chunks, {chunks} after the collection",
            stats().live_chunks
        );
        // SAFETY: a list.
        assert_eq!(rs(unsafe { list_to_vec(list) }[5]), "value 19994");
    })
    .join()
    .unwrap();
}

#[test]
fn a_loop_that_replaces_its_value_runs_in_bounded_memory() {
    std::thread::spawn(|| {
        let mut keep = [s("start"), 0];
        let mut peak = 0;
        for i in 0..200_000 {
            // A new string and a 10-cell list per iteration; the old ones die.
            keep[0] = s(&format!("iteration {i} {}", "x".repeat(100)));
            keep[1] = list_from_slice(&[i; 10]);
            if i % 1000 == 0 {
                collect_with_roots(&roots(&keep), false);
                peak = peak.max(stats().live_bytes);
            }
        }
        assert!(peak < 8 << 20, "peak {peak}");
        assert_eq!(ints(keep[1]), vec![199_999; 10]);
        assert!(rs(keep[0]).starts_with("iteration 199999 "));
    })
    .join()
    .unwrap();
}

#[test]
fn a_safepoint_collects_from_the_stack() {
    std::thread::spawn(|| {
        crate::rt::register_current_thread();
        let file = s("t.snow");
        // Only this thread's stack (and registers) refer to `kept`.
        let kept = std::hint::black_box(list_from_slice(&[1, 2, 3]));
        let before = stats().collections;
        for i in 0..400_000 {
            s(&format!("garbage garbage garbage garbage garbage {i}"));
            // The allocator asks for a collection past 8 MiB; generated code
            // would call snow_check at its next call.
            safepoint(file, 1, 1);
        }
        let after = stats();
        assert!(after.collections > before, "no collection ran");
        assert!(after.live_bytes < 24 << 20, "{after:?}");
        assert_eq!(ints(std::hint::black_box(kept)), vec![1, 2, 3]);
        assert_eq!(rs(file), "t.snow");
    })
    .join()
    .unwrap();
}

#[test]
fn callback_regions_are_collected_too_and_outer_values_are_left_alone() {
    std::thread::spawn(|| {
        crate::rt::register_current_thread();
        let outer = s("from the root region");
        crate::rt::run_callback(|| {
            let kept = [s("kept in the callback")];
            for _ in 0..10_000 {
                s(&"g".repeat(200));
            }
            collect_with_roots(&roots(&kept), true);
            assert!(stats().live_bytes < 4 * region::CHUNK_SIZE);
            assert_eq!(rs(kept[0]), "kept in the callback");
        })
        .unwrap();
        assert_eq!(rs(outer), "from the root region");
    })
    .join()
    .unwrap();
}
