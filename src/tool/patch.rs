//! The paths a patch in codex's `apply_patch` envelope writes.
//!
//! ```text
//! *** Begin Patch
//! *** Add File: docs/new.md
//! +text
//! *** Update File: src/a.py
//! *** Move to: src/b.py
//! @@ def f():
//! -    return 1
//! +    return 2
//! *** Delete File: old.txt
//! *** End Patch
//! ```
//!
//! (codex-rs `apply-patch/src/parser.rs` is the grammar's reference.) Only the
//! file lines matter to the cache: every path they name is written. Anything
//! that is not a well-formed envelope is refused, and the tool layer then
//! treats the call as opaque.

/// What is wrong with a patch, for the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatchError {
    /// The first line (after blank lines) is not `*** Begin Patch`.
    #[error("the patch does not start with `*** Begin Patch`")]
    NoBegin,
    /// No `*** End Patch` line.
    #[error("the patch does not end with `*** End Patch`")]
    NoEnd,
    /// A file line without a path.
    #[error("line {line}: `{header}` without a path")]
    NoPath { line: usize, header: &'static str },
    /// A `*** ` line the grammar does not have.
    #[error("line {line}: unknown patch line `{text}`")]
    Unknown { line: usize, text: String },
    /// An envelope that names no file.
    #[error("the patch names no file")]
    Empty,
}

/// The paths `patch` writes, in order, as spelled.
pub(crate) fn written_paths(patch: &str) -> Result<Vec<String>, PatchError> {
    const HEADERS: [&str; 4] = ["*** Add File:", "*** Update File:", "*** Delete File:", "*** Move to:"];
    let mut lines = patch.lines().enumerate().skip_while(|(_, l)| l.trim().is_empty());
    match lines.next() {
        Some((_, l)) if l.trim() == "*** Begin Patch" => {}
        _ => return Err(PatchError::NoBegin),
    }
    let mut paths = Vec::new();
    let mut ended = false;
    for (i, line) in lines {
        if ended {
            if line.trim().is_empty() {
                continue;
            }
            return Err(PatchError::Unknown {
                line: i + 1,
                text: line.chars().take(60).collect(),
            });
        }
        if line.trim() == "*** End Patch" {
            ended = true;
            continue;
        }
        if line.trim() == "*** End of File" {
            continue;
        }
        // codex trims a header line (`  *** Update File: a` is one): so
        // does this, at the cost of reading a context line that looks like a
        // header as one more written path (an extra invalidation).
        let line = line.trim();
        if let Some(header) = HEADERS.iter().find(|h| line.starts_with(*h)) {
            let path = line[header.len()..].trim();
            if path.is_empty() {
                return Err(PatchError::NoPath { line: i + 1, header });
            }
            paths.push(path.to_string());
        } else if line.starts_with("*** ") {
            return Err(PatchError::Unknown {
                line: i + 1,
                text: line.chars().take(60).collect(),
            });
        }
    }
    if !ended {
        return Err(PatchError::NoEnd);
    }
    if paths.is_empty() {
        return Err(PatchError::Empty);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_line_is_a_written_path() {
        let p = "*** Begin Patch\n*** Add File: docs/new.md\n+hi\n*** Update File: src/a.py\n*** Move to: src/b.py\n@@\n-x\n+y\n*** Delete File: old.txt\n*** End Patch\n";
        assert_eq!(
            written_paths(p).unwrap(),
            ["docs/new.md", "src/a.py", "src/b.py", "old.txt"]
        );
        // Padded headers are headers.
        let padded = "*** Begin Patch\n*** Add File: b\n+x\n  *** Update File: a.py\n@@\n-a\n+b\n *** Delete File: c\n*** End Patch";
        assert_eq!(written_paths(padded).unwrap(), ["b", "a.py", "c"]);
        // Hunk text that looks like a header is content (it starts with + or -).
        let q = "*** Begin Patch\n*** Update File: a\n@@\n+*** Add File: not/a/file\n*** End of File\n*** End Patch";
        assert_eq!(written_paths(q).unwrap(), ["a"]);
    }

    #[test]
    fn malformed_patches_are_refused() {
        assert_eq!(written_paths("diff --git a/x b/x"), Err(PatchError::NoBegin));
        assert_eq!(
            written_paths("*** Begin Patch\n*** Add File: a\n+x\n"),
            Err(PatchError::NoEnd)
        );
        assert_eq!(written_paths("*** Begin Patch\n*** End Patch"), Err(PatchError::Empty));
        assert!(matches!(
            written_paths("*** Begin Patch\n*** Update File:   \n*** End Patch"),
            Err(PatchError::NoPath { line: 2, .. })
        ));
        assert!(matches!(
            written_paths("*** Begin Patch\n*** Rename File: a\n*** End Patch"),
            Err(PatchError::Unknown { line: 2, .. })
        ));
        assert!(matches!(
            written_paths("*** Begin Patch\n*** Add File: a\n*** End Patch\ntrailing"),
            Err(PatchError::Unknown { line: 4, .. })
        ));
        assert_eq!(written_paths(""), Err(PatchError::NoBegin));
    }
}
