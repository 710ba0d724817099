//! Single-flight: concurrent misses of one key run one computation; the other
//! callers wait for its value, a thread by blocking, a task by awaiting, on
//! the same state.
//!
//! The running computations sit in a concurrent map (papaya, in the cache's
//! reclamation domain) from key to [`Flight`]. The first caller to insert the
//! key leads: it computes and publishes, then [`finish`](Leader::finish)es
//! the flight, which wakes every waiter. A leader that fails, panics or is
//! cancelled (its future dropped) finishes with [`Outcome::Retry`] from its
//! `Drop`, so no waiter is stranded; the waiters look again and one of them
//! leads.
//!
//! A leader withdraws its flight from the map before it publishes: a caller
//! that arrives after the publication was checked must find the cache, not a
//! flight whose value might be older than an invalidation it saw.

use crate::map::{ConcurrentMap, FastHash, Map, MapKey};
use crate::reclaim::{Domain, Guard};
use crate::sync::{fence, lock, Arc, Condvar, Mutex, Ordering};

/// How a leader ended its flight.
pub(crate) enum Outcome<V> {
    /// Published, or valid but too heavy to cache: waiters may use it. Every
    /// `Done` value was valid at some moment after the last waiter joined.
    Done(V),
    /// The leader failed, panicked, was cancelled, or computed across an
    /// invalidation: waiters look again (and one of them leads).
    Retry,
}

/// One running computation and its waiters.
pub(crate) struct Flight<V> {
    /// `None` while running.
    state: Mutex<Option<Outcome<V>>>,
    /// Led by a task: its computation advances only when its executor polls
    /// it, which a thread blocked on this flight may be keeping from running.
    by_task: bool,
    /// Wakes blocked threads.
    done: Condvar,
    /// Wakes waiting tasks (runtime-agnostic: any executor).
    #[cfg(all(feature = "async", not(depcache_loom)))]
    notify: tokio::sync::Notify,
}

impl<V: Clone> Flight<V> {
    fn new(by_task: bool) -> Self {
        Flight {
            state: Mutex::new(None),
            by_task,
            done: Condvar::new(),
            #[cfg(all(feature = "async", not(depcache_loom)))]
            notify: tokio::sync::Notify::new(),
        }
    }

    fn finish(&self, outcome: Outcome<V>) {
        *lock(&self.state) = Some(outcome);
        self.done.notify_all();
        #[cfg(all(feature = "async", not(depcache_loom)))]
        self.notify.notify_waiters();
    }

    /// What a finished flight gives its waiters: the value, or `None` to retry.
    fn outcome(state: &Option<Outcome<V>>) -> Option<Option<V>> {
        match state {
            None => None,
            Some(Outcome::Done(v)) => Some(Some(v.clone())),
            Some(Outcome::Retry) => Some(None),
        }
    }

    /// True if a task leads this flight: a thread must not block on it (on
    /// a single-threaded executor, or with the leader queued behind the
    /// blocked thread, it would never finish).
    pub(crate) fn led_by_task(&self) -> bool {
        self.by_task
    }

    /// Blocks until the leader finishes; `None` means look again.
    pub(crate) fn wait(&self) -> Option<V> {
        let mut st = lock(&self.state);
        loop {
            if let Some(out) = Self::outcome(&st) {
                return out;
            }
            st = match self.done.wait(st) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
    }

    /// Waits (as a task) until the leader finishes; `None` means look again.
    #[cfg(all(feature = "async", not(depcache_loom)))]
    pub(crate) async fn wait_async(&self) -> Option<V> {
        loop {
            let mut notified = core::pin::pin!(self.notify.notified());
            // Registered before the state is read, so a `finish` in between
            // still wakes this task (`notify_waiters` wakes registered ones).
            notified.as_mut().enable();
            if let Some(out) = Self::outcome(&lock(&self.state)) {
                return out;
            }
            notified.await;
        }
    }
}

/// The running computations of one cache, by key.
pub(crate) struct Flights<K, V> {
    map: Map<K, Arc<Flight<V>>, FastHash>,
    /// The cache's domain, so a leader can withdraw from anywhere (an async
    /// leader holds no guard across its computation).
    domain: Domain,
}

/// A caller's place in a flight.
pub(crate) enum Joined<'a, K, V>
where
    K: MapKey + Clone,
    V: Clone + Send + Sync + 'static,
{
    /// This caller runs the computation.
    Lead(Leader<'a, K, V>),
    /// Another caller runs it: wait on this flight.
    Wait(Arc<Flight<V>>),
}

impl<K, V> Flights<K, V>
where
    K: MapKey + Clone,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(domain: &Domain) -> Self {
        Flights {
            map: Map::with_hasher_in(domain, FastHash::default()),
            domain: domain.clone(),
        }
    }

    /// Leads the flight of `key` (as a task if `by_task`), or joins the one
    /// running.
    pub(crate) fn join<'a>(&'a self, key: &'a K, by_task: bool, guard: &Guard<'_>) -> Joined<'a, K, V> {
        let flight = Arc::new(Flight::new(by_task));
        match self.map.try_insert(key.clone(), flight.clone(), guard) {
            Ok(()) => Joined::Lead(Leader {
                flights: self,
                key,
                flight,
                armed: true,
                withdrawn: false,
            }),
            Err(running) => Joined::Wait(running),
        }
    }

    /// Computations running (exact at quiescence).
    #[cfg(any(test, fuzzing, depcache_loom, depcache_checks))]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// The caller that runs a flight's computation. Dropped before
/// [`finish`](Leader::finish) (an error, a panic, a cancelled future), it
/// withdraws the flight and tells the waiters to retry. (Its bounds are its
/// `Drop`'s, which Rust requires on the type too.)
pub(crate) struct Leader<'a, K, V>
where
    K: MapKey + Clone,
    V: Clone + Send + Sync + 'static,
{
    flights: &'a Flights<K, V>,
    key: &'a K,
    flight: Arc<Flight<V>>,
    armed: bool,
    /// The flight is out of the map already: a second removal and fence
    /// would only repeat the first.
    withdrawn: bool,
}

impl<K, V> Leader<'_, K, V>
where
    K: MapKey + Clone,
    V: Clone + Send + Sync + 'static,
{
    /// Takes the flight out of the map: later callers no longer join it.
    pub(crate) fn withdraw(&mut self) {
        if self.withdrawn {
            return;
        }
        self.withdrawn = true;
        let guard = self.flights.domain.guard();
        self.flights
            .map
            .remove_if(self.key, &guard, |f| Arc::ptr_eq(f, &self.flight));
        // SeqCst fence: pairs with the one that ends every invalidation
        // (`publish_invalidation`), which a waiter passed before it read the
        // flight map and joined. Store buffering: either that waiter saw the
        // flight gone (and did not join), or what the leader reads next (`G`,
        // the stamps) sees the invalidation. Without it the leader could answer
        // a waiter with a value an invalidation before the waiter's start had
        // already removed (loom model m12).
        fence(Ordering::SeqCst);
    }

    /// Withdraws the flight and hands `outcome` to its waiters.
    pub(crate) fn finish(mut self, outcome: Outcome<V>) {
        self.armed = false;
        self.withdraw();
        self.flight.finish(outcome);
    }
}

impl<K, V> Drop for Leader<'_, K, V>
where
    K: MapKey + Clone,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        if self.armed {
            self.withdraw();
            self.flight.finish(Outcome::Retry);
        }
    }
}
