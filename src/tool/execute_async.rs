//! [`ToolCache::execute_async`]: `execute` for async executors, on any
//! runtime. Concurrent misses of one read share one run with the sync callers
//! of the same key (`crate::flight`); a leader whose future is dropped
//! (cancelled) or fails wakes its waiters, who look again.

use std::future::Future;

use super::cache::{Decision, Invalidate, ToolCache, What};
use super::call::{ToolCall, ToolKey};
use super::output::{Body, Origin, Stored, ToolOutput};
use super::workspace::Workspace;
use super::ws_path::WsCtx;
use crate::{Dep, DepPath};

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
                self.invalidate_paths(&paths);
                let _after = Invalidate {
                    cache: self.cache(),
                    projects: &self.projects,
                    what: What::Paths(&paths, ws.sync.healthy()),
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
        // The hit path maps no dependency: look up first.
        if let Some(v) = self.lookup(ws, &key) {
            return Ok(v);
        }
        let view = self.view_of(ws, call, &deps);
        if let Some((v, path)) = &view {
            if let Some((value, _)) = self.answer(ws, v, path) {
                return Ok(value);
            }
        }
        let prints = self.prints(ws, &deps);
        let stored = self
            .cache()
            .get_or_compute_async(
                key,
                ws.deps(&deps),
                |s| self.fresh(ws, s),
                || async {
                    let origin = Origin::now(call.by.clone());
                    // What the output teaches is valid as of this ticket.
                    let learning = view.map(|(v, path)| {
                        let ticket = self.cache().ticket([Dep::exact(path.clone())]);
                        (v, path, ticket)
                    });
                    let value = run(call.clone()).await?;
                    // Waits for the watcher, for a project command only.
                    self.settle(ws, &deps);
                    if let Some((v, path, ticket)) = learning {
                        self.learn(ws, &v, path, &value, ticket, prints.clone(), &origin);
                    }
                    Ok(Stored::output(value, prints, origin))
                },
            )
            .await?;
        match stored.body {
            Body::Output(value) => Ok(value),
            // Learned content lives under keys no tool call has (`learn::content_key`).
            Body::Known(_) => unreachable!("a tool call's key holds learned content"),
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
