//! [`DepPath`]: a normalized path, a hierarchical [`Dependency`].

use core::fmt;
use std::path::{Component, Path, PathBuf};

use crate::dep::Dependency;

/// A lexically normalized path: the hierarchical dependency of file tools.
///
/// Relative paths are relative to the workspace root, which is the empty path
/// `""`; `.` components, repeated and trailing separators vanish, and `..` removes
/// the component before it (a leading `..` of a relative path is kept). Absolute
/// paths stay absolute, so files outside the workspace are tracked too. Its
/// [`parent`](Dependency::parent) is the containing directory, up to the root.
///
/// ```
/// use depcache::{DepPath, Dependency};
///
/// let p = DepPath::new("./src//lib/../a.py/");
/// assert_eq!(p.as_path(), std::path::Path::new("src/a.py"));
/// assert_eq!(p.parent(), Some(DepPath::new("src")));
/// assert_eq!(DepPath::new("src").parent(), Some(DepPath::root()));
/// assert_eq!(DepPath::root().parent(), None);
///
/// // Inside a workspace, absolute and relative spellings are one dependency.
/// let ws = std::path::Path::new("/repo");
/// assert_eq!(DepPath::in_workspace(ws, "/repo/src/a.py"), DepPath::new("src/a.py"));
/// ```
#[derive(Clone, PartialOrd, Ord)]
pub struct DepPath(std::sync::Arc<Path>);

// Equality and hashing on the bytes: a `DepPath` is normalized, so two spell the
// same path exactly when their bytes are equal, and comparing bytes is several
// times cheaper than `Path`'s component-wise `==` and `Hash` (which showed up as
// 15% of an invalidation, in the index's child registries). `Ord` stays
// `Path`'s: on normalized paths it agrees with this equality.
impl PartialEq for DepPath {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0.as_os_str() == other.0.as_os_str()
    }
}

impl Eq for DepPath {}

impl core::hash::Hash for DepPath {
    #[inline]
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.as_os_str().as_encoded_bytes().hash(state);
    }
}

impl DepPath {
    /// Normalizes `path` lexically (no file system access).
    pub fn new(path: impl AsRef<Path>) -> Self {
        DepPath(normalize(path.as_ref()).into())
    }

    /// The workspace root (the empty relative path).
    pub fn root() -> Self {
        DepPath(PathBuf::new().into())
    }

    /// Normalizes `path` against the workspace `root`: an absolute path inside
    /// `root` becomes relative to it; `~` and `~/x` expand to `$HOME`.
    pub fn in_workspace(root: &Path, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        let expanded;
        let path = match path.strip_prefix("~") {
            Ok(rest) => match std::env::var_os("HOME") {
                Some(home) => {
                    expanded = Path::new(&home).join(rest);
                    expanded.as_path()
                }
                None => path,
            },
            Err(_) => path,
        };
        let norm = normalize(path);
        let root = normalize(root);
        if root.is_absolute() {
            if let Ok(rel) = norm.strip_prefix(&root) {
                return DepPath(rel.to_path_buf().into());
            }
        }
        DepPath(norm.into())
    }

    /// As [`in_workspace`](DepPath::in_workspace), but if the file exists, its
    /// symlinks are resolved first (so a link and its target are one dependency).
    /// Touches the file system; falls back to the lexical form when the path
    /// does not exist or cannot be resolved.
    pub fn resolved(root: &Path, path: impl AsRef<Path>) -> Self {
        let lexical = Self::in_workspace(root, path);
        let full = if lexical.0.is_absolute() {
            lexical.0.to_path_buf()
        } else {
            root.join(&lexical.0)
        };
        match (std::fs::canonicalize(&full), std::fs::canonicalize(root)) {
            (Ok(real), Ok(real_root)) => match real.strip_prefix(&real_root) {
                Ok(rel) => DepPath(rel.to_path_buf().into()),
                Err(_) => DepPath(real.into()),
            },
            _ => lexical,
        }
    }

    /// The normalized path.
    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// True for the workspace root and for `/`.
    pub fn is_root(&self) -> bool {
        self.0.parent().is_none()
    }

    /// True if `self` is `other` or an ancestor of it.
    pub fn contains(&self, other: &DepPath) -> bool {
        other.0.starts_with(&self.0) && (self.0.is_absolute() == other.0.is_absolute())
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut depth = 0usize; // normal components in `out`, which `..` may pop
    for c in path.components() {
        match c {
            Component::Prefix(p) => out.push(p.as_os_str()),
            Component::RootDir => {
                out.push(Component::RootDir.as_os_str());
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if depth > 0 {
                    out.pop();
                    depth -= 1;
                } else if !out.has_root() {
                    out.push("..");
                }
                // `/..` is `/`.
            }
            Component::Normal(s) => {
                out.push(s);
                depth += 1;
            }
        }
    }
    out
}

impl Dependency for DepPath {
    fn parent(&self) -> Option<Self> {
        self.0.parent().map(|p| DepPath(p.into()))
    }
}

impl fmt::Debug for DepPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for DepPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.as_os_str().is_empty() {
            f.write_str(".")
        } else {
            write!(f, "{}", self.0.display())
        }
    }
}

impl From<&str> for DepPath {
    fn from(s: &str) -> Self {
        DepPath::new(s)
    }
}

impl From<String> for DepPath {
    fn from(s: String) -> Self {
        DepPath::new(s)
    }
}

impl From<&Path> for DepPath {
    fn from(p: &Path) -> Self {
        DepPath::new(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(DepPath::new("a/./b//c/"), DepPath::new("a/b/c"));
        assert_eq!(DepPath::new("a/b/../c"), DepPath::new("a/c"));
        assert_eq!(DepPath::new("../x").as_path(), Path::new("../x"));
        assert_eq!(DepPath::new("a/../../x").as_path(), Path::new("../x"));
        assert_eq!(DepPath::new("/../x").as_path(), Path::new("/x"));
        assert_eq!(DepPath::new("."), DepPath::root());
        assert_eq!(DepPath::new(""), DepPath::root());
    }

    #[test]
    fn hierarchy() {
        let p = DepPath::new("/etc/x");
        assert_eq!(p.parent(), Some(DepPath::new("/etc")));
        assert_eq!(DepPath::new("/etc").parent(), Some(DepPath::new("/")));
        assert_eq!(DepPath::new("/").parent(), None);
        assert!(DepPath::new("src").contains(&DepPath::new("src/a")));
        assert!(!DepPath::new("src").contains(&DepPath::new("srcx")));
        assert!(DepPath::root().contains(&DepPath::new("a")));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let raw = OsStr::from_bytes(b"src/\xff\xfe.bin");
        let p = DepPath::new(raw);
        assert_eq!(p.parent(), Some(DepPath::new("src")));
        assert_eq!(DepPath::new(OsStr::from_bytes(b"./src//\xff\xfe.bin")), p);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_resolve_when_asked() {
        let dir = std::env::temp_dir().join(format!("depcache-symlink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("real")).unwrap();
        std::fs::write(dir.join("real/a.txt"), "x").unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        assert_eq!(DepPath::resolved(&dir, "link/a.txt"), DepPath::new("real/a.txt"));
        assert_eq!(DepPath::in_workspace(&dir, "link/a.txt"), DepPath::new("link/a.txt"));
        assert_eq!(DepPath::resolved(&dir, "missing/b"), DepPath::new("missing/b"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn workspace() {
        let ws = Path::new("/ws");
        assert_eq!(DepPath::in_workspace(ws, "/ws/src/a.py"), DepPath::new("src/a.py"));
        assert_eq!(DepPath::in_workspace(ws, "./src/a.py"), DepPath::new("src/a.py"));
        assert_eq!(DepPath::in_workspace(ws, "/other/a"), DepPath::new("/other/a"));
        assert_eq!(DepPath::in_workspace(ws, "/ws"), DepPath::root());
    }
}
