//! The tool layer's side of views: which calls are views, what their outputs
//! teach, and answering from what was learned (the views themselves are in
//! [`view`](super::view)).

use std::sync::Arc;

use serde_json::Value;

use super::call::{ToolCall, ToolKey};
use super::fingerprint::Print;
use super::output::{Body, Origin, Stored, ToolOutput};
use super::policy::{ReadView, ToolPolicy, ViewFormat};
use super::view::{self, View};
use super::ws_path::{WsCtx, WsPath};
use super::ToolCache;
use crate::{Dep, DepPath, Ticket};

/// The key of a file's learned content. Its arguments start with NUL, which
/// no tool call's canonical JSON does, so it never equals a tool call's key.
fn content_key(path: &WsPath) -> ToolKey {
    let p = path.path().as_path().to_string_lossy();
    ToolKey::internal(path.workspace(), "\u{0}content", format!("\u{0}{p}").into())
}

/// A structured read tool's call as a view of its one file.
fn structured(call: &ToolCall, rv: &ReadView) -> Option<View> {
    let number = |arg: &Option<String>| -> Option<Option<u64>> {
        match arg.as_ref().and_then(|a| call.args.get(a)) {
            None | Some(Value::Null) => Some(None),
            Some(v) => Some(Some(v.as_u64()?)),
        }
    };
    // Line numbers from the tool's own numbering (0- or 1-based).
    let line = |n: u64| n.checked_add(1)?.checked_sub(rv.offset_base.min(1));
    let first = match number(&rv.offset_arg)? {
        Some(o) => line(o)?,
        None => 1,
    };
    let last = match (number(&rv.limit_arg)?, number(&rv.end_arg)?) {
        (Some(0), _) => return None,
        (Some(limit), None) => Some(first.checked_add(limit - 1)?),
        (None, Some(end)) => Some(line(end)?),
        (None, None) => None,
        (Some(_), Some(_)) => return None,
    };
    view::lines(String::new(), rv.format == ViewFormat::CatN, first, last)
}

impl<V: ToolOutput> ToolCache<V> {
    /// `call` as a view of one file, with that file, if views are on and the
    /// call is a shell read of exactly that file.
    pub(crate) fn view_of(&self, ws: &WsCtx, call: &ToolCall, deps: &[Dep<DepPath>]) -> Option<(View, WsPath)> {
        if !self.views_on() {
            return None;
        }
        // One dependency: the file. (`grep`'s is a `Subtree`, in case its
        // operand is a directory it recurses into; the views read no
        // directory, and `grep -r` is not one.)
        let [dep] = deps else { return None };
        let policy = self.policy.load();
        let sh = match policy.get(&call.name) {
            ToolPolicy::Shell(sh) => sh,
            ToolPolicy::Read(read) => {
                let view = structured(call, read.view.as_ref()?)?;
                return Some((view, ws.dep(&dep.dep)));
            }
            _ => return None,
        };
        let Some(Value::String(command)) = call.args.get(&sh.command_arg) else {
            return None;
        };
        let view = match call.args.get(&sh.args_arg) {
            None | Some(Value::Null) => view::parse_script(command)?,
            Some(Value::Array(items)) => {
                let mut argv = vec![command.clone()];
                for it in items {
                    argv.push(it.as_str()?.to_string());
                }
                view::parse_argvs(&[argv])?
            }
            Some(_) => return None,
        };
        // The classifier resolved the one file the view reads; the operand
        // must name it (relative operands resolve against a cwd it knows).
        let operand = DepPath::new(&view.file);
        let named = if operand.as_path().is_absolute() {
            DepPath::in_workspace(&ws.root, &view.file) == dep.dep
        } else {
            dep.dep.as_path().ends_with(operand.as_path())
        };
        named.then(|| (view, ws.dep(&dep.dep)))
    }

    /// `view` answered from what is known of `path`, with the origin of that
    /// knowledge.
    pub(crate) fn answer(&self, ws: &WsCtx, view: &View, path: &WsPath) -> Option<(V, Origin)> {
        let stored = self.checked(ws, &content_key(path))?;
        let Body::Known(known) = &stored.body else { return None };
        let bytes = view.answer(known)?;
        Some((V::from_bytes(&bytes)?, stored.origin))
    }

    /// Adds what `value`, the complete output of `view`, shows of `path` to
    /// what the cache knows, if nothing invalidated `path` since `ticket`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn learn(
        &self,
        ws: &WsCtx,
        view: &View,
        path: WsPath,
        value: &V,
        ticket: Ticket<ToolKey, Stored<V>, WsPath>,
        prints: Option<Arc<[Print]>>,
        origin: &Origin,
    ) {
        if !value.is_complete() {
            return;
        }
        let Some(learned) = value.bytes().and_then(|b| view.learn_shared(b, value.shared_bytes())) else {
            return;
        };
        let key = content_key(&path);
        let known = match self.checked(ws, &key).map(|s| s.body) {
            Some(Body::Known(old)) => old.merged(learned),
            _ => learned,
        };
        let stored = Stored {
            body: Body::Known(Arc::new(known)),
            prints,
            origin: origin.clone(),
        };
        // Refused if `path` changed since the ticket: then nothing is learned.
        let _ = self.cache().insert_with_ticket(key, stored, ticket);
    }
}
