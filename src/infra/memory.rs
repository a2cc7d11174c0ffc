//! A memory ceiling for the whole process, so that untrusted input (a pull request's template
//! that doubles a string thirty times, a hostile request to the stand-in) ends the run with a clear
//! error instead of exhausting the runner. Rust cannot recover from a failed allocation on stable,
//! so [`Capped`] (installed as the global allocator by `main.rs`, never by the library) writes one
//! line naming what was running — the template and case being rendered, see [`Activity`] — and
//! exits before the allocation that would cross the limit.
//!
//! The limit is [`DEFAULT_LIMIT_MB`] MiB of live heap, or `COSTGATE_MEMORY_LIMIT_MB`.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// Live heap allowed by default: far above a 100,000-case run (under 1 GiB), far below a runner.
pub const DEFAULT_LIMIT_MB: usize = 4096;

/// Exit code when a template's render crossed the limit (the head's configuration is at fault).
const EXIT_TEMPLATE: i32 = 2;
/// Exit code otherwise (no verdict possible).
const EXIT_OTHER: i32 = 3;

/// Bytes a thread counts locally before it touches the shared counter: one atomic operation per
/// this much allocation, not per allocation (a shared counter bumped on every `malloc` made a
/// 5,000-case `check` 1.8× slower on two cores). The count is off by at most this much per thread;
/// an allocation of this size or larger is counted at once, so a bomb is still stopped in time.
const BATCH: isize = 256 << 10;

thread_local! {
    /// This thread's bytes not yet added to the shared counter.
    static LOCAL: Cell<isize> = const { Cell::new(0) };
    /// What this thread is doing, for the message: a pointer and length into a string the
    /// [`Activity`] guard keeps alive. `const`-initialised, so reading it never allocates.
    static ACTIVITY: Cell<(*const u8, usize)> = const { Cell::new((std::ptr::null(), 0)) };
    /// Net bytes this thread allocated since its current [`Activity`] began.
    static ACTIVITY_NET: Cell<isize> = const { Cell::new(0) };
}

/// Net heap one render of one template may take on its thread: no prompt comes near it (the
/// largest context window holds a few MiB of text, and rendered text is capped at 4 MiB), so a
/// template that doubles a string is stopped here, long before the process-wide ceiling, and the
/// process stays well under 1 GiB.
pub const ACTIVITY_LIMIT_MB: usize = 256;

/// Marks the current thread as rendering something untrusted until dropped.
pub struct Activity {
    text: String,
    previous: (*const u8, usize),
    previous_net: isize,
}

impl Activity {
    pub fn new(text: String) -> Activity {
        let mut a = Activity {
            text,
            previous: (std::ptr::null(), 0),
            previous_net: 0,
        };
        let now = (a.text.as_ptr(), a.text.len());
        a.previous = ACTIVITY.with(|c| c.replace(now));
        a.previous_net = ACTIVITY_NET.with(|c| c.replace(0));
        a
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        ACTIVITY.with(|c| c.set(self.previous));
        ACTIVITY_NET.with(|c| c.set(self.previous_net));
    }
}

/// The system allocator with a ceiling on live bytes.
pub struct Capped<A> {
    inner: A,
    used: AtomicIsize,
    /// 0 until read from the environment on first use.
    limit: AtomicUsize,
}

impl<A> Capped<A> {
    pub const fn new(inner: A) -> Self {
        Capped {
            inner,
            used: AtomicIsize::new(0),
            limit: AtomicUsize::new(0),
        }
    }

    /// Sets the limit in bytes (`main.rs` does, from `COSTGATE_MEMORY_LIMIT_MB`, before any work).
    pub fn set_limit(&self, bytes: usize) {
        self.limit.store(bytes.max(64 << 20), Ordering::Relaxed);
    }

    /// Counts `delta` bytes (negative when freed), refusing growth past the limit.
    fn count(&self, delta: isize) {
        let flush = LOCAL
            .try_with(|c| {
                let v = c.get() + delta;
                if v.abs() >= BATCH {
                    c.set(0);
                    Some(v)
                } else {
                    c.set(v);
                    None
                }
            })
            // The thread is exiting and its local counter is gone: count directly.
            .unwrap_or(Some(delta));
        let Some(v) = flush else { return };
        // Inside an activity (a template being rendered), its own net growth is bounded too.
        // Counted per batch, like the shared counter, so an allocation costs nothing more: the
        // activity's figure is off by at most one batch, against a limit a thousand times larger.
        if ACTIVITY.try_with(|c| !c.get().0.is_null()).unwrap_or(false) {
            let net = ACTIVITY_NET
                .try_with(|c| {
                    let n = c.get() + v;
                    c.set(n);
                    n
                })
                .unwrap_or(0);
            if v > 0 && net > (ACTIVITY_LIMIT_MB << 20) as isize {
                refuse(ACTIVITY_LIMIT_MB << 20);
            }
        }
        let used = self.used.fetch_add(v, Ordering::Relaxed) + v;
        if v > 0 {
            let limit = match self.limit.load(Ordering::Relaxed) {
                0 => DEFAULT_LIMIT_MB << 20,
                l => l,
            };
            if used > limit as isize {
                refuse(limit);
            }
        }
    }

    fn admit(&self, size: usize) {
        self.count(size as isize);
    }

    fn release(&self, size: usize) {
        self.count(-(size as isize));
    }
}

/// Writes the message with `write(2)` (no allocation is possible here) and exits.
#[cold]
fn refuse(limit: usize) -> ! {
    let (ptr, len) = ACTIVITY.with(|c| c.get());
    let mut buf = [0u8; 1024];
    let mut n = 0;
    let mut put = |s: &[u8]| {
        let k = s.len().min(buf.len() - n);
        buf[n..n + k].copy_from_slice(&s[..k]);
        n += k;
    };
    put(b"error: costgate would use more than ");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = limit >> 20;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(&digits[i..]);
    put(b" MiB of memory");
    if !ptr.is_null() {
        put(b" while rendering ");
        // SAFETY: the pointer and length come from a `String` that the `Activity` guard on this
        // same thread keeps alive until it resets the cell.
        put(unsafe { std::slice::from_raw_parts(ptr, len) });
        put(b": a template must not build text that large");
    }
    if ptr.is_null() {
        put(b" (the limit is COSTGATE_MEMORY_LIMIT_MB)\n");
    } else {
        put(b" (256 MiB per render; COSTGATE_MEMORY_LIMIT_MB bounds the whole process)\n");
    }
    // SAFETY: plain syscalls on a valid buffer; the process ends here.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), n);
        libc::_exit(if ptr.is_null() {
            EXIT_OTHER
        } else {
            EXIT_TEMPLATE
        });
    }
}

// SAFETY: every method forwards to `inner` with the same layout; the counter is only bookkeeping.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Capped<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.admit(layout.size());
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.admit(layout.size());
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.inner.dealloc(ptr, layout) };
        self.release(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            self.admit(new_size - layout.size());
        }
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if p.is_null() {
            // The old block is still live: undo what was admitted for the new one.
            if new_size > layout.size() {
                self.release(new_size - layout.size());
            }
        } else if new_size < layout.size() {
            self.release(layout.size() - new_size);
        }
        p
    }
}
