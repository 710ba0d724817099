//! `get_or_insert_with` and its fallible and async forms: a miss computes
//! once for all concurrent callers of its key (single-flight, `crate::flight`).

use core::hash::{BuildHasher, Hash};

use super::Cache;
use crate::error::InsertError;
use crate::flight::{Flight, Joined, Leader, Outcome};
use crate::sync::Arc;
use crate::ticket::Ticket;
use crate::{Dep, Dependency};

/// Where a caller stands after a look for its key.
enum Step<'a, K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A value to return.
    Hit(V),
    /// Another caller computes it: wait, then look again.
    Wait(Arc<Flight<V>>),
    /// This caller computes it.
    Lead(Leader<'a, K, V>),
    /// Look again.
    Again,
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
        self.get_or_compute(key, deps, |_| true, f)
    }

    /// As [`try_get_or_insert_with`](Cache::try_get_or_insert_with) for an
    /// async computation, on any executor. Waiting callers await instead of
    /// blocking; if the leading future is dropped (cancelled) or fails, they
    /// look again and one of them computes. Sync and async callers of one key
    /// share one computation, except that a thread never blocks on a task:
    /// one that finds a task computing its key computes beside it (under its
    /// own ticket), since blocking could keep the task's executor from ever
    /// finishing it.
    ///
    /// ```
    /// use depcache::Cache;
    ///
    /// # async fn read(_: &str) -> Result<String, std::io::Error> { Ok("x".into()) }
    /// # async fn demo() -> Result<(), std::io::Error> {
    /// let cache: Cache<String, String> = Cache::new(100);
    /// let text = cache
    ///     .try_get_or_insert_async("cat a.txt".to_string(), ["a.txt".to_string()], || read("a.txt"))
    ///     .await?;
    /// assert_eq!(cache.get("cat a.txt"), Some(text));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(all(feature = "async", not(depcache_loom)))]
    pub async fn try_get_or_insert_async<I, F, Fut, E>(&self, key: K, deps: I, f: F) -> Result<V, E>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
        F: FnOnce() -> Fut,
        Fut: core::future::Future<Output = Result<V, E>>,
    {
        self.get_or_compute_async(key, deps, |_| true, f).await
    }

    /// The single-flight under `try_get_or_insert_with`: a hit counts only if
    /// `accept` takes it (the tool layer checks fingerprints there; a refused
    /// value is a miss, and `accept` drops it from the cache).
    pub(crate) fn get_or_compute<I, F, E>(&self, key: K, deps: I, accept: impl Fn(&V) -> bool, f: F) -> Result<V, E>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
        F: FnOnce() -> Result<V, E>,
    {
        let deps: Vec<Dep<D>> = deps.into_iter().map(Into::into).collect();
        loop {
            match self.step(&key, false, &accept) {
                Step::Hit(v) => return Ok(v),
                // A thread does not block on a task: it computes beside it,
                // under a ticket of its own, as if no flight ran.
                Step::Wait(flight) if flight.led_by_task() => {
                    let ticket = self.shared.ticket(deps.iter().cloned());
                    let v = f()?;
                    // Refused (stale or too heavy): still this caller's value.
                    let _ = self.shared.insert_with_ticket(key.clone(), v.clone(), ticket);
                    return Ok(v);
                }
                Step::Wait(flight) => match flight.wait() {
                    Some(v) => return Ok(v),
                    None => crate::sync::spin(),
                },
                Step::Again => crate::sync::spin(),
                Step::Lead(leader) => {
                    let ticket = self.shared.ticket(deps.iter().cloned());
                    let v = f()?; // on Err, `leader` drops armed: waiters retry
                    self.land(leader, &key, &v, ticket);
                    return Ok(v);
                }
            }
        }
    }

    /// The async form of [`get_or_compute`](Cache::get_or_compute).
    #[cfg(all(feature = "async", not(depcache_loom)))]
    pub(crate) async fn get_or_compute_async<I, F, Fut, E>(
        &self,
        key: K,
        deps: I,
        accept: impl Fn(&V) -> bool,
        f: F,
    ) -> Result<V, E>
    where
        I: IntoIterator,
        I::Item: Into<Dep<D>>,
        F: FnOnce() -> Fut,
        Fut: core::future::Future<Output = Result<V, E>>,
    {
        let deps: Vec<Dep<D>> = deps.into_iter().map(Into::into).collect();
        let mut f = Some(f);
        loop {
            match self.step(&key, true, &accept) {
                Step::Hit(v) => return Ok(v),
                Step::Wait(flight) => {
                    if let Some(v) = flight.wait_async().await {
                        return Ok(v);
                    }
                }
                Step::Again => {}
                Step::Lead(leader) => {
                    let ticket = self.shared.ticket(deps.iter().cloned());
                    let Some(f) = f.take() else {
                        // A leader returns below, so only one step leads.
                        unreachable!("a second lead")
                    };
                    // Dropping this future drops `leader` armed: waiters retry.
                    let v = f().await?;
                    self.land(leader, &key, &v, ticket);
                    return Ok(v);
                }
            }
        }
    }

    /// A hit, or this caller's place in the flight of `key` (leading as a
    /// task if `by_task`).
    fn step<'a>(&'a self, key: &'a K, by_task: bool, accept: &impl Fn(&V) -> bool) -> Step<'a, K, V> {
        if let Some(v) = self.get(key) {
            if accept(&v) {
                return Step::Hit(v);
            }
        }
        let sh = &*self.shared;
        let guard = sh.guard();
        let mut leader = match sh.flights.join(key, by_task, &guard) {
            Joined::Wait(flight) => return Step::Wait(flight),
            Joined::Lead(leader) => leader,
        };
        // A leader that finished between our miss and our flight insert.
        // Waiters must get a value that was valid after they joined: one
        // that joins after a hit here may have started after an
        // invalidation that came after the hit (found by the stress test:
        // a waiter got the version before one invalidated before it
        // started). So the flight is withdrawn first — no one joins any
        // more — and the value is looked up after that.
        if sh.contains(key, &guard) {
            leader.withdraw();
            return match sh.get(key, &guard).filter(|v| accept(v)) {
                Some(v) => {
                    leader.finish(Outcome::Done(v.clone()));
                    Step::Hit(v)
                }
                None => {
                    // Gone again: the waiters look again, and so do we.
                    leader.finish(Outcome::Retry);
                    Step::Again
                }
            };
        }
        Step::Lead(leader)
    }

    /// Publishes a leader's value under its ticket and finishes its flight.
    fn land(&self, mut leader: Leader<'_, K, V>, key: &K, v: &V, ticket: Ticket<K, V, D>) {
        // Withdraw before publishing: a caller that arrives after the
        // publication's validity check must not receive this value.
        leader.withdraw();
        let outcome = match self.shared.insert_with_ticket(key.clone(), v.clone(), ticket) {
            Ok(()) | Err(InsertError::TooHeavy { .. }) => Outcome::Done(v.clone()),
            Err(_) => Outcome::Retry,
        };
        leader.finish(outcome);
    }
}
