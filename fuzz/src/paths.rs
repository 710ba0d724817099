//! `paths`: `DepPath` normalization against a reference written here.
//!
//! Checks: `DepPath::new` and `in_workspace` never panic; normalization is
//! idempotent; the result equals the reference (split on `/`, drop empty and
//! `.` components, `..` pops a normal component, is dropped at `/`, and is kept
//! at the start of a relative path); every parent contains its child, is one
//! component shorter and is normalized; `contains` agrees with a component
//! prefix test; `in_workspace` equals the reference (tilde expansion, then
//! normalization, then the root stripped from absolute paths inside it).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use arbitrary::Arbitrary;
use depcache::{DepPath, Dependency};

/// Bytes paths are made of: separators, dots, tilde and a few names.
const PIECES: &[&[u8]] = &[
    b"/", b".", b"..", b"a", b"b", b"~", b"\xff", b"ws", b"//", b"./", b"../",
];

#[derive(Arbitrary, Debug)]
pub enum P {
    Pieces(Vec<u8>),
    Raw(Vec<u8>),
}

impl P {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            P::Pieces(v) => v
                .iter()
                .flat_map(|i| PIECES[usize::from(*i) % PIECES.len()].iter().copied())
                .collect(),
            P::Raw(b) => b.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub path: P,
    pub other: P,
    pub root: P,
}

/// The reference normalization: `(absolute, components)`.
pub fn reference(bytes: &[u8]) -> (bool, Vec<Vec<u8>>) {
    let abs = bytes.first() == Some(&b'/');
    let mut out: Vec<Vec<u8>> = Vec::new();
    for c in bytes.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => match out.last() {
                Some(last) if last.as_slice() != b".." => {
                    out.pop();
                }
                _ if abs => {}
                _ => out.push(c.to_vec()),
            },
            _ => out.push(c.to_vec()),
        }
    }
    (abs, out)
}

fn render((abs, comps): &(bool, Vec<Vec<u8>>)) -> Vec<u8> {
    let mut s = if *abs { b"/".to_vec() } else { Vec::new() };
    s.extend(comps.join(&b'/'));
    s
}

fn bytes_of(p: &DepPath) -> &[u8] {
    p.as_path().as_os_str().as_bytes()
}

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// The reference `in_workspace`.
fn reference_in_workspace(root: &[u8], path: &[u8], home: Option<&[u8]>) -> Vec<u8> {
    let expanded;
    let path = match (path, home) {
        (p, Some(h)) if p == b"~" || p.starts_with(b"~/") => {
            expanded = [h, b"/", &p[1..]].concat();
            &expanded[..]
        }
        (p, _) => p,
    };
    let (pabs, pc) = reference(path);
    let (rabs, rc) = reference(root);
    if pabs && rabs && pc.starts_with(&rc) {
        return render(&(false, pc[rc.len()..].to_vec()));
    }
    render(&(pabs, pc))
}

fn check_one(bytes: &[u8]) -> DepPath {
    let p = DepPath::new(os(bytes));
    let want = render(&reference(bytes));
    assert_eq!(
        bytes_of(&p),
        &want[..],
        "DepPath::new({:?}) differs from the reference",
        String::from_utf8_lossy(bytes)
    );
    assert_eq!(DepPath::new(p.as_path()), p, "normalization is not idempotent");
    assert!(p.contains(&p), "{p:?} does not contain itself");
    // Walk up to the root: each parent contains its child, one component up.
    let mut cur = p.clone();
    let mut steps = 0;
    while let Some(up) = cur.parent() {
        steps += 1;
        assert!(steps <= bytes.len() + 1, "parent chain of {p:?} does not end");
        assert!(up.contains(&cur), "{up:?}, parent of {cur:?}, does not contain it");
        assert!(up.contains(&p), "{up:?}, ancestor of {p:?}, does not contain it");
        assert!(!cur.contains(&up), "{cur:?} contains its parent {up:?}");
        assert_eq!(DepPath::new(up.as_path()), up, "parent {up:?} is not normalized");
        assert_eq!(
            up.as_path().components().count() + 1,
            cur.as_path().components().count(),
            "{up:?} is not one component above {cur:?}"
        );
        cur = up;
    }
    assert!(cur.is_root(), "the top of {p:?}'s chain, {cur:?}, is not a root");
    assert_eq!(cur.parent(), None);
    p
}

/// Runs raw fuzz bytes: starting with a NUL byte, the rest is a structured
/// [`Input`] (built by `arbitrary`); otherwise up to three paths separated by
/// NUL bytes: the path, another, and the workspace root (a seed:
/// `src/../a.py\0src\0/testbed`).
pub fn check_paths_bytes(data: &[u8]) {
    if let Some(rest) = data.strip_prefix(&[0]) {
        if let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
            check_paths(&input);
        }
        return;
    }
    let mut parts = data.splitn(3, |b| *b == 0);
    let mut next = || P::Raw(parts.next().unwrap_or_default().to_vec());
    let (path, other, root) = (next(), next(), next());
    check_paths(&Input { path, other, root });
}

/// Runs a `paths` input; panics on a violation.
pub fn check_paths(input: &Input) {
    let (pb, ob, rb) = (input.path.bytes(), input.other.bytes(), input.root.bytes());
    let p = check_one(&pb);
    let o = check_one(&ob);
    // `contains` is a component prefix test within one kind (relative/absolute).
    let (pa, pc) = reference(&pb);
    let (oa, oc) = reference(&ob);
    assert_eq!(p.contains(&o), pa == oa && oc.starts_with(&pc), "{p:?}.contains({o:?})");
    let root = Path::new(os(&rb));
    let w = DepPath::in_workspace(root, os(&pb));
    assert_eq!(DepPath::new(w.as_path()), w, "in_workspace result is not normalized");
    let home = std::env::var_os("HOME");
    let home = home.as_ref().map(|h| h.as_bytes()).filter(|h| h.starts_with(b"/"));
    if home.is_some() || !(pb == b"~" || pb.starts_with(b"~/")) {
        let want = reference_in_workspace(&rb, &pb, home);
        assert_eq!(
            bytes_of(&w),
            &want[..],
            "in_workspace({:?}, {:?})",
            String::from_utf8_lossy(&rb),
            String::from_utf8_lossy(&pb)
        );
    }
    // Applying it again changes nothing, unless the result starts with a `~`
    // component, which names `$HOME` only when spelled first.
    if w.as_path().components().next() != Some(std::path::Component::Normal("~".as_ref())) {
        assert_eq!(
            DepPath::in_workspace(root, w.as_path()),
            w,
            "in_workspace is not idempotent"
        );
    }
}
