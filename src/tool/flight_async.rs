//! Async single-flight for [`ToolCache::execute_async`]: runtime-agnostic
//! (`tokio::sync::Notify` works on any executor). A leader whose future is
//! dropped (cancelled) wakes its waiters, who retry; nobody is stranded.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use super::cache::{Decision, Invalidate, ToolCache, What};
use super::call::{ToolCall, ToolKey};
use super::output::{Origin, Stored, ToolOutput};
use super::workspace::Workspace;
use super::ws_path::WsCtx;
use crate::{Dep, DepPath, InsertError};

enum State<V> {
    Running,
    Done(V),
    Retry,
}

struct Flight<V> {
    state: Mutex<State<V>>,
    notify: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No critical section below can leave its data half-updated.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<V: Clone> Flight<V> {
    fn finish(&self, s: State<V>) {
        *lock(&self.state) = s;
        self.notify.notify_waiters();
    }

    async fn wait(&self) -> Option<V> {
        loop {
            let mut notified = std::pin::pin!(self.notify.notified());
            // Register before looking at the state, so a finish in between wakes us.
            notified.as_mut().enable();
            match &*lock(&self.state) {
                State::Running => {}
                State::Done(v) => return Some(v.clone()),
                State::Retry => return None,
            }
            notified.await;
        }
    }
}

/// The table of running async computations, by key.
pub(crate) struct Flights<V>(Mutex<HashMap<ToolKey, Arc<Flight<V>>>>);

impl<V> Default for Flights<V> {
    fn default() -> Self {
        Flights(Mutex::new(HashMap::new()))
    }
}

struct Leader<'a, V: Clone> {
    flights: &'a Flights<V>,
    key: &'a ToolKey,
    flight: Arc<Flight<V>>,
    armed: bool,
}

impl<V: Clone> Leader<'_, V> {
    fn withdraw(&self) {
        let mut m = lock(&self.flights.0);
        if m.get(self.key).is_some_and(|f| Arc::ptr_eq(f, &self.flight)) {
            m.remove(self.key);
        }
    }

    fn finish(mut self, s: State<V>) {
        self.armed = false;
        self.withdraw();
        self.flight.finish(s);
    }
}

impl<V: Clone> Drop for Leader<'_, V> {
    fn drop(&mut self) {
        if self.armed {
            // Cancelled, failed or panicked: the waiters retry.
            self.withdraw();
            self.flight.finish(State::Retry);
        }
    }
}

impl<V: ToolOutput> ToolCache<V> {
    /// [`execute`](ToolCache::execute) for async executors. Concurrent misses
    /// of one read share one run; if the leading future is cancelled (dropped)
    /// or fails, the waiters retry and one of them runs the tool.
    pub async fn execute_async<E, F, Fut>(&self, call: &ToolCall, run: F) -> Result<V, E>
    where
        F: FnOnce(ToolCall) -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        self.execute_async_in(self.home(), call, run).await
    }

    pub(crate) async fn execute_async_in<E, F, Fut>(&self, ws: &WsCtx, call: &ToolCall, run: F) -> Result<V, E>
    where
        F: FnOnce(ToolCall) -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        match self.classify_in(ws, call) {
            Decision::Read { key, deps } => self.read_async(ws, call, key, deps, run).await,
            Decision::Write { paths } => {
                let paths = ws.paths(&paths);
                self.cache().invalidate_many(&paths);
                let _after = Invalidate {
                    cache: self.cache(),
                    what: What::Paths(&paths),
                };
                run(call.clone()).await
            }
            Decision::Opaque => {
                let _after = self.opaque_before(ws);
                run(call.clone()).await
            }
            Decision::Uncached { .. } => run(call.clone()).await,
        }
    }

    async fn read_async<E, F, Fut>(
        &self,
        ws: &WsCtx,
        call: &ToolCall,
        key: ToolKey,
        deps: Vec<Dep<DepPath>>,
        run: F,
    ) -> Result<V, E>
    where
        F: FnOnce(ToolCall) -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let mut run = Some(run);
        let mut view = self.view_of(ws, call, &deps);
        loop {
            if let Some(v) = self.lookup(ws, &key) {
                return Ok(v);
            }
            if let Some((v, path)) = &view {
                if let Some((value, _)) = self.answer(ws, v, path) {
                    return Ok(value);
                }
            }
            let (flight, leading) = {
                let mut m = lock(&self.flights().0);
                match m.get(&key) {
                    Some(f) => (f.clone(), false),
                    None => {
                        let f = Arc::new(Flight {
                            state: Mutex::new(State::Running),
                            notify: Default::default(),
                        });
                        m.insert(key.clone(), f.clone());
                        (f, true)
                    }
                }
            };
            if !leading {
                match flight.wait().await {
                    Some(v) => return Ok(v),
                    None => continue,
                }
            }
            let leader = Leader {
                flights: self.flights(),
                key: &key,
                flight,
                armed: true,
            };
            // Cached meanwhile: as in the sync single-flight, waiters get only a
            // value looked up after the flight was withdrawn (one that joined
            // after a hit here may have started after a later invalidation).
            if self.lookup(ws, &key).is_some() {
                leader.withdraw();
                if let Some(v) = self.lookup(ws, &key) {
                    leader.finish(State::Done(v.clone()));
                    return Ok(v);
                }
                leader.finish(State::Retry);
                continue;
            }
            let prints = self.prints(ws, &deps);
            let ticket = self.cache().ticket(ws.deps(&deps));
            let origin = Origin::now(call.by.clone());
            let learning = view.take().map(|(v, path)| {
                let ticket = self.cache().ticket([crate::Dep::exact(path.clone())]);
                (v, path, ticket)
            });
            let Some(run) = run.take() else {
                // Only a leader runs, and a leader always returns below.
                unreachable!("the tool ran twice")
            };
            let v = run(call.clone()).await?;
            // As in the sync single-flight: withdraw before publishing.
            leader.withdraw();
            if let Some((view, path, ticket)) = learning {
                self.learn(ws, &view, path, &v, ticket, prints.clone(), &origin);
            }
            let stored = Stored::output(v.clone(), prints, origin);
            let outcome = match self.cache().insert_with_ticket(key.clone(), stored, ticket) {
                Ok(()) | Err(InsertError::TooHeavy { .. }) => State::Done(v.clone()),
                Err(_) => State::Retry,
            };
            leader.finish(outcome);
            return Ok(v);
        }
    }
}

impl<V: ToolOutput> Workspace<'_, V> {
    /// [`ToolCache::execute_async`] in this workspace.
    pub async fn execute_async<E, F, Fut>(&self, call: &ToolCall, run: F) -> Result<V, E>
    where
        F: FnOnce(ToolCall) -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        self.tools().execute_async_in(self.ctx(), call, run).await
    }
}
