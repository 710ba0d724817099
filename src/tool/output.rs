//! What the cache stores for a tool call, and what it tells the caller about
//! where a result came from.

use std::sync::Arc;
use std::time::SystemTime;

use super::fingerprint::Print;
use super::view::Known;

/// A tool's output type. Views of known file content
/// ([`ToolCache::views`](super::ToolCache::views)) need its bytes; other types
/// implement it with the defaults (no bytes: no views).
///
/// ```
/// use depcache::tool::ToolOutput;
///
/// #[derive(Clone)]
/// struct Rendered(String);
/// impl ToolOutput for Rendered {} // cached, never viewed
/// ```
pub trait ToolOutput: Clone + Send + Sync + 'static {
    /// The tool's exact output bytes, to learn a file's content from.
    fn bytes(&self) -> Option<&[u8]> {
        None
    }

    /// The same bytes as [`bytes`](ToolOutput::bytes) in an allocation the
    /// cache may keep instead of a copy (an `Arc<str>`'s own), if there is one.
    fn shared_bytes(&self) -> Option<Arc<[u8]>> {
        None
    }

    /// An output holding `bytes`: a view's answer. `None` if this type cannot
    /// hold them (text that is not UTF-8, say): the tool then runs.
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let _ = bytes;
        None
    }

    /// False if the executor cut this output (what the model saw was
    /// shortened): the cache then learns nothing from it.
    fn is_complete(&self) -> bool {
        true
    }
}

impl ToolOutput for Arc<str> {
    fn bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }

    fn shared_bytes(&self) -> Option<Arc<[u8]>> {
        Some(Arc::from(self.clone()))
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        std::str::from_utf8(bytes).ok().map(Arc::from)
    }
}

impl ToolOutput for String {
    fn bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl ToolOutput for Arc<[u8]> {
    fn bytes(&self) -> Option<&[u8]> {
        Some(self)
    }

    fn shared_bytes(&self) -> Option<Arc<[u8]>> {
        Some(self.clone())
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Arc::from(bytes))
    }
}

impl ToolOutput for Vec<u8> {
    fn bytes(&self) -> Option<&[u8]> {
        Some(self)
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

/// Who made a call: a session and its step, as the executor numbers them
/// ([`ToolCall::by`](super::ToolCall::by)).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CallRef {
    /// The session (a conversation, an agent run).
    pub session: String,
    /// The call's step in it.
    pub step: u64,
}

/// When and by which call a cached result was produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    /// When the tool run that produced it started.
    pub at: SystemTime,
    /// The call that ran it, if the executor said.
    pub by: Option<CallRef>,
}

impl Origin {
    pub(crate) fn now(by: Option<CallRef>) -> Self {
        Origin {
            at: SystemTime::now(),
            by,
        }
    }
}

/// Where a result came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The tool ran for this call.
    Ran,
    /// A cached result of the same call (or of a concurrent caller's run).
    Hit(Origin),
    /// A view of a file's content that earlier reads showed whole or in part,
    /// unchanged since: `Origin` is the last read the cache learned it from.
    View(Origin),
}

impl Source {
    /// True for a hit or a view: the tool did not run.
    pub fn is_cached(&self) -> bool {
        !matches!(self, Source::Ran)
    }

    /// When and by whom it was produced, unless it ran now.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Source::Ran => None,
            Source::Hit(o) | Source::View(o) => Some(o),
        }
    }
}

/// A result and where it came from: an executor can tell the model
/// "unchanged since your read at step N" instead of repeating it.
#[derive(Clone, Debug)]
pub struct Served<V> {
    /// The output.
    pub value: V,
    /// Where it came from.
    pub source: Source,
}

/// What the cache holds under a key: a tool's result, or what reads taught it
/// of a file's content; with the fingerprints of its files when enabled.
#[derive(Clone, Debug)]
pub struct Stored<V> {
    pub(crate) body: Body<V>,
    pub(crate) prints: Option<Arc<[Print]>>,
    pub(crate) origin: Origin,
}

#[derive(Clone, Debug)]
pub(crate) enum Body<V> {
    Output(V),
    Known(Arc<Known>),
}

impl<V> Stored<V> {
    /// A result without fingerprints, produced now.
    pub fn new(value: V) -> Self {
        Stored {
            body: Body::Output(value),
            prints: None,
            origin: Origin::now(None),
        }
    }

    pub(crate) fn output(value: V, prints: Option<Arc<[Print]>>, origin: Origin) -> Self {
        Stored {
            body: Body::Output(value),
            prints,
            origin,
        }
    }

    /// The tool's output, or `None` for a file's learned content.
    pub fn value(&self) -> Option<&V> {
        match &self.body {
            Body::Output(v) => Some(v),
            Body::Known(_) => None,
        }
    }

    /// When and by which call it was produced.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Its weight for a byte budget: `output_weight` of a tool's output, the
    /// bytes held of a file's learned content.
    pub fn weigh(&self, output_weight: impl FnOnce(&V) -> u64) -> u64 {
        match &self.body {
            Body::Output(v) => output_weight(v),
            Body::Known(k) => k.size() as u64,
        }
    }
}
