//! Single-flight: concurrent misses of one key run the computation once.

use core::hash::{BuildHasher, Hash};

use super::{Cache, Shared};
use crate::error::InsertError;
use crate::map::ConcurrentMap;
use crate::sync::{fence, lock, Arc, Condvar, Mutex, Ordering};
use crate::{Dep, Dependency};

enum State<V> {
    Running,
    /// Published, or too heavy to cache but valid after the flight was
    /// withdrawn (its ticket is checked first): waiters may use it. Every
    /// `Done` value was valid at some moment after the last waiter joined.
    Done(V),
    /// The leader failed, panicked, or computed across an invalidation: waiters
    /// look again (and one of them leads).
    Retry,
}

pub(crate) struct Flight<V> {
    state: Mutex<State<V>>,
    done: Condvar,
}

impl<V: Clone> Flight<V> {
    fn new() -> Self {
        Flight {
            state: Mutex::new(State::Running),
            done: Condvar::new(),
        }
    }

    fn finish(&self, s: State<V>) {
        *lock(&self.state) = s;
        self.done.notify_all();
    }

    /// Blocks until the leader finishes; `None` means retry.
    fn wait(&self) -> Option<V> {
        let mut st = lock(&self.state);
        loop {
            match &*st {
                State::Running => {
                    st = match self.done.wait(st) {
                        Ok(g) => g,
                        Err(p) => p.into_inner(),
                    }
                }
                State::Done(v) => return Some(v.clone()),
                State::Retry => return None,
            }
        }
    }
}

/// Withdraws a flight from the table; on drop before `disarm` (a panicking or
/// failing leader), wakes the waiters to retry.
struct Leader<'a, K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    shared: &'a Shared<K, V, D, S>,
    key: &'a K,
    flight: Arc<Flight<V>>,
    armed: bool,
}

impl<K, V, D, S> Leader<'_, K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Takes the flight out of the table: later callers no longer join it.
    fn withdraw(&self) {
        let guard = self.shared.guard();
        self.shared
            .flights
            .remove_if(self.key, &guard, |f| Arc::ptr_eq(f, &self.flight));
        // SeqCst fence: pairs with the one that ends every invalidation
        // (`publish_invalidation`), which a waiter passed before it read the
        // flight table and joined. Store buffering: either that waiter saw the
        // flight gone (and did not join), or what the leader reads next (`G`,
        // the stamps) sees the invalidation. Without it the leader could answer
        // a waiter with a value an invalidation before the waiter's start had
        // already removed (loom model m12).
        fence(Ordering::SeqCst);
    }

    fn finish(mut self, s: State<V>) {
        self.armed = false;
        self.withdraw();
        self.flight.finish(s);
    }
}

impl<K, V, D, S> Drop for Leader<'_, K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    fn drop(&mut self) {
        if self.armed {
            self.withdraw();
            self.flight.finish(State::Retry);
        }
    }
}

impl<K, V, D, S> Cache<K, V, D, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    D: Dependency,
    S: BuildHasher + Send + Sync + 'static,
{
    /// The value of `key`; on a miss, computes it with `f` and caches it under
    /// `deps`. Concurrent misses of one key run `f` once and share its value.
    ///
    /// A ticket on `deps` is taken before `f` runs: if a dependency is invalidated
    /// while `f` runs, the value is returned to this caller but not cached, and
    /// callers that joined the computation compute again. If `f` panics, the
    /// panic propagates to this caller and the waiters retry (nothing hangs).
    ///
    /// ```
    /// use depcache::{Cache, Dep};
    ///
    /// let cache: Cache<String, usize> = Cache::new(100);
    /// let n = cache.get_or_insert_with("wc a.txt".to_string(), ["a.txt".to_string()], || 42);
    /// assert_eq!(n, 42);
    /// assert_eq!(cache.get("wc a.txt"), Some(42));
    /// ```
    pub fn get_or_insert_with<I, F>(&self, key: K, deps: I, f: F) -> V
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
        F: FnOnce() -> V,
    {
        match self.try_get_or_insert_with(key, deps, || Ok::<V, core::convert::Infallible>(f())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_insert_with`](Cache::get_or_insert_with) for a computation that
    /// can fail: an `Err` is returned to this caller and not cached; callers that
    /// were waiting on it compute again.
    pub fn try_get_or_insert_with<I, F, E>(&self, key: K, deps: I, f: F) -> Result<V, E>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
        F: FnOnce() -> Result<V, E>,
    {
        let sh = &*self.shared;
        let deps: Vec<Dep<D>> = deps.into_iter().map(Into::into).collect();
        loop {
            if let Some(v) = self.get(&key) {
                return Ok(v);
            }
            let flight = Arc::new(Flight::new());
            let joined = {
                let guard = sh.guard();
                sh.flights.try_insert(key.clone(), flight.clone(), &guard)
            };
            if let Err(running) = joined {
                if let Some(v) = running.wait() {
                    return Ok(v);
                }
                crate::sync::spin();
                continue;
            }
            let leader = Leader {
                shared: sh,
                key: &key,
                flight,
                armed: true,
            };
            // A leader that finished between our miss and our flight insert.
            // Waiters must get a value that was valid after they joined: one
            // that joins after a hit here may have started after an
            // invalidation that came after the hit (found by the stress test:
            // a waiter got the version before one invalidated before it
            // started). So the flight is withdrawn first — no one joins any
            // more — and the value is looked up after that.
            let guard = sh.guard();
            if sh.contains(&key, &guard) {
                leader.withdraw();
                if let Some(v) = sh.get(&key, &guard) {
                    leader.finish(State::Done(v.clone()));
                    return Ok(v);
                }
                // Gone again: the waiters look again, and so do we.
                leader.finish(State::Retry);
                continue;
            }
            drop(guard);
            let ticket = sh.ticket(deps.iter().cloned());
            let v = f()?; // on Err, `leader` drops armed: waiters retry
                          // Withdraw before publishing: a caller that arrives after the
                          // publication's validity check must not receive this value.
            leader.withdraw();
            let outcome = match sh.insert_with_ticket(key.clone(), v.clone(), ticket) {
                Ok(()) => State::Done(v.clone()),
                Err(InsertError::TooHeavy { .. }) => State::Done(v.clone()),
                Err(_) => State::Retry,
            };
            leader.finish(outcome);
            return Ok(v);
        }
    }
}
