//! Errors of the tool layer.

use thiserror::Error;

/// Why a tool call or a policy could not be understood.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The arguments are not a JSON object.
    #[error("tool `{tool}`: arguments must be a JSON object, found {found}")]
    NotAnObject {
        /// The tool.
        tool: String,
        /// What was found instead.
        found: &'static str,
    },
    /// The arguments nest deeper than 64 levels.
    #[error("tool `{tool}`: arguments nest deeper than {max} levels")]
    TooDeep {
        /// The tool.
        tool: String,
        /// The limit.
        max: usize,
    },
    /// A path argument cannot name a file.
    #[error("tool `{tool}`: argument `{arg}` is not a valid path: {reason}")]
    InvalidPath {
        /// The tool.
        tool: String,
        /// The argument.
        arg: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A policy file or string could not be read or parsed.
    #[error("policy {origin}: {message}")]
    Policy {
        /// The file (or `<string>`).
        origin: String,
        /// What was wrong and where (line and column when known).
        message: String,
    },
    /// A workspace name is already in use with another root.
    #[error("workspace `{name}` is rooted at {root}, not {requested}")]
    WorkspaceRoot {
        /// The workspace's name.
        name: String,
        /// Its root.
        root: String,
        /// The root asked for.
        requested: String,
    },
    /// [`Policy::for_agent`](super::Policy::for_agent) does not know the agent.
    #[error("no policy for agent `{name}` (known: {known})")]
    UnknownAgent {
        /// The name asked for.
        name: String,
        /// The names it knows.
        known: String,
    },
}
