//! Replays pseudo-random inputs through every check on stable Rust (no
//! libFuzzer), so that `cargo test` in fuzz/ exercises the harnesses.
//! More: `DEPCACHE_FUZZ_SMOKE=100000 cargo test --release`.

use arbitrary::{Arbitrary, Unstructured};
use depcache_fuzz::json::Rng;

fn cases() -> u64 {
    std::env::var("DEPCACHE_FUZZ_SMOKE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

fn each<T: for<'a> Arbitrary<'a>>(salt: u64, len: usize, f: impl Fn(&T)) {
    for seed in 0..cases() {
        let mut r = Rng::new((seed + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt);
        let n = r.below(len) + 1;
        let bytes: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
        if let Ok(input) = T::arbitrary_take_rest(Unstructured::new(&bytes)) {
            f(&input);
        }
    }
}

#[test]
fn ops() {
    each(1, 2048, depcache_fuzz::model::check_ops);
}

#[test]
fn ops_threads() {
    each(2, 2048, depcache_fuzz::threads::check_threads);
}

#[test]
fn paths() {
    each(3, 256, depcache_fuzz::paths::check_paths);
}

#[test]
fn tool_args() {
    each(4, 1024, depcache_fuzz::json::check_tool_args);
}

#[test]
fn trace() {
    for seed in 0..cases() {
        let mut r = Rng::new(seed + 5);
        let n = r.below(512);
        // Mostly JSON-ish bytes, so that some lines parse.
        let alphabet = b"{}[]\":,tool sessionargsokoutput1 \ntrue\r\n";
        let bytes: Vec<u8> = (0..n).map(|_| alphabet[r.below(alphabet.len())]).collect();
        depcache_fuzz::trace::check_trace(&bytes);
    }
}

#[cfg(depcache_shell)]
#[test]
fn shell() {
    each(6, 512, depcache_fuzz::shell::check_shell);
}

#[cfg(depcache_shell)]
#[test]
fn shell_scanner() {
    use depcache_fuzz::shell::sure_write;
    for (cmd, writes) in [
        ("cat a > b", true),
        ("cat a 2>/dev/null", false),
        ("cat a 2>&1 | head", false),
        ("echo 'a > b'", false),
        ("echo \"a > b\"", false),
        ("echo \"$(cat a > b)\"", true),
        ("echo \"$( (cat a) \" > x \" )\"", false),
        ("grep tee a", false),
        ("cat a | tee b", true),
        ("X=1 rm a", true),
        ("echo {rm,x}", false),
        ("sed -n 1p a", false),
        ("sed -ni 1p a", true),
        ("sed -i=Ad -ei=A", false),
        ("cd a b``sed -i x f", false),
        ("echo a$(true)rm x", false),
        ("echo `rm x`", true),
        ("echo \"`rm x`\"", true),
        ("echo $(cat a | tee b)", true),
        ("echo \"$(echo \")\" ; rm x)\"", true),
        ("sed -i 1p", false),
        ("sed -i -e 1p a", true),
        ("sed -ie s/a/b/ f", true),
        ("perl -p script.pl -i f", false),
        ("perl -pi -e 1 f", true),
        ("sed -e -i a", false),
        ("perl -pi.bak -e 1 a", true),
        ("perl -ne 'print' a", false),
        ("sort -o out a", true),
        ("find . -name -delete", false),
        ("find . -name x -delete", true),
        ("find . -exec echo -delete \\;", false),
        ("cat <<EOF\nrm x\nEOF", false),
        ("[[ a > b ]]", false),
        ("cat a > \"/dev/null\"", false),
        ("cat a >(tee b)", true),
        ("cat a >( 2>&1 )", false),
        ("cat a 2>&12>&1", false),
        ("cp -x 2>/dev/null b", false),
        ("cp a 2>/dev/null", false),
        ("tee < f", false),
        ("cp a b 2>/dev/null", true),
        ("cat <(rm x)", true),
        ("cat a >out", true),
        ("cat a >&2-", false),
        ("cat a >& out", true),
        ("cat a >&out", true),
        ("cat a # > b", false),
        ("cat a >| b", true),
        ("cat a &> b", true),
        ("ln -rnln ", false),
        ("cat a | tee", false),
        ("chmod +x", false),
        ("chmod +x a", true),
        ("cp -t d a b", true),
        ("cp a", false),
        ("touch -d 2020", false),
    ] {
        assert_eq!(sure_write(cmd).is_some(), writes, "{cmd:?}: {:?}", sure_write(cmd));
    }
}

/// Inputs that once failed because of a harness bug (not the library).
#[test]
fn harness_regressions() {
    // A `\r` at the very end, without `\n`, is part of the line.
    depcache_fuzz::trace::check_trace(include_bytes!("../regressions/trace-harness-trailing-cr"));
    depcache_fuzz::trace::check_trace(b"{\"tool\": \"x\"}\r\n[\r");
    // `sed -i` with no file reads stdin: no write, a read is right.
    #[cfg(depcache_shell)]
    depcache_fuzz::shell::check_shell_bytes(include_bytes!("../regressions/shell-harness-sed-i-no-file"));
    // After the hand reclaimed some expired entries, the model's purge counts
    // the expirations of the rest.
    depcache_fuzz::model::check_ops(
        &<depcache_fuzz::ops::Input as Arbitrary>::arbitrary_take_rest(Unstructured::new(include_bytes!(
            "../regressions/ops-harness-purge-expirations"
        )))
        .unwrap(),
    );
    // A stale ticket with a value too heavy to cache: the library reports
    // `Stale` (it checks the ticket first); the harness's model expected `TooHeavy`.
    depcache_fuzz::model::check_ops(
        &<depcache_fuzz::ops::Input as Arbitrary>::arbitrary_take_rest(Unstructured::new(include_bytes!(
            "../regressions/ops-harness-stale-before-too-heavy"
        )))
        .unwrap(),
    );
    // `>( 2>&1 )` runs nothing: not a write.
    #[cfg(depcache_shell)]
    depcache_fuzz::shell::check_shell_bytes(include_bytes!(
        "../regressions/shell-harness-empty-process-substitution"
    ));
    // `2>&12>&1` is two descriptor duplications, not a write to a file "12>&1".
    #[cfg(depcache_shell)]
    depcache_fuzz::shell::check_shell_bytes(include_bytes!("../regressions/shell-harness-glued-fd-dups"));
    // A redirection's target (`2>/dev/null`) is not an operand of `cp`.
    #[cfg(depcache_shell)]
    depcache_fuzz::shell::check_shell_bytes(include_bytes!("../regressions/shell-harness-redirect-target-operand"));
    // "a``sed" is one word (an empty substitution inside it), not a command `sed`.
    #[cfg(depcache_shell)]
    depcache_fuzz::shell::check_shell_bytes(include_bytes!("../regressions/shell-harness-backquote-in-word"));
}
