//! Services (docs/ABI.md "Services"; the contract is the spec's
//! "Services": one message at a time, order per caller, a panic keeps the
//! old state, a call that would wait on itself panics with `deadlock`).
//!
//! A service is its state on a heap of its own ([`OwnRegion`]) and a lock
//! word. **The caller runs the handler** (docs/ARCHITECTURE.md "Services"
//! says why, with the measurements): a call takes the service, makes its
//! heap the current region, copies the arguments in, runs the handler,
//! keeps the new state, copies the reply out into the caller's region and
//! lets the service go. No thread switch, no message allocation, no
//! channel: an uncontended call is two atomic operations around the
//! handler and the copies.
//!
//! **The word** holds the holder (the address of its thread's [`ThreadRec`],
//! 0 when free) and the bit [`QUEUED`] (the queue is not empty). Free →
//! held and held → free without a queue are one compare-and-swap each;
//! every other change happens under the queue's lock, so `QUEUED` is set
//! exactly when the queue holds something.
//!
//! **The queue** (FIFO) holds casts and waiting callers:
//! - a cast that finds the service taken is queued in [`Owned`] form (it
//!   never waits for a handler); so is a cast from inside a handler (it
//!   would otherwise run synchronously under the services that thread
//!   holds, and a handler calling back into one of them would be a
//!   deadlock the asynchronous cast does not have);
//! - a call that finds the service taken queues a [`Waiter`] and parks.
//!
//! Whoever lets the service go serves the queue in order: it runs the
//! queued casts (in the service's heap) until it meets a waiter, to which
//! it hands the service directly, or the queue is empty. So a call made
//! after a caller's own cast sees that cast, and no message overtakes an
//! earlier one. Only a thread without a time limit serves others' casts
//! (`main`, the service thread), at most [`BUDGET`] of them or for
//! [`BUDGET_TIME`], and not while it holds another service. A callback
//! (time-limited: the casts are not its own) or a thread over its budget
//! hands the rest on: to the first waiter if that one may serve (it then
//! serves the casts before its own turn), else to the one **service
//! thread** (`snow-services`), which serves backlogs nobody else serves;
//! waiting callers behind them are let in as it reaches them. A caller
//! without a time limit that finds such a backlog serves it up to its own
//! turn; a callback waits for the service thread.
//!
//! **Deadlock.** A call on a service held by the calling thread (a handler
//! calling its own service, directly or through other services) panics at
//! once. Waiting callers record what they wait for ([`ThreadRec`]); before
//! parking, a caller follows holder → what it waits for → its holder ...
//! (under one global lock, taken only on this slow path), and a chain that
//! comes back to the caller panics with `deadlock` instead of waiting.
//!
//! **Time.** A caller parks in slices and checks its callback's time limit
//! (`SNOW_WS_CALLBACK_TIMEOUT_MS`) between them; handlers run on the
//! caller's thread, so their safepoints see the limit like any callback
//! code. The service thread and `main` have no limit.
//!
//! **Memory.** Collections of a service's heap run at safepoints of its
//! handlers (roots: the thread's stack and the heap's pins, as for any
//! region) and between messages when its allocation asks for one, with the
//! state as the only root ([`OwnRegion::collect_with_roots`]): the heap
//! follows the state's live size, however many messages go through it.
//! Queued casts are Rust memory, outside every heap.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};

use super::closure::{call1, call2};
use super::panic::{catch, raise, runtime_panic, Abort};
use super::region::{with_region, OwnRegion};
use super::stack::{in_callback, pending_timeout, register_current_thread, CALLBACK_STACK_SIZE};
use super::typedesc::{copy, from_owned, has_flat_parts, to_owned, Owned};
use super::value::{str_ref, word};

/// The queue is not empty.
const QUEUED: usize = 1;
/// Messages of others a thread serves before handing the rest on.
pub const BUDGET: usize = 64;
/// Time a thread spends on others' messages before handing the rest on.
pub const BUDGET_TIME: Duration = Duration::from_millis(2);
/// Looks at a taken service before a caller queues itself and parks (the
/// second half yield the processor).
const SPINS: usize = 200;
/// How long a waiting caller parks between two looks at its time limit.
const PARK_SLICE: Duration = Duration::from_millis(20);

/// A thread, as services see it: the holder in a service's word is the
/// address of its record (records are never freed), and while it waits for
/// a service the record says which (changed under [`GRAPH`]).
pub struct ThreadRec {
    waiting_for: AtomicUsize,
}

impl ThreadRec {
    fn addr(&'static self) -> usize {
        self as *const ThreadRec as usize
    }
}

struct Local {
    /// This thread's record, made on first use.
    rec: Cell<Option<&'static ThreadRec>>,
    /// Services this thread holds (nested handlers).
    held: Cell<usize>,
    /// The service thread (it serves without a budget).
    server: Cell<bool>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            rec: Cell::new(None),
            held: Cell::new(0),
            server: Cell::new(false),
        }
    };
}

fn me() -> &'static ThreadRec {
    LOCAL.with(rec_of)
}

#[inline]
fn rec_of(l: &Local) -> &'static ThreadRec {
    match l.rec.get() {
        Some(r) => r,
        None => new_rec(l),
    }
}

#[cold]
fn new_rec(l: &Local) -> &'static ThreadRec {
    let r: &'static ThreadRec = Box::leak(Box::new(ThreadRec {
        waiting_for: AtomicUsize::new(0),
    }));
    l.rec.set(Some(r));
    r
}

/// This thread's record and the number of services it holds (one TLS
/// access on the fast paths).
#[inline]
fn me_and_held() -> (&'static ThreadRec, usize) {
    LOCAL.with(|l| (rec_of(l), l.held.get()))
}

fn held() -> usize {
    LOCAL.with(|l| l.held.get())
}

fn held_add(d: isize) {
    LOCAL.with(|l| l.held.set((l.held.get() as isize + d) as usize));
}

/// The lock of the wait-for graph (slow paths only).
static GRAPH: Mutex<()> = parking_lot::const_mutex(());

/// A caller waiting for its turn.
struct Waiter {
    thread: Thread,
    rec: &'static ThreadRec,
    /// It may serve others' casts (it runs no callback: no time limit).
    serves: bool,
    /// [`WAITING`], [`LET_IN`] or [`LET_IN_BEHIND`].
    state: AtomicU8,
}

const WAITING: u8 = 0;
/// The service is the waiter's; its entry was taken off the queue.
const LET_IN: u8 = 1;
/// The service is the waiter's, which first serves the casts queued before
/// its entry (still in the queue).
const LET_IN_BEHIND: u8 = 2;

enum Msg {
    Cast { entry: i64, args: Owned },
    Waiter(Arc<Waiter>),
}

/// A service. Handles are pointers to these; they live until the process
/// exits.
pub struct Service {
    word: AtomicUsize,
    queue: Mutex<VecDeque<Msg>>,
    inner: std::cell::UnsafeCell<Inner>,
    name: String,
}

struct Inner {
    region: OwnRegion,
    state: i64,
    handled: u64,
}

// SAFETY: `inner` is only touched by the thread holding the service (the
// word's holder), and holding passes between threads through the word's
// acquire/release operations or the queue's lock; everything else is
// atomic or behind a lock.
unsafe impl Sync for Service {}
// SAFETY: as above (an `OwnRegion` may move between threads by design).
unsafe impl Send for Service {}

/// The arguments of a message: in the caller's region, or owned.
enum Args<'a> {
    Word(i64, i64),
    Owned(&'a Owned),
}

/// How [`Service::serve`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Served {
    /// The queue was empty: the service is free.
    Released,
    /// The service went to a waiter or to the service thread.
    HandedOn,
    /// (Serving up to one's own turn) one's turn came: the service is ours.
    MyTurn,
    /// (Serving up to one's own turn) the callback timed out: the
    /// service was handed on and one's entry taken off the queue.
    GaveUp(u64),
}

impl Service {
    fn new(name: String, region: OwnRegion, state: i64) -> &'static Service {
        Box::leak(Box::new(Service {
            word: AtomicUsize::new(0),
            queue: Mutex::new(VecDeque::new()),
            inner: std::cell::UnsafeCell::new(Inner {
                region,
                state,
                handled: 0,
            }),
            name,
        }))
    }

    /// The service of a handle.
    ///
    /// # Safety
    /// `h` must be a handle from [`snow_service_start`].
    unsafe fn of(h: i64) -> &'static Service {
        // SAFETY: handles point to leaked services (the caller's promise).
        unsafe { &*(h as *const Service) }
    }

    fn addr(&'static self) -> usize {
        self as *const Service as usize
    }

    /// Stores holder `h`, with [`QUEUED`] when `q` is not empty.
    fn set_word(&self, h: usize, q: &VecDeque<Msg>) {
        let bit = if q.is_empty() { 0 } else { QUEUED };
        self.word.store(h | bit, Ordering::Release);
    }

    /// Runs one message's handler (the caller holds the service): the
    /// arguments are copied into the service's heap, `entry` runs there
    /// with the state, and the new state is kept. A call's reply is copied
    /// into the caller's region. A panic leaves the state as it was.
    fn run(&'static self, entry: i64, args: Args, td_reply: Option<i64>) -> Result<i64, Abort> {
        // SAFETY: the caller holds the service (module documentation).
        let inner = unsafe { &mut *self.inner.get() };
        let state = inner.state;
        let result = with_region(&mut inner.region, || {
            catch(|| {
                let a = match args {
                    // Arguments without pointers are not copied: the entry
                    // only reads their words, and the caller's region
                    // (where they are) is alive and not collected while
                    // it waits for this handler.
                    Args::Word(td, w) if has_flat_parts(td) => w,
                    // SAFETY: generated code passes the arguments' record
                    // with its descriptor; the closure is a handler entry
                    // `(state, args) -> result`.
                    Args::Word(td, w) => unsafe { copy(td, w) },
                    Args::Owned(o) => from_owned(o),
                };
                // SAFETY: as above.
                unsafe { call2(entry, state, a) }
            })
        });
        inner.handled += 1;
        let out = match result {
            Ok(r) => match td_reply {
                Some(td) => {
                    // SAFETY: a call's entry returns the pair (reply, state),
                    // in the service's heap, alive until the next collection
                    // of it (not before this returns).
                    let (reply, new_state) = unsafe { (word(r, 0), word(r, 1)) };
                    inner.state = new_state;
                    // SAFETY: a value of the reply's type.
                    Ok(unsafe { copy(td, reply) })
                }
                None => {
                    inner.state = r;
                    Ok(0)
                }
            },
            Err(abort) => Err(abort),
        };
        if inner.region.wants_collection() {
            inner.region.collect_with_roots(&[inner.state]);
        }
        out
    }

    /// Reports the panic of a cast (its message was printed where it
    /// happened, with its position): which service it was.
    fn report_cast(&self, abort: &Abort) {
        super::stdout::flush_stdout();
        let _ = abort;
        eprintln!(
            "snow: the panic above was in a cast to service {}, which keeps its state and goes on",
            self.name
        );
    }

    /// Serves the queue while this thread holds the service: runs casts
    /// until a waiter (to which the service goes), the end of the queue
    /// (the service is free), the thread's budget or, with `own`, this
    /// thread's own waiter entry (its turn).
    fn serve(&'static self, me: &'static ThreadRec, own: Option<&Arc<Waiter>>) -> Served {
        let mine = me.addr();
        let mut ran = 0usize;
        let mut since: Option<Instant> = None;
        loop {
            if own.is_none()
                && self
                    .word
                    .compare_exchange(mine, 0, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
            {
                return Served::Released;
            }
            let mut q = self.queue.lock();
            match q.front() {
                None => {
                    // Only without `own` (one's entry is in the queue).
                    self.word.store(mine, Ordering::Release);
                    continue;
                }
                Some(Msg::Waiter(w)) if own.is_some_and(|o| Arc::ptr_eq(o, w)) => {
                    q.pop_front();
                    self.set_word(mine, &q);
                    return Served::MyTurn;
                }
                Some(Msg::Waiter(_)) => {
                    self.give_on(q);
                    return Served::HandedOn;
                }
                Some(Msg::Cast { .. }) => {}
            }
            // A cast at the front: run it, or stop serving.
            let timed_out = pending_timeout(false);
            let stop = if own.is_some() {
                timed_out.is_some()
            } else {
                !LOCAL.with(|l| l.server.get())
                    && (held() > 1
                        || ran >= BUDGET
                        || since.is_some_and(|t| t.elapsed() >= BUDGET_TIME)
                        || in_callback())
            };
            if stop {
                if let Some(o) = own {
                    q.retain(|m| !matches!(m, Msg::Waiter(w) if Arc::ptr_eq(w, o)));
                }
                self.give_on(q);
                return match (own, timed_out) {
                    (Some(_), Some(ms)) => Served::GaveUp(ms),
                    _ => Served::HandedOn,
                };
            }
            let Some(Msg::Cast { entry, args }) = q.pop_front() else {
                unreachable!("a cast is at the front")
            };
            self.set_word(mine, &q);
            drop(q);
            since.get_or_insert_with(Instant::now);
            if let Err(abort) = self.run(entry, Args::Owned(&args), None) {
                self.report_cast(&abort);
            }
            ran += 1;
        }
    }

    /// Lets the service go (its holder stops serving; `q` is its locked
    /// queue): to the waiter at the front, else to the first waiter (which
    /// serves the casts before it), else to the service thread (a backlog
    /// of casts), else it is free.
    fn give_on(&'static self, mut q: MutexGuard<'_, VecDeque<Msg>>) {
        if let Some(Msg::Waiter(_)) = q.front() {
            let Some(Msg::Waiter(w)) = q.pop_front() else {
                unreachable!()
            };
            self.set_word(w.rec.addr(), &q);
            drop(q);
            let_in(&w, LET_IN);
            return;
        }
        // The first waiter serves the casts before it, unless it runs a
        // callback (whose time limit is its own, not the casts').
        let first = q.iter().find_map(|m| match m {
            Msg::Waiter(w) => Some(w.clone()),
            Msg::Cast { .. } => None,
        });
        match first.filter(|w| w.serves) {
            Some(w) => {
                self.set_word(w.rec.addr(), &q);
                drop(q);
                let_in(&w, LET_IN_BEHIND);
            }
            None if q.is_empty() => self.word.store(0, Ordering::Release),
            None => {
                self.word.store(QUEUED, Ordering::Release);
                drop(q);
                service_thread(self);
            }
        }
    }

    /// Takes the service for a call (or a cast run at once); on return the
    /// calling thread holds it. Panics with `deadlock` when waiting would
    /// never end, and with the callback's time limit while waiting.
    #[inline]
    fn acquire(&'static self, me: &'static ThreadRec) {
        let mine = me.addr();
        if self
            .word
            .compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.acquire_slow(me);
        }
        held_add(1);
    }

    #[cold]
    fn acquire_slow(&'static self, me: &'static ThreadRec) {
        let mine = me.addr();
        // Spin a little first: handlers are usually short, and a caller
        // that parks costs a wake-up (microseconds) when the service is
        // handed to it. Only while nothing is queued: waiting callers and
        // casts are served in order.
        for i in 0..SPINS {
            let s = self.word.load(Ordering::Relaxed);
            if s == 0 {
                if self
                    .word
                    .compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return;
                }
            } else if s & QUEUED != 0 || s == mine {
                break;
            }
            if i < SPINS / 2 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let serves = !in_callback();
        let waiter = Arc::new(Waiter {
            thread: std::thread::current(),
            rec: me,
            serves,
            state: AtomicU8::new(WAITING),
        });
        let mut notify = false;
        let serve_first = {
            let graph = GRAPH.lock();
            let mut q = self.queue.lock();
            loop {
                let s = self.word.load(Ordering::Acquire);
                let holder = s & !QUEUED;
                if s == 0 {
                    if self
                        .word
                        .compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        return;
                    }
                    continue;
                }
                if holder == mine {
                    drop(q);
                    drop(graph);
                    self.deadlock(
                        "this thread is running one of its handlers, which waits for this call",
                    );
                }
                if holder == 0 {
                    q.push_back(Msg::Waiter(waiter.clone()));
                    if serves {
                        // A backlog nobody serves: take it, serve up to
                        // our turn.
                        self.word.store(mine | QUEUED, Ordering::Release);
                        break true;
                    }
                    // A callback: the service thread serves the backlog
                    // (without the callback's time limit); wait for it.
                    me.waiting_for.store(self.addr(), Ordering::Release);
                    notify = true;
                    break false;
                }
                if waits_for(holder, mine) {
                    drop(q);
                    drop(graph);
                    self.deadlock(
                        "it is held by another thread, which waits for a service this thread holds",
                    );
                }
                if s & QUEUED == 0
                    && self
                        .word
                        .compare_exchange(s, s | QUEUED, Ordering::AcqRel, Ordering::Relaxed)
                        .is_err()
                {
                    continue;
                }
                q.push_back(Msg::Waiter(waiter.clone()));
                me.waiting_for.store(self.addr(), Ordering::Release);
                break false;
            }
        };
        if notify {
            service_thread(self);
        }
        let mut how = if serve_first { LET_IN_BEHIND } else { WAITING };
        loop {
            if how == WAITING {
                how = self.wait(me, &waiter);
            }
            if how == LET_IN {
                return;
            }
            // Serve the casts queued before our entry.
            held_add(1);
            let served = self.serve(me, Some(&waiter));
            held_add(-1);
            match served {
                Served::MyTurn => return,
                Served::GaveUp(ms) => self.timed_out(ms),
                // Another waiter was before us (our entry is still
                // queued, `Released` cannot happen): wait for our turn.
                Served::Released | Served::HandedOn => {
                    let _graph = GRAPH.lock();
                    me.waiting_for.store(self.addr(), Ordering::Release);
                    how = WAITING;
                }
            }
        }
    }

    /// Parks until the waiter is let in; answers how. Raises the callback's
    /// time limit when it passes meanwhile (taking the entry off the queue).
    fn wait(&'static self, me: &'static ThreadRec, w: &Arc<Waiter>) -> u8 {
        loop {
            let how = w.state.load(Ordering::Acquire);
            if how != WAITING {
                let _graph = GRAPH.lock();
                me.waiting_for.store(0, Ordering::Release);
                return how;
            }
            std::thread::park_timeout(PARK_SLICE);
            if w.state.load(Ordering::Acquire) != WAITING {
                continue;
            }
            let Some(ms) = pending_timeout(true) else {
                continue;
            };
            let graph = GRAPH.lock();
            let mut q = self.queue.lock();
            me.waiting_for.store(0, Ordering::Release);
            drop(graph);
            q.retain(|m| !matches!(m, Msg::Waiter(x) if Arc::ptr_eq(x, w)));
            // The word (not the waiter's state, stored after it) says
            // whether we were let in meanwhile.
            let holder = self.word.load(Ordering::Acquire) & !QUEUED;
            if holder == me.addr() {
                // The service is ours: pass it on.
                self.give_on(q);
            } else {
                self.set_word(holder, &q);
                if holder == 0 && !q.is_empty() {
                    drop(q);
                    service_thread(self);
                }
            }
            self.timed_out(ms);
        }
    }

    fn timed_out(&self, ms: u64) -> ! {
        super::stdout::flush_stdout();
        eprintln!(
            "snow: panic: callback timed out (ran longer than {ms} ms) while waiting for service {}",
            self.name
        );
        raise(Abort::TimedOut { ms })
    }

    fn deadlock(&self, why: &str) -> ! {
        runtime_panic(&format!(
            "deadlock: a call of service {} would wait for ever ({why})",
            self.name
        ))
    }

    /// Lets the service go after a message of this thread's own.
    fn release(&'static self, me: &'static ThreadRec) {
        let mine = me.addr();
        if self
            .word
            .compare_exchange(mine, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.serve(me, None);
        }
        held_add(-1);
    }
}

fn let_in(w: &Waiter, how: u8) {
    w.state.store(how, Ordering::Release);
    w.thread.unpark();
}

/// Whether `holder` (a thread record's address) waits, directly or through
/// other holders, for a service held by `mine` (the caller holds [`GRAPH`]).
fn waits_for(holder: usize, mine: usize) -> bool {
    let mut t = holder;
    for _ in 0..100_000 {
        if t == mine {
            return true;
        }
        // SAFETY: holders are addresses of leaked thread records.
        let rec = unsafe { &*(t as *const ThreadRec) };
        let s = rec.waiting_for.load(Ordering::Acquire);
        if s == 0 {
            return false;
        }
        // SAFETY: records wait only for (leaked) services.
        let svc = unsafe { &*(s as *const Service) };
        let h = svc.word.load(Ordering::Acquire) & !QUEUED;
        if h == 0 || h == t {
            return false;
        }
        t = h;
    }
    false
}

/// Hands a backlog (the service's word is [`QUEUED`] alone) to the service
/// thread, started on first use.
fn service_thread(svc: &'static Service) {
    static SENDER: OnceLock<Mutex<Sender<&'static Service>>> = OnceLock::new();
    let sender = SENDER.get_or_init(|| {
        let (tx, rx) = channel::<&'static Service>();
        std::thread::Builder::new()
            .name("snow-services".into())
            .stack_size(CALLBACK_STACK_SIZE)
            .spawn(move || {
                register_current_thread();
                LOCAL.with(|l| l.server.set(true));
                let rec = me();
                for svc in rx {
                    let q = svc.queue.lock();
                    if svc.word.load(Ordering::Acquire) != QUEUED {
                        continue;
                    }
                    svc.word.store(rec.addr() | QUEUED, Ordering::Release);
                    drop(q);
                    held_add(1);
                    // A panic here is a runtime bug: the thread must survive it.
                    let _ = catch(|| svc.serve(rec, None));
                    held_add(-1);
                }
            })
            .expect("cannot start the service thread");
        Mutex::new(tx)
    });
    let _ = sender.lock().send(svc);
}

/// `snow_service_start(init, td_args, args, td_state, name)`: a new service
/// whose state is `init(args)`, built on its own heap. A panic in `init`
/// panics in the caller.
#[no_mangle]
pub extern "C-unwind" fn snow_service_start(
    init: i64,
    td_args: i64,
    args: i64,
    _td_state: i64,
    name: i64,
) -> i64 {
    // SAFETY: generated code passes a String.
    let name = unsafe { str_ref(name) }.to_string();
    let mut region = OwnRegion::new();
    let state = with_region(&mut region, || {
        catch(|| {
            // SAFETY: the arguments' record with its descriptor; `init` an
            // entry `(args) -> state`.
            unsafe { call1(init, copy(td_args, args)) }
        })
    });
    match state {
        Ok(state) => {
            let svc = Service::new(name, region, state);
            // Services live as long as the program: the gauge only rises.
            super::metrics::service_started();
            svc.addr() as i64
        }
        Err(abort) => raise(abort),
    }
}

/// `snow_service_call(handle, entry, td_args, args, td_reply)`: runs the
/// handler `entry` on the service's state and answers its reply (copied
/// into the caller's region). A panic in the handler panics here too.
#[no_mangle]
pub extern "C-unwind" fn snow_service_call(
    h: i64,
    entry: i64,
    td_args: i64,
    args: i64,
    td_reply: i64,
) -> i64 {
    // SAFETY: generated code passes a handle.
    let svc = unsafe { Service::of(h) };
    let me = me();
    svc.acquire(me);
    let r = svc.run(entry, Args::Word(td_args, args), Some(td_reply));
    svc.release(me);
    match r {
        Ok(reply) => reply,
        Err(abort) => raise(abort),
    }
}

/// `snow_service_cast(handle, entry, td_args, args)`: runs the handler
/// now when the service is free (and this is not a handler), else queues
/// it; never waits for a handler. A panic in it is reported and the
/// service goes on.
#[no_mangle]
pub extern "C-unwind" fn snow_service_cast(h: i64, entry: i64, td_args: i64, args: i64) -> i64 {
    // SAFETY: generated code passes a handle.
    let svc = unsafe { Service::of(h) };
    let (me, held_now) = me_and_held();
    let nested = held_now > 0;
    if !nested
        && svc
            .word
            .compare_exchange(0, me.addr(), Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    {
        held_add(1);
        let r = svc.run(entry, Args::Word(td_args, args), None);
        svc.release(me);
        if let Err(abort) = r {
            svc.report_cast(&abort);
            if let Abort::TimedOut { .. } = abort {
                // The time limit is the caller's callback's: it ends too.
                raise(abort);
            }
        }
        return 0;
    }
    // SAFETY: the arguments' record and its descriptor.
    let args = unsafe { to_owned(td_args, args) };
    let msg = Msg::Cast { entry, args };
    let mut q = svc.queue.lock();
    loop {
        let s = svc.word.load(Ordering::Acquire);
        if s == 0 {
            // Free, and this is a handler: leave it as a backlog.
            if svc
                .word
                .compare_exchange(0, QUEUED, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            q.push_back(msg);
            drop(q);
            service_thread(svc);
            return 0;
        }
        if s & QUEUED == 0
            && svc
                .word
                .compare_exchange(s, s | QUEUED, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            continue;
        }
        q.push_back(msg);
        return 0;
    }
}

/// What a service holds (tests and benchmarks): bytes of its heap, live
/// bytes after its last collection, its collections and messages handled.
///
/// # Safety
/// `h` must be a handle, and no thread may hold the service meanwhile.
pub unsafe fn service_stats(h: i64) -> (usize, usize, usize, u64) {
    // SAFETY: as promised.
    let inner = unsafe { &*Service::of(h).inner.get() };
    let (live, collections) = inner.region.live();
    (inner.region.bytes(), live, collections, inner.handled)
}
