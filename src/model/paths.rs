//! The path tree of the model's dependencies, spelled as `&str` in the normal
//! form [`DepPath`](crate::DepPath) gives them, and worked out on the text
//! alone (the model does not ask `DepPath` what contains what).
//!
//! Two disjoint trees: relative paths under the workspace root `""`, absolute
//! ones under `/`. A leading `..` of a relative path is a component like any
//! other, a child of `""`.

use crate::Scope;

/// A dependency of an entry or a ticket: a path in normal form and its scope.
pub type PathDep = (&'static str, Scope);

/// True if `p` is in normal form: `""`, `/`, or components joined by single
/// `/`s (after a leading `/` for an absolute path), none of them empty or `.`,
/// and `..` only before every other component of a relative path.
pub fn is_normal(p: &str) -> bool {
    if p.is_empty() || p == "/" {
        return true;
    }
    let rel = p.strip_prefix('/');
    let mut leading = rel.is_none();
    for c in rel.unwrap_or(p).split('/') {
        match c {
            "" | "." => return false,
            ".." if leading => {}
            ".." => return false,
            _ => leading = false,
        }
    }
    true
}

/// True if `a` is `b` or one of its ancestors.
pub fn contains(a: &str, b: &str) -> bool {
    if a.starts_with('/') != b.starts_with('/') {
        return false;
    }
    match a {
        "" | "/" => true,
        _ => b
            .strip_prefix(a)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
    }
}

/// True if invalidating `target` reaches a dependency on `dep` with `scope`:
/// `target` is `dep` or an ancestor of it, or `dep` is a `Subtree` that
/// contains `target`.
pub fn reaches(target: &str, dep: &str, scope: Scope) -> bool {
    contains(target, dep) || (scope == Scope::Subtree && contains(dep, target))
}

/// True if invalidating any of `targets` reaches any of `deps`.
pub fn reached(targets: &[&str], deps: &[PathDep]) -> bool {
    deps.iter().any(|&(d, s)| targets.iter().any(|t| reaches(t, d, s)))
}

/// The parent of `p`; `None` for the two roots.
pub fn parent(p: &str) -> Option<&str> {
    match p {
        "" | "/" => None,
        _ => Some(match p.rfind('/') {
            None => "",
            Some(0) => "/",
            Some(i) => &p[..i],
        }),
    }
}

/// `p` and its ancestors, up to its root.
pub fn ancestors(p: &str) -> impl Iterator<Item = &str> {
    core::iter::successors(Some(p), |q| parent(q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DepPath, Dependency};

    /// Every path the model harnesses use, and a few more spellings of the
    /// corner cases.
    const PATHS: [&str; 20] = [
        "", "a", "a/b", "a/b/c", "a/d", "a/b/x", "ab", "e", "e/f", "e/f/g/h", "z", "w/10", "w/1", "..", "../x",
        "../..", "/", "/t", "/t/u", "/a",
    ];

    #[test]
    fn normal_forms() {
        for p in PATHS {
            assert!(is_normal(p), "{p:?}");
            assert_eq!(DepPath::new(p).as_path(), std::path::Path::new(p), "{p:?}");
        }
        for p in ["a/", "a//b", "./a", "a/.", "a/../b", "/..", "//", "a/..", "/a/"] {
            assert!(!is_normal(p), "{p:?}");
        }
    }

    #[test]
    fn tree() {
        assert!(contains("", "a/b"));
        assert!(contains("", ".."));
        assert!(!contains("", "/t"));
        assert!(!contains("/", "a"));
        assert!(contains("/", "/t/u"));
        assert!(contains("a", "a/b"));
        assert!(!contains("a", "ab"));
        assert!(!contains("a/b", "a"));
        assert!(contains("..", "../x"));
        assert_eq!(ancestors("/t/u").collect::<Vec<_>>(), ["/t/u", "/t", "/"]);
        assert_eq!(ancestors("../x").collect::<Vec<_>>(), ["../x", "..", ""]);
        assert!(reaches("a", "a/b", Scope::Exact));
        assert!(!reaches("a/b", "a", Scope::Exact));
        assert!(reaches("a/b", "a", Scope::Subtree));
        assert!(!reaches("a/b", "a/d", Scope::Subtree));
    }

    /// The model's tree agrees with `DepPath`'s on every pair of paths.
    #[test]
    fn agrees_with_dep_path() {
        for a in PATHS {
            let pa = DepPath::new(a);
            let up = pa.parent();
            assert_eq!(parent(a).map(DepPath::new), up, "parent({a:?})");
            for b in PATHS {
                assert_eq!(contains(a, b), pa.contains(&DepPath::new(b)), "contains({a:?}, {b:?})");
            }
        }
    }
}
