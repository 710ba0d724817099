//! What the cache knows of one file's content: runs of consecutive lines,
//! where the file ends, and how its last line ends.

use std::sync::Arc;

/// How a line ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// With `\n`.
    Newline,
    /// Without: the file's last line, with no final newline.
    Bare,
    /// Unknown: the file's last line, learned from a tool that always ends its
    /// output lines with `\n` (`nl`).
    Unknown,
}

/// The most bytes known of one file (outputs longer than this teach nothing;
/// knowledge that would grow past it is replaced instead).
pub(crate) const MAX_BYTES: usize = 1 << 30;

/// Consecutive lines of a file, from line `first` (1-based): their bytes,
/// each followed by `\n` but perhaps the last (how the file's last line
/// really ends is kept in [`Known`]), and where each starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) first: u64,
    bytes: Bytes,
    /// Start of each line in `bytes`, and one more entry: one past the end
    /// of the last line's `\n` (one past the end of `bytes` when the last
    /// line has none). 32 bits: what is known of a file stays under
    /// [`MAX_BYTES`].
    bounds: Vec<u32>,
    /// Every byte is ASCII and none is NUL.
    ascii: bool,
}

/// A run's bytes: its own, or a tool output's, shared without a copy.
#[derive(Clone, Debug)]
enum Bytes {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

/// Equal when they hold the same bytes, owned or shared.
impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Bytes {}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Shared(a) => a,
        }
    }
}

impl Run {
    #[cfg(test)]
    pub(crate) fn new(first: u64) -> Self {
        Self::with_capacity(first, 0, 0)
    }

    /// An empty run with room for `lines` lines of `bytes` bytes in all.
    pub(crate) fn with_capacity(first: u64, bytes: usize, lines: usize) -> Self {
        let mut bounds = Vec::with_capacity(lines + 1);
        bounds.push(0);
        Run {
            first,
            bytes: Bytes::Owned(Vec::with_capacity(bytes)),
            bounds,
            ascii: true,
        }
    }

    /// The lines of `text` (each ends with `\n`, but the last may not), from
    /// line `first`: `shared` (the same bytes, if the output's allocation
    /// can be shared) or one copy, and one scan for line ends. `None` past
    /// [`MAX_BYTES`].
    pub(crate) fn from_text(first: u64, text: &[u8], shared: Option<Arc<[u8]>>) -> Option<Self> {
        if text.len() >= MAX_BYTES {
            return None;
        }
        let bytes = match shared {
            // The same allocation, not merely equal bytes (comparing them
            // would cost what the copy costs).
            Some(a) if std::ptr::eq(a.as_ptr(), text.as_ptr()) && a.len() == text.len() => Bytes::Shared(a),
            _ => Bytes::Owned(text.to_vec()),
        };
        let b = bytes.as_slice();
        // Room for a line every 16 bytes: no regrowth for source code.
        let mut bounds = Vec::with_capacity(b.len() / 16 + 2);
        bounds.push(0);
        // Line ends 8 bytes at a time: in each word, the bytes equal to `\n`
        // become zero, and an exact zero-byte mask (no borrow between bytes)
        // marks them. Lines of source code are dense in `\n`; memchr, tuned
        // for rare matches, took 1.6x as long on a 10,000-line file.
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
        let words = b.chunks_exact(8);
        let tail_at = b.len() - words.remainder().len();
        for (w, word) in words.enumerate() {
            let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ NL;
            let mut ends = !(((x & LOW7) + LOW7) | x | LOW7);
            while ends != 0 {
                bounds.push((w * 8) as u32 + ends.trailing_zeros() / 8 + 1);
                ends &= ends - 1;
            }
        }
        for (j, c) in b[tail_at..].iter().enumerate() {
            if *c == b'\n' {
                bounds.push((tail_at + j + 1) as u32);
            }
        }
        if !b.is_empty() && !b.ends_with(b"\n") {
            bounds.push(b.len() as u32 + 1); // a last line without `\n`
        }
        // Separate vectorized passes: folding these into the loop above
        // cost 20 us more on a 10,000-line file.
        let ascii = b.is_ascii() && memchr::memchr(0, b).is_none();
        Some(Run {
            first,
            bytes,
            bounds,
            ascii,
        })
    }

    pub(crate) fn push(&mut self, line: &[u8]) {
        self.ascii &= line.is_ascii() && memchr::memchr(0, line).is_none();
        let bytes = self.owned();
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        // Callers keep runs under MAX_BYTES (< 2^32).
        let end = bytes.len() as u32;
        self.bounds.push(end);
    }

    /// The bytes as a vector of its own, every line ended by `\n`.
    fn owned(&mut self) -> &mut Vec<u8> {
        if let Bytes::Shared(a) = &self.bytes {
            self.bytes = Bytes::Owned(a.to_vec());
        }
        let Bytes::Owned(v) = &mut self.bytes else {
            unreachable!("made owned just above")
        };
        if let Some(last) = self.bounds.last_mut() {
            if *last as usize > v.len() {
                v.push(b'\n'); // the bare last line, ended now
                *last = v.len() as u32;
            }
        }
        v
    }

    /// Drops the last line, if any.
    pub(crate) fn pop(&mut self) {
        if self.bounds.len() > 1 {
            self.bounds.pop();
            let end = self.bounds.last().map_or(0, |b| *b as usize);
            self.owned().truncate(end);
        }
    }

    pub(crate) fn len(&self) -> u64 {
        (self.bounds.len() - 1) as u64
    }

    /// The last line number it holds (`first - 1` when empty).
    pub(crate) fn last(&self) -> u64 {
        self.first + self.len() - 1
    }

    /// Line `n` (absolute), if held.
    pub(crate) fn line(&self, n: u64) -> Option<&[u8]> {
        let i = usize::try_from(n.checked_sub(self.first)?).ok()?;
        let (start, end) = (*self.bounds.get(i)? as usize, *self.bounds.get(i + 1)? as usize);
        self.bytes.as_slice().get(start..end - 1)
    }

    fn bytes_len(&self) -> usize {
        self.bytes.as_slice().len() + self.bounds.len() * std::mem::size_of::<u32>()
    }
}

/// A file's known lines. Invariants (`check`): runs sorted, disjoint and not
/// adjacent (adjacent runs are merged); if `lines` is known, no run goes past
/// it; `last_end` is `Some` only when `lines` is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Known {
    runs: Vec<Run>,
    /// The file's line count, when known.
    lines: Option<u64>,
    /// How the last line ends, when the file's end is known.
    last_end: Option<End>,
    /// Every byte known is ASCII and none is NUL (grep's dialect is then the
    /// same in every locale).
    ascii: bool,
}

/// What a read's complete output proved about a file.
#[derive(Debug)]
pub(crate) struct Learned {
    pub(crate) run: Run,
    /// The file ends with the run's last line (or, for an empty run starting
    /// at line 1, the file is empty).
    pub(crate) ends: bool,
    /// How the last line of the run ends, if `ends`.
    pub(crate) last_end: End,
}

impl Known {
    /// Knowledge from one output.
    pub(crate) fn from_learned(l: Learned) -> Option<Known> {
        if l.run.len() == 0 && !(l.ends && l.run.first == 1) {
            return None; // nothing learned
        }
        let ascii = l.run.ascii;
        let (lines, last_end) = if l.ends {
            (Some(l.run.last()), (l.run.len() > 0).then_some(l.last_end))
        } else {
            (None, None)
        };
        let runs = if l.run.len() > 0 { vec![l.run] } else { Vec::new() };
        Some(Known {
            runs,
            lines,
            last_end,
            ascii,
        })
    }

    /// This knowledge and `newer`'s together; `newer` alone if they
    /// contradict each other (a line that differs, another end).
    pub(crate) fn merged(&self, newer: Known) -> Known {
        let held = |k: &Known| k.runs.iter().map(|r| r.bytes.as_slice().len()).sum::<usize>();
        if held(self) + held(&newer) >= MAX_BYTES {
            return newer;
        }
        let contradicts = match (self.lines, newer.lines) {
            (Some(a), Some(b)) => a != b,
            (Some(n), None) => newer.runs.last().is_some_and(|r| r.last() > n),
            (None, Some(n)) => self.runs.last().is_some_and(|r| r.last() > n),
            (None, None) => false,
        } || newer
            .runs
            .iter()
            .any(|r| (r.first..=r.last()).any(|n| matches!((self.line(n), r.line(n)), (Some(a), Some(b)) if a != b)));
        if contradicts {
            return newer;
        }
        let lines = self.lines.or(newer.lines);
        let last_end = match (self.last_end, newer.last_end) {
            (Some(End::Unknown), Some(e)) | (Some(e), Some(End::Unknown)) => Some(e),
            (a, b) => a.or(b),
        };
        // Merge the runs: every line from either, in order.
        let mut all: Vec<&Run> = self.runs.iter().chain(newer.runs.iter()).collect();
        all.sort_by_key(|r| r.first);
        let mut runs: Vec<Run> = Vec::new();
        for r in all {
            match runs.last_mut() {
                Some(cur) if r.first <= cur.last() + 1 => {
                    for n in (cur.last() + 1)..=r.last() {
                        if let Some(line) = r.line(n) {
                            cur.push(line);
                        }
                    }
                }
                _ => runs.push(r.clone()),
            }
        }
        Known {
            runs,
            lines,
            last_end,
            ascii: self.ascii && newer.ascii,
        }
    }

    /// Line `n`, if known.
    pub(crate) fn line(&self, n: u64) -> Option<&[u8]> {
        let i = self.runs.partition_point(|r| r.last() < n);
        self.runs.get(i)?.line(n)
    }

    /// The file's line count, when known.
    pub(crate) fn lines(&self) -> Option<u64> {
        self.lines
    }

    /// How line `n` ends: `None` if not known (or not a line of the file).
    pub(crate) fn end_of(&self, n: u64) -> Option<End> {
        match self.lines {
            Some(last) if n == last => self.last_end,
            Some(last) if n > last => None,
            _ => Some(End::Newline),
        }
    }

    /// The run holding lines `a..=b` whole, if one does.
    pub(crate) fn covers(&self, a: u64, b: u64) -> bool {
        if a > b {
            return true;
        }
        let i = self.runs.partition_point(|r| r.last() < a);
        self.runs.get(i).is_some_and(|r| r.first <= a && r.last() >= b)
    }

    /// True if every known byte is ASCII and none is NUL.
    pub(crate) fn ascii(&self) -> bool {
        self.ascii
    }

    /// Bytes held, for the cache's weigher.
    pub(crate) fn size(&self) -> usize {
        self.runs.iter().map(Run::bytes_len).sum::<usize>() + std::mem::size_of::<Self>()
    }

    /// Checks the invariants (tests).
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), String> {
        for w in self.runs.windows(2) {
            if w[1].first <= w[0].last() + 1 {
                return Err(format!(
                    "runs {}..{} and {}.. touch",
                    w[0].first,
                    w[0].last(),
                    w[1].first
                ));
            }
        }
        if let (Some(n), Some(r)) = (self.lines, self.runs.last()) {
            if r.last() > n {
                return Err(format!("a run ends at {} past the end {n}", r.last()));
            }
        }
        if self.last_end.is_some() && self.lines.is_none() {
            return Err("an end without a line count".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(first: u64, lines: &[&str], ends: bool) -> Known {
        let mut run = Run::new(first);
        for l in lines {
            run.push(l.as_bytes());
        }
        Known::from_learned(Learned {
            run,
            ends,
            last_end: End::Newline,
        })
        .unwrap()
    }

    #[test]
    fn runs_merge_and_contradictions_replace() {
        let a = learned(1, &["a", "b", "c"], false);
        let b = learned(4, &["d", "e"], true);
        let m = a.merged(b);
        m.check().unwrap();
        assert!(m.covers(1, 5));
        assert_eq!(m.lines(), Some(5));
        assert_eq!(m.line(4), Some(&b"d"[..]));
        let far = learned(10, &["x"], false);
        let m2 = a.merged(far);
        m2.check().unwrap();
        assert!(!m2.covers(1, 10) && m2.covers(10, 10) && m2.covers(2, 3));
        let other = learned(2, &["B"], false);
        let m3 = m.merged(other.clone());
        assert_eq!(m3, other, "a differing line replaces what was known");
        let shorter = learned(1, &["a"], true);
        assert_eq!(m.merged(learned(1, &["a"], true)), shorter, "another end replaces");
    }
}
