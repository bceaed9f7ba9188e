//! Services through their ABI functions (`service.rs` with `region.rs`,
//! `typedesc.rs`, `panic.rs`, `stack.rs`): order, casts seen by later
//! calls, panics keeping the old state, deadlocks, many threads, memory,
//! the time limit while waiting. Handlers are Rust functions with the C
//! entry of generated handler entries: `(self, state, args) -> result`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use crate::rt::service::{service_stats, snow_service_call, snow_service_cast, snow_service_start};
use crate::rt::testing::{desc, ints, s, snow_panic, static_closure};
use crate::rt::{
    catch, cons, list_from_slice, new_tuple, run_callback, word, Abort, TD_INT, TD_LIST, TD_OTHER,
    TD_RECORD, TD_UNIT,
};

/// `(Int)`: the record of one Int argument.
fn int_args() -> i64 {
    desc(TD_RECORD, &[TD_INT])
}

fn ints_desc() -> i64 {
    desc(TD_LIST, &[TD_INT])
}

extern "C-unwind" fn init_zero(_this: *const u8, _args: i64) -> i64 {
    0
}

extern "C-unwind" fn init_empty(_this: *const u8, _args: i64) -> i64 {
    0
}

/// `call Add(k) :: Int`: n + k, reply the new count.
extern "C-unwind" fn add(_this: *const u8, n: i64, args: i64) -> i64 {
    // SAFETY: a record of one Int.
    let k = unsafe { word(args, 0) };
    new_tuple(&[n + k, n + k])
}

/// `call Get() :: Int`.
extern "C-unwind" fn get(_this: *const u8, n: i64, _args: i64) -> i64 {
    new_tuple(&[n, n])
}

/// `cast Bump(k)`.
extern "C-unwind" fn bump(_this: *const u8, n: i64, args: i64) -> i64 {
    // SAFETY: a record of one Int.
    n + unsafe { word(args, 0) }
}

/// `cast Push(k)` on a `List<Int>` state (newest first).
extern "C-unwind" fn push(_this: *const u8, xs: i64, args: i64) -> i64 {
    // SAFETY: a record of one Int.
    cons(unsafe { word(args, 0) }, xs)
}

/// `call Items() :: List<Int>`.
extern "C-unwind" fn items(_this: *const u8, xs: i64, _args: i64) -> i64 {
    new_tuple(&[xs, xs])
}

/// `call Fail(k)`: panics when k == 0, else like Add.
extern "C-unwind" fn fail(this: *const u8, n: i64, args: i64) -> i64 {
    // SAFETY: a record of one Int.
    if unsafe { word(args, 0) } == 0 {
        snow_panic(s("boom"), s("t.snow"), 3, 4);
    }
    add(this, n, args)
}

/// `cast Explode()`: always panics.
extern "C-unwind" fn explode(_this: *const u8, _n: i64, _args: i64) -> i64 {
    snow_panic(s("boom in a cast"), s("t.snow"), 5, 6)
}

fn start(init: extern "C-unwind" fn(*const u8, i64) -> i64) -> i64 {
    snow_service_start(
        static_closure(init as *const u8),
        TD_UNIT,
        0,
        TD_INT,
        s("Test"),
    )
}

type Handler = extern "C-unwind" fn(*const u8, i64, i64) -> i64;

fn entry(h: Handler) -> i64 {
    static ENTRIES: Mutex<Vec<(usize, i64)>> = Mutex::new(Vec::new());
    let mut es = ENTRIES.lock().unwrap();
    let code = h as usize;
    if let Some(&(_, e)) = es.iter().find(|(c, _)| *c == code) {
        return e;
    }
    let e = static_closure(h as *const u8);
    es.push((code, e));
    e
}

fn call(svc: i64, h: Handler, k: i64) -> i64 {
    snow_service_call(svc, entry(h), int_args(), new_tuple(&[k]), TD_INT)
}

fn cast(svc: i64, h: Handler, k: i64) {
    snow_service_cast(svc, entry(h), int_args(), new_tuple(&[k]));
}

/// The list state of a `push` service, oldest first.
fn pushed(svc: i64) -> Vec<i64> {
    let xs = snow_service_call(svc, entry(items), TD_UNIT, 0, ints_desc());
    let mut v = ints(xs);
    v.reverse();
    v
}

#[test]
fn calls_and_casts_run_in_order() {
    let c = start(init_zero);
    assert_eq!(call(c, add, 5), 5);
    cast(c, bump, 3);
    cast(c, bump, 4);
    assert_eq!(call(c, get, 0), 12, "a call after casts sees them");
    let l = start(init_empty);
    for k in 0..100 {
        cast(l, push, k);
    }
    assert_eq!(pushed(l), (0..100).collect::<Vec<_>>());
}

#[test]
fn replies_and_arguments_are_copied_between_heaps() {
    let l = start(init_empty);
    cast(l, push, 1);
    let a = snow_service_call(l, entry(items), TD_UNIT, 0, ints_desc());
    let b = snow_service_call(l, entry(items), TD_UNIT, 0, ints_desc());
    assert_ne!(a, b, "each reply is a copy in the caller's region");
    assert_eq!(ints(a), ints(b));
    // A list argument: copied in, the caller's own list untouched.
    extern "C-unwind" fn replace(_this: *const u8, _xs: i64, args: i64) -> i64 {
        // SAFETY: a record of one list.
        unsafe { word(args, 0) }
    }
    let mine = list_from_slice(&[7, 8, 9]);
    let args_td = desc(TD_RECORD, &[ints_desc()]);
    snow_service_cast(l, entry(replace), args_td, new_tuple(&[mine]));
    let got = snow_service_call(l, entry(items), TD_UNIT, 0, ints_desc());
    assert_eq!(ints(got), [7, 8, 9]);
    assert_ne!(got, mine);
}

#[test]
fn a_panicking_handler_keeps_the_old_state() {
    let c = start(init_zero);
    assert_eq!(call(c, add, 10), 10);
    let r = catch(|| call(c, fail, 0));
    assert_eq!(
        r,
        Err(Abort::Panic("boom".into())),
        "the call panics in the caller"
    );
    assert_eq!(call(c, get, 0), 10, "the state before the panic");
    // A cast's panic is reported; the service goes on.
    cast(c, explode, 0);
    assert_eq!(call(c, fail, 1), 11);
}

/// `call Me(handle)`: calls its own service.
extern "C-unwind" fn call_self(_this: *const u8, n: i64, args: i64) -> i64 {
    // SAFETY: a record of one handle.
    let me = unsafe { word(args, 0) };
    let r = snow_service_call(me, entry(get), TD_UNIT, 0, TD_INT);
    new_tuple(&[r, n])
}

/// `call Via(other)`: calls `get` of another service.
extern "C-unwind" fn call_other(_this: *const u8, n: i64, args: i64) -> i64 {
    // SAFETY: a record of one handle.
    let other = unsafe { word(args, 0) };
    let r = snow_service_call(other, entry(get), TD_UNIT, 0, TD_INT);
    new_tuple(&[r + n, n])
}

fn handle_args() -> i64 {
    desc(TD_RECORD, &[TD_OTHER])
}

#[test]
fn a_handler_calling_its_own_service_panics_with_deadlock() {
    let a = start(init_zero);
    let r =
        catch(|| snow_service_call(a, entry(call_self), handle_args(), new_tuple(&[a]), TD_INT));
    match r {
        Err(Abort::Panic(m)) => assert!(m.contains("deadlock"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Through a second service: A.via(B) where B's handler calls A.
    let b = start(init_zero);
    extern "C-unwind" fn via(_this: *const u8, n: i64, args: i64) -> i64 {
        // SAFETY: a record of two handles (b, a).
        let (b, a) = unsafe { (word(args, 0), word(args, 1)) };
        let td = desc(TD_RECORD, &[TD_OTHER]);
        let r = snow_service_call(b, entry(call_other), td, new_tuple(&[a]), TD_INT);
        new_tuple(&[r, n])
    }
    let two = desc(TD_RECORD, &[TD_OTHER, TD_OTHER]);
    let r = catch(|| snow_service_call(a, entry(via), two, new_tuple(&[b, a]), TD_INT));
    match r {
        Err(Abort::Panic(m)) => assert!(m.contains("deadlock"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Both services still answer.
    assert_eq!(call(a, add, 1), 1);
    assert_eq!(call(b, add, 2), 2);
}

static CROSS: Barrier = Barrier::new(2);

/// `call Cross(other)`: waits until both threads hold their service, then
/// calls the other one.
extern "C-unwind" fn cross(this: *const u8, n: i64, args: i64) -> i64 {
    CROSS.wait();
    call_other(this, n, args)
}

#[test]
fn a_cycle_of_waits_across_threads_panics_instead_of_hanging() {
    let a = start(init_zero);
    let b = start(init_zero);
    let run = |mine: i64, other: i64| {
        std::thread::spawn(move || {
            catch(|| {
                snow_service_call(
                    mine,
                    entry(cross),
                    handle_args(),
                    new_tuple(&[other]),
                    TD_INT,
                )
            })
        })
    };
    let t0 = Instant::now();
    let (ra, rb) = (run(a, b), run(b, a));
    let (ra, rb) = (ra.join().unwrap(), rb.join().unwrap());
    assert!(t0.elapsed() < Duration::from_secs(10));
    let deadlocks = [&ra, &rb]
        .iter()
        .filter(|r| matches!(r, Err(Abort::Panic(m)) if m.contains("deadlock")))
        .count();
    assert_eq!(
        deadlocks, 1,
        "one of the two panics, the other completes: {ra:?} {rb:?}"
    );
    assert!(ra.is_ok() || rb.is_ok());
}

#[test]
fn many_threads_lose_no_update() {
    let c = start(init_zero);
    let threads = 8;
    let per = 5_000;
    let replies: Vec<Vec<i64>> = (0..threads)
        .map(|_| std::thread::spawn(move || (0..per).map(|_| call(c, add, 1)).collect::<Vec<_>>()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let mut all: Vec<i64> = replies.into_iter().flatten().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), threads * per, "every reply distinct");
    assert_eq!(call(c, get, 0), (threads * per) as i64);
}

static SLOW_ENTERED: Barrier = Barrier::new(2);
static SLOW_GO: Barrier = Barrier::new(2);

/// `call Slow()`: holds the service until the test lets it go.
extern "C-unwind" fn slow(this: *const u8, n: i64, args: i64) -> i64 {
    SLOW_ENTERED.wait();
    SLOW_GO.wait();
    get(this, n, args)
}

#[test]
fn casts_to_a_busy_service_queue_and_a_later_call_sees_them() {
    let l = start(init_empty);
    let holder = std::thread::spawn(move || {
        snow_service_call(l, entry(slow), TD_UNIT, 0, ints_desc());
    });
    SLOW_ENTERED.wait();
    // The service is busy: 500 casts return at once (queued, more than a
    // thread serves of others' messages before handing the rest on).
    let t0 = Instant::now();
    for k in 0..500 {
        cast(l, push, k);
    }
    assert!(t0.elapsed() < Duration::from_secs(5));
    let caller = std::thread::spawn(move || pushed(l));
    std::thread::sleep(Duration::from_millis(50));
    SLOW_GO.wait();
    holder.join().unwrap();
    assert_eq!(caller.join().unwrap(), (0..500).collect::<Vec<_>>());
}

#[test]
fn a_cast_from_a_handler_runs_after_it_even_when_it_calls_back() {
    // A's handler casts to B; B's cast handler calls A. Run inline this
    // would wait on A's own thread; queued, it runs once A is free.
    static A: AtomicUsize = AtomicUsize::new(0);
    extern "C-unwind" fn poke(_this: *const u8, n: i64, args: i64) -> i64 {
        // SAFETY: a record of one handle.
        let b = unsafe { word(args, 0) };
        snow_service_cast(b, entry(back), TD_UNIT, 0);
        new_tuple(&[n, n + 1])
    }
    extern "C-unwind" fn back(_this: *const u8, n: i64, _args: i64) -> i64 {
        let a = A.load(Ordering::SeqCst) as i64;
        n + snow_service_call(a, entry(get), TD_UNIT, 0, TD_INT)
    }
    let a = start(init_zero);
    A.store(a as usize, Ordering::SeqCst);
    let b = start(init_zero);
    snow_service_call(a, entry(poke), handle_args(), new_tuple(&[b]), TD_INT);
    let t0 = Instant::now();
    while call(b, get, 0) != 1 {
        assert!(t0.elapsed() < Duration::from_secs(10), "the cast never ran");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn memory_follows_the_state_not_the_messages() {
    // Each cast replaces a 1,000-element list: 16 KB of garbage a message.
    extern "C-unwind" fn rebuild(_this: *const u8, _xs: i64, args: i64) -> i64 {
        // SAFETY: a record of one Int.
        let k = unsafe { word(args, 0) };
        let items: Vec<i64> = (0..1000).map(|i| i + k).collect();
        list_from_slice(&items)
    }
    let l = start(init_empty);
    let mut most = 0;
    for k in 0..5_000 {
        cast(l, rebuild, k);
        if k % 100 == 0 {
            // SAFETY: nobody else holds it.
            most = most.max(unsafe { service_stats(l) }.0);
        }
    }
    // SAFETY: as above.
    let (bytes, live, collections, handled) = unsafe { service_stats(l) };
    assert_eq!(handled, 5_000);
    assert!(collections >= 5, "{collections} collections");
    assert!(live < 1 << 20, "live {live}");
    assert!(
        most < 24 << 20,
        "the heap peaked at {most} bytes (80 MB went through it)"
    );
    assert!(bytes < 24 << 20);
    assert_eq!(pushed(l)[0], 4_999 + 999);
}

#[test]
fn a_caller_waiting_for_a_busy_service_keeps_its_time_limit() {
    let l = start(init_empty);
    static ENTERED: Barrier = Barrier::new(2);
    static GO: Barrier = Barrier::new(2);
    extern "C-unwind" fn hold(this: *const u8, n: i64, args: i64) -> i64 {
        ENTERED.wait();
        GO.wait();
        get(this, n, args)
    }
    let holder = std::thread::spawn(move || {
        snow_service_call(l, entry(hold), TD_UNIT, 0, TD_INT);
    });
    ENTERED.wait();
    let waiter = std::thread::spawn(move || {
        run_callback(|| {
            // What the watchdog does when the callback runs too long.
            let ctl = crate::rt::stack::current().expect("a callback registers its thread");
            let seq = ctl.callback_seq.load(Ordering::SeqCst);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                ctl.signal_timeout(seq, 42);
            });
            call(l, get, 0)
        })
    });
    let r = waiter.join().unwrap();
    assert_eq!(r, Err(Abort::TimedOut { ms: 42 }));
    GO.wait();
    holder.join().unwrap();
    // The service is still free to use.
    assert_eq!(pushed(l), Vec::<i64>::new());
}
