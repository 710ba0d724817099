//! Small thread numbers: every live thread holds a distinct one, the smallest
//! free at the time it first asks, and gives it back when it exits.
//!
//! The statistics use them to give each thread counters of its own, which it
//! bumps with a plain load and store: no two of the first 64 threads share a
//! counter line on the hit path. (At one thread this measured the same as the
//! striped `fetch_add` it replaces; the gain is the absence of sharing.)
//! The `thread_local` crate's `ThreadLocal`, already in the dependency tree,
//! does the same id reuse and would replace this file and the 64-thread limit.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;

struct Pool {
    /// Numbers never handed out yet: `next..`.
    next: usize,
    /// Numbers given back by exited threads, smallest first.
    free: BinaryHeap<Reverse<usize>>,
}

// A std `Mutex`, not the loom shim: it is taken once per thread, outside
// every protocol, and loom builds never use owned counters (see `stats`).
static POOL: Mutex<Pool> = Mutex::new(Pool::new());

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // The pool's state is a counter and a heap that no panic can leave broken.
    POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One thread's number, held until the thread exits.
struct Lease(usize);

impl Pool {
    const fn new() -> Self {
        Pool {
            next: 0,
            free: BinaryHeap::new(),
        }
    }

    fn take(&mut self) -> usize {
        match self.free.pop() {
            Some(Reverse(n)) => n,
            None => {
                self.next += 1;
                self.next - 1
            }
        }
    }

    fn give_back(&mut self, n: usize) {
        self.free.push(Reverse(n));
    }
}

impl Lease {
    fn take() -> Self {
        Lease(pool().take())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // The unlock here and the lock in the next `take` of this number order
        // everything this thread wrote through it before the next holder's use.
        pool().give_back(self.0);
    }
}

thread_local! {
    static LEASE: Lease = Lease::take();
}

/// This thread's number: no other live thread holds the same one. `None` while
/// the thread's locals are being destroyed.
#[inline]
pub(crate) fn current() -> Option<usize> {
    LEASE.try_with(|l| l.0).ok()
}

#[cfg(test)]
mod tests {
    use super::{current, Pool};

    #[test]
    fn live_threads_hold_distinct_numbers() {
        let me = current().expect("a live thread has a number");
        assert_eq!(current(), Some(me), "a thread keeps its number");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                std::thread::spawn(move || {
                    let n = current().unwrap();
                    b.wait(); // all four alive at once, so none reused another's
                    n
                })
            })
            .collect();
        let mut nums: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        nums.push(me);
        nums.sort_unstable();
        nums.dedup();
        assert_eq!(nums.len(), 5, "five live threads, five numbers: {nums:?}");
    }

    #[test]
    fn the_smallest_given_back_number_comes_first() {
        let mut p = Pool::new();
        let taken: Vec<usize> = (0..4).map(|_| p.take()).collect();
        assert_eq!(taken, [0, 1, 2, 3]);
        p.give_back(2);
        p.give_back(1);
        assert_eq!(p.take(), 1);
        assert_eq!(p.take(), 2);
        assert_eq!(p.take(), 4, "none free: a new number");
    }
}
