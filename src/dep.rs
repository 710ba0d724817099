//! Dependencies: what an entry depends on, and how far ([`Scope`]).

use core::fmt::Debug;
use core::hash::Hash;

/// A thing cache entries can depend on.
///
/// Flat tags (`String`, `&'static str`, integers) have no parent. Hierarchical
/// dependencies such as [`DepPath`](crate::DepPath) return the directory that
/// contains them from [`parent`](Dependency::parent); invalidating a dependency
/// then also reaches `Subtree` dependents of every ancestor and every dependent of
/// anything below it.
///
/// ```
/// use depcache::Dependency;
///
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// struct Table(&'static str);
/// impl Dependency for Table {}
///
/// assert_eq!(Table("users").parent(), None);
/// ```
pub trait Dependency: Clone + Debug + Hash + Eq + Send + Sync + 'static {
    /// The dependency that contains this one, or `None` at the top.
    fn parent(&self) -> Option<Self> {
        None
    }
}

impl Dependency for String {}
impl Dependency for &'static str {}
impl Dependency for u32 {}
impl Dependency for u64 {}
impl Dependency for usize {}
impl Dependency for i32 {}
impl Dependency for i64 {}

/// How much of a dependency an entry depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// This dependency itself (`read_file a.py` depends on `a.py`). Also invalidated
    /// by the invalidation of any ancestor (a directory removed as a whole).
    #[default]
    Exact,
    /// This dependency and anything below it (`ls src`, `grep -r x src`).
    Subtree,
}

/// A dependency with its scope, as given to [`Cache::insert`](crate::Cache::insert)
/// and [`Cache::ticket`](crate::Cache::ticket).
///
/// A bare `D` converts into an `Exact` dependency:
///
/// ```
/// use depcache::{Dep, Scope};
///
/// let d: Dep<&str> = "a.py".into();
/// assert_eq!(d.scope, Scope::Exact);
/// assert_eq!(Dep::subtree("src").scope, Scope::Subtree);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dep<D> {
    /// The dependency.
    pub dep: D,
    /// How much of it.
    pub scope: Scope,
}

impl<D> Dep<D> {
    /// Depends on `dep` itself.
    pub fn exact(dep: D) -> Self {
        Dep {
            dep,
            scope: Scope::Exact,
        }
    }

    /// Depends on `dep` and everything below it.
    pub fn subtree(dep: D) -> Self {
        Dep {
            dep,
            scope: Scope::Subtree,
        }
    }
}

impl<D> From<D> for Dep<D> {
    fn from(dep: D) -> Self {
        Dep::exact(dep)
    }
}

impl<D> From<(D, Scope)> for Dep<D> {
    fn from((dep, scope): (D, Scope)) -> Self {
        Dep { dep, scope }
    }
}
