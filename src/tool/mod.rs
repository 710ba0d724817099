//! The tool layer: caching an agent's tool calls.
//!
//! A [`ToolCall`] (a name and JSON arguments) becomes a [`ToolKey`] (the name
//! and canonical arguments: keys sorted, numbers normalized, paths normalized
//! against the workspace, declared defaults dropped) and a list of
//! [`DepPath`](crate::DepPath) dependencies (from path arguments, nested
//! objects and arrays, and globs). A [`Policy`] table says what each tool is:
//!
//! | kind | cached? | invalidates |
//! |---|---|---|
//! | read (`read_file`, `grep`, `ls`, `git_status`, ...) | yes, successful results | nothing |
//! | write (`edit`, `write`, `remove_file`, `git_commit`, ...) | no | the paths it changes, before and after |
//! | opaque (`bash`, `run_command`, ...) | no | its whole workspace, O(1), before and after |
//! | never (unknown tools, network, time) | no | nothing |
//!
//! **Unknown tools are not cached and invalidate nothing**: if an unknown tool
//! can write files, add it to the policy (or set `unknown` to opaque), or run a
//! file watcher.

mod cache;
mod call;
mod error;
#[cfg(feature = "async")]
mod execute_async;
mod extract;
mod fingerprint;
mod learn;
mod output;
mod patch;
mod path_args;
mod policy;
mod project;
pub mod shell;
mod sync_point;
mod view;
mod workspace;
mod ws_path;

pub use cache::{Decision, Freshness, Pending, ToolCache};
#[cfg(feature = "trace")]
pub(crate) use call::kind as json_kind;
pub use call::{ToolCall, ToolKey};
pub use error::ToolError;
pub use extract::{DefaultExtractor, DepExtractor};
pub use output::{CallRef, Origin, Served, Source, Stored, ToolOutput};
#[cfg(any(test, fuzzing, depcache_checks))]
pub(crate) use path_args::is_path_arg;
pub use policy::{ByArgPolicy, Policy, ReadPolicy, ReadView, ShellPolicy, ToolPolicy, ViewFormat, WritePolicy};
#[cfg(feature = "watch")]
pub(crate) use project::Projects;
#[cfg(feature = "watch")]
pub(crate) use sync_point::SyncPoint;
pub use workspace::Workspace;
#[cfg(feature = "watch")]
pub(crate) use ws_path::WsCtx;
pub use ws_path::WsPath;
