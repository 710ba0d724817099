//! The classification table: command → expected class, per construct.

use std::path::Path;

use super::*;
use crate::Scope;

const ROOT: &str = "/ws";

enum Want {
    /// A read of these (path, scope).
    R(&'static [(&'static str, Scope)]),
    /// A write of these paths.
    W(&'static [&'static str]),
    /// Opaque, the reason containing this text.
    O(&'static str),
}
use Scope::{Exact as E, Subtree as S};
use Want::*;

fn check(cmd: &str, cwd: Option<&str>, config: &ShellConfig, want: &Want) {
    let got = classify(cmd, cwd, Path::new(ROOT), config);
    let ok = match (&got, want) {
        (ShellClass::Read { deps }, R(w)) => {
            let mut want: Vec<Dep<DepPath>> = w
                .iter()
                .map(|(p, s)| Dep {
                    dep: DepPath::new(p),
                    scope: *s,
                })
                .collect();
            want.sort_by(|a, b| a.dep.cmp(&b.dep));
            *deps == want
        }
        (ShellClass::Write { paths }, W(w)) => {
            let mut want: Vec<DepPath> = w.iter().map(DepPath::new).collect();
            want.sort();
            *paths == want
        }
        (ShellClass::Opaque { reason }, O(w)) => reason.contains(w),
        _ => false,
    };
    assert!(ok, "`{cmd}` (cwd {cwd:?}): got {got:?}");
}

fn table(rows: &[(&str, Want)]) {
    let config = ShellConfig::default();
    for (cmd, want) in rows {
        check(cmd, None, &config, want);
    }
}

#[test]
fn readers() {
    table(&[
        ("cat a.py", R(&[("a.py", E)])),
        ("cat -n a.py b.py", R(&[("a.py", E), ("b.py", E)])),
        ("head -n 20 src/a.py", R(&[("src/a.py", E)])),
        ("head -20 a", R(&[("a", E)])),
        ("tail -n +5 a", R(&[("a", E)])),
        ("tail -f log", O("more than a read")),
        ("nl -ba a.py", R(&[("a.py", E)])),
        ("wc -l a b", R(&[("a", E), ("b", E)])),
        ("sed -n '240,260p' astropy/x.py", R(&[("astropy/x.py", E)])),
        ("sed 's/a/b/' x", R(&[("x", E)])),
        ("sed -n -e 1p -e 3p x", R(&[("x", E)])),
        ("sed -n '1w out' x", O("sed script")),
        ("awk '{print $1}' f", R(&[("f", E)])),
        ("awk -F: '$3 > 100 {print $1}' /etc/passwd", R(&[("/etc/passwd", E)])),
        ("awk '{print > \"out\"}' f", O("awk program")),
        ("awk 'BEGIN{system(\"rm x\")}'", O("awk program")),
        ("awk -v n=3 'NR<n' f x=1", R(&[("f", E)])),
        ("grep foo a.py", R(&[("a.py", S)])),
        ("grep -rn 'class X' django", R(&[("django", S)])),
        ("grep -r foo", R(&[("", S)])),
        ("grep -e foo -e bar a b", R(&[("a", S), ("b", S)])),
        ("grep -A3 -B 2 foo a", R(&[("a", S)])),
        ("grep -d recurse foo", R(&[("", S)])),
        ("grep foo", R(&[])),
        ("grep --include='*.py' -rl foo src", R(&[("src", S)])),
        (
            "rg foo src",
            R(&[
                ("src", S),
                (".gitignore", E),
                (".ignore", E),
                (".rgignore", E),
                (".agignore", E),
                (".git/info/exclude", E),
            ]),
        ),
        ("rg --pre cat foo", O("more than a read")),
        ("ls", R(&[("", S)])),
        ("ls -la src", R(&[("src", S), ("", S)])),
        ("ls -R", R(&[("", S)])),
        ("ls -lu", O("more than a read")),
        ("ls src/*.py", R(&[("src", S)])),
        ("find . -name '*.py'", R(&[("", S)])),
        ("find src tests -type f -name x", R(&[("src", S), ("tests", S)])),
        ("find", R(&[("", S)])),
        ("find . -mmin -5", O("current time")),
        ("find . -name x -exec grep -l foo {} +", R(&[("", S)])),
        ("find . -ok rm {} ;", O("asks")),
        ("tree -L 2 src", R(&[("src", S)])),
        ("tree -o out.txt", O("more than a read")),
        ("git status", R(&[("", S)])),
        ("git diff HEAD -- src/a.py", R(&[("", S)])),
        ("git log --oneline -5", R(&[("", S)])),
        ("git log --since=2.weeks", O("current time")),
        ("git show HEAD:src/a.py", R(&[("", S)])),
        ("git grep -n foo", R(&[("", S)])),
        ("git ls-files | grep test", R(&[("", S)])),
        ("git -C sub status", R(&[("", S)])),
        ("git -C /elsewhere status", O("outside the workspace")),
        ("git -c core.pager=x log", O("configuration")),
        ("git diff --output=x", O("write files")),
        ("git branch -a", R(&[("", S)])),
        ("git stash list", R(&[("", S)])),
        ("stat -c '%s %n' a", R(&[("a", E)])),
        ("stat a", O("access times")),
        ("file a.bin", R(&[("a.bin", E)])),
        ("diff a b", R(&[("a", S), ("b", S)])),
        ("diff -u a.py b.py > /dev/null", R(&[("a.py", S), ("b.py", S)])),
        ("sort -u a | uniq -c", R(&[("a", E)])),
        ("sort -o a a", O("more than a read")),
        ("uniq a b", O("operands")),
        ("jq .name package.json", R(&[("package.json", E)])),
        ("cat /proc/cpuinfo", O("/proc/cpuinfo")),
        ("head -c 10 /dev/urandom", O("/dev/urandom")),
        ("cat < a.txt", R(&[("a.txt", E)])),
        ("wc -l < /dev/null", R(&[])),
    ]);
}

#[test]
fn pure_commands_read_nothing() {
    table(&[
        ("echo hi", R(&[])),
        ("printf '%s\\n' a b", R(&[])),
        ("true", R(&[])),
        ("pwd", R(&[])),
        ("echo *.py", R(&[("", S)])),
        ("echo $HOME", O("$HOME")),
        ("printf '%(%s)T'", O("current time")),
        ("date", O("not a known")),
        ("basename src/a.py .py", R(&[])),
        ("set -euo pipefail; cat a", R(&[("a", E)])),
        ("[ -f a ] && cat a", R(&[("a", E)])),
        ("test -d src || ls", R(&[("src", E), ("", S)])),
        ("[[ -f a.py && -n x ]] && cat a.py", R(&[("a.py", E)])),
    ]);
}

#[test]
fn writers() {
    table(&[
        ("sed -i 's/a/b/' x.py", W(&["x.py"])),
        ("sed -i.bak -e 's/a/b/' x.py", W(&["x.py", "x.py.bak"])),
        ("sed -i '' 's/a/b/' x.py", W(&["s/a/b/", "x.py"])),
        ("sed --in-place 's/a/b/g' a b", W(&["a", "b"])),
        ("sed -i 's/a/b/w log' x", O("sed script")),
        ("sed -i \"s/$X/b/\" f", O("known only when it runs")),
        ("perl -pi -e 's/a/b/' f", W(&["f"])),
        ("perl -pi.orig -e 's/a/b/' f", W(&["f", "f.orig"])),
        ("perl -0777 -pi -e 's/a\\nb/c/s' f", W(&["f"])),
        ("perl -pi -e 'system(\"rm x\")' f", O("perl program")),
        ("perl x.pl", O("script file")),
        ("perl -ne 'print if /x/' f", R(&[("f", E)])),
        ("echo hi > out.txt", W(&["out.txt"])),
        ("echo hi >> logs/out.txt", W(&["logs/out.txt"])),
        ("cat x > y", W(&["y"])),
        ("cat a.py | tee b.py", W(&["b.py"])),
        ("tee -a log < in", W(&["log"])),
        ("touch a b", W(&["a", "b"])),
        ("mkdir -p src/new", W(&["src/new"])),
        ("cp a.py b.py", W(&["b.py"])),
        ("cp -r src dst/", W(&["dst"])),
        ("cp -t dst a b", W(&["dst"])),
        ("mv a.py b.py", W(&["a.py", "b.py"])),
        ("rm -rf build", W(&["build"])),
        ("rm *.pyc", W(&[""])),
        ("rm src/*.pyc", W(&["src"])),
        ("ln -s ../x y", W(&["/x", "y"])),
        ("ln -s /opt/tool", W(&["/opt/tool", "tool"])),
        ("chmod +x run.sh", W(&["+x", "run.sh"])),
        ("patch -p1 < fix.diff", W(&[""])),
        ("patch a.py fix.diff", W(&["a.py", "a.py.orig", "a.py.rej"])),
        ("patch -d sub -p0 < x", W(&["sub"])),
        ("git add src/a.py", W(&["src/a.py", ".git"])),
        ("git add -A", W(&["", ".git"])),
        ("git commit -m msg", W(&["", ".git"])),
        ("git commit --no-verify -m msg", W(&[".git"])),
        ("git checkout pyproject.toml", W(&["", ".git"])),
        ("git reset --hard", W(&["", ".git"])),
        ("git stash", W(&["", ".git"])),
        ("git apply x.patch", W(&["", ".git"])),
        ("git apply --check x.patch", R(&[("", S), ("x.patch", E)])),
        ("git restore src/a.py", W(&["src/a.py", ".git"])),
        ("git fetch", W(&[".git"])),
        ("find . -name '*.pyc' -delete", W(&[""])),
        ("find build -exec rm {} +", W(&["build"])),
        ("find . -fprint list.txt", W(&["list.txt"])),
        (
            "cat <<'EOF' > reproduce.py\nimport x\nprint($y)\nEOF",
            W(&["reproduce.py"]),
        ),
        ("cat <<EOF > r.py\n$(touch z)\nEOF", W(&["r.py", "z"])),
        ("grep foo a > /dev/null 2>&1", R(&[("a", S)])),
        ("python x.py 2>/dev/null", O("`python` is not")),
        ("echo x &> out", W(&["out"])),
        ("echo x >& out", W(&["out"])),
        ("echo x 2>&1 >&2 3>&-", R(&[])),
        ("echo $X > out", W(&["out"])),
        ("echo x > $OUT", O("known only when it runs")),
        ("rm $F", O("known only when it runs")),
    ]);
}

#[test]
fn structure() {
    table(&[
        ("cat a | grep x | wc -l", R(&[("a", E)])),
        (
            "cat a && cat b || cat c; cat d",
            R(&[("a", E), ("b", E), ("c", E), ("d", E)]),
        ),
        ("(cd src && cat a); cat b", R(&[("src", E), ("src/a", E), ("b", E)])),
        ("{ cd src; } && cat a", R(&[("src", E), ("src/a", E), ("a", E)])),
        ("cd src && cat a", R(&[("src", E), ("src/a", E)])),
        // `cd` may fail: what follows `;` runs in either directory.
        ("cd src; cat a", R(&[("src", E), ("src/a", E), ("a", E)])),
        ("cd src || exit 1; cat a", R(&[("src", E), ("src/a", E), ("a", E)])),
        ("cd /testbed && ls", R(&[("/testbed", S)])),
        ("cd $D && cat a", O("$D")),
        ("cd $D && rm a", O("unknown directory")),
        ("cd - && ls", O("unknown current directory")),
        ("cd .. && cat a", R(&[("/", E), ("/a", E)])),
        ("echo $(cat a)", R(&[("a", E)])),
        ("echo \"x$(cat a | head -1)y\"", R(&[("a", E)])),
        ("cat $(find . -name a)", O("known only when it runs")),
        ("echo $(rm a)", W(&["a"])),
        ("echo $(python x.py)", O("`python` is not")),
        ("echo `cat a`", R(&[("a", E)])),
        ("diff <(sort a) <(sort b)", R(&[("a", E), ("b", E)])),
        ("LANG=C grep x a", R(&[("a", S)])),
        ("FOO=1 cat a", O("`FOO`")),
        ("LD_PRELOAD=x.so cat a", O("LD_PRELOAD")),
        ("X=1; cat a", R(&[("a", E)])),
        ("X=$(cat a); cat b", R(&[("a", E), ("b", E)])),
        ("PATH=/x:$PATH; cat a", O("PATH")),
        ("env LANG=C cat a", R(&[("a", E)])),
        ("env", O("environment")),
        ("timeout 10 cat a", R(&[("a", E)])),
        ("command cat a", R(&[("a", E)])),
        ("command -v python", O("PATH")),
        ("/usr/bin/cat a", R(&[("a", E)])),
        ("./cat a", O("not a known")),
        ("bash -lc 'cat a.py | head'", R(&[("a.py", E)])),
        ("sh -c \"cd src && rm x\"", W(&["src/x"])),
        ("bash script.sh", O("script file")),
        ("if [ -f a ]; then cat a; else cat b; fi", R(&[("a", E), ("b", E)])),
        ("for f in *.py; do wc -l $f; done", O("")),
        ("for f in a b; do echo $f; done", O("$f")),
        ("while true; do cat a; done", R(&[("a", E)])),
        ("case x in a) cat a;; *) cat b;; esac", R(&[("a", E), ("b", E)])),
        ("f() { cat a; }; f", O("function")),
        ("cat a &", O("background")),
        ("time cat a", O("durations")),
        ("(( x = 1 + 2 ))", O("arithmetic")),
        ("! grep x a", R(&[("a", S)])),
        ("xargs cat < list", O("xargs")),
        (
            "cat 'my file.txt' \"other file\" a\\ b",
            R(&[("my file.txt", E), ("other file", E), ("a b", E)]),
        ),
        ("cat src/{a,b}.py", R(&[("src", S)])),
        ("cat '*.py'", R(&[("*.py", E)])),
        ("cat -- -weird", R(&[("-weird", E)])),
        ("cat a # comment > b", R(&[("a", E)])),
        ("cat a\ncat b", R(&[("a", E), ("b", E)])),
        ("grep -r x . 2>&1 | head -50", R(&[("", S)])),
    ]);
}

#[test]
fn cwd_and_root() {
    let config = ShellConfig::default();
    if let Some(home) = std::env::var_os("HOME") {
        let got = classify("cd ~ && ls", None, Path::new(ROOT), &config);
        let want = DepPath::in_workspace(Path::new(ROOT), &home);
        assert_eq!(
            got,
            ShellClass::Read {
                deps: vec![Dep::subtree(want)]
            }
        );
    }
    check("cat a", Some("src"), &config, &R(&[("src/a", E)]));
    check("cat a", Some("/ws/src"), &config, &R(&[("src/a", E)]));
    check("cat ../b", Some("/ws/src"), &config, &R(&[("b", E)]));
    check("cat /ws/src/a", Some("/tmp"), &config, &R(&[("src/a", E)]));
    check("ls", Some("/tmp"), &config, &R(&[("/tmp", S)]));
    check("git status", Some("/tmp"), &config, &O("outside the workspace"));
    // A relative root (a workspace of ".").
    let got = classify("cd sub && cat a", Some("."), Path::new("."), &config);
    assert_eq!(
        got,
        ShellClass::Read {
            deps: vec![Dep::exact(DepPath::new("sub")), Dep::exact(DepPath::new("sub/a"))]
        }
    );
}

#[test]
fn configuration() {
    let config: ShellConfig = toml::from_str(
        r#"
        opaque = ["cat"]
        safe_env = ["RUST_*"]

        [readers."npm run lint"]

        [readers."cargo check"]
        paths = ["src", "Cargo.toml"]
        extra_args = true

        [readers.mytool]
        scope = "exact"
        skip = 1
        no_operand = "stdin"

        [writers."npm run format"]
        paths = ["src"]

        [writers.gen]
        path_options = ["-o"]
        "#,
    )
    .unwrap();
    let rows: &[(&str, Option<&str>, Want)] = &[
        ("cat a", None, O("configured as opaque")),
        ("npm run lint", None, R(&[("", S)])),
        ("npm run lint", Some("/elsewhere"), R(&[("", S), ("/elsewhere", S)])),
        // Not the exact entry: the built-in project command, whose --fix edits.
        (
            "npm run lint -- --fix",
            None,
            O("`npm run lint --fix` is more than a read"),
        ),
        ("npm start", None, O("`npm` is not")),
        ("cargo check --all-targets", None, R(&[("src", S), ("Cargo.toml", S)])),
        ("RUST_LOG=debug cargo check", None, R(&[("src", S), ("Cargo.toml", S)])),
        ("mytool pattern a b", None, R(&[("a", E), ("b", E)])),
        ("npm run format", None, W(&["src"])),
        ("gen -o out.txt in.txt", None, W(&["in.txt", "out.txt"])),
        ("head a", None, R(&[("a", E)])),
    ];
    for (cmd, cwd, want) in rows {
        check(cmd, *cwd, &config, want);
    }
    // Built-ins off: only the configuration's entries.
    let bare = ShellConfig {
        builtins: false,
        ..config.clone()
    };
    check("head a", None, &bare, &O("not a known"));
    // Round trips through JSON and TOML.
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<ShellConfig>(&json).unwrap(), config);
    let text = toml::to_string(&config).unwrap();
    assert_eq!(toml::from_str::<ShellConfig>(&text).unwrap(), config);
    assert!(toml::from_str::<ShellConfig>("[readers.x]\nbogus = 1\n").is_err());
    assert_eq!(toml::from_str::<ShellConfig>("").unwrap(), ShellConfig::default());
}

#[test]
fn argv_form() {
    let config = ShellConfig::default();
    let root = Path::new(ROOT);
    assert_eq!(
        classify_argv(&["sed", "-n", "1,5p", "a.py"], None, root, &config),
        ShellClass::Read {
            deps: vec![Dep::exact(DepPath::new("a.py"))]
        }
    );
    // No shell: `>` is an argument, `$X` is literal text.
    assert_eq!(
        classify_argv(&["cat", ">", "$X"], None, root, &config),
        ShellClass::Read {
            deps: vec![Dep::exact(DepPath::new("$X")), Dep::exact(DepPath::new(">"))]
        }
    );
    assert_eq!(
        classify_argv(&["bash", "-lc", "sed -i 's/a/b/' f"], None, root, &config),
        ShellClass::Write {
            paths: vec![DepPath::new("f")]
        }
    );
    assert!(matches!(
        classify_argv(&["npm", "test"], None, root, &config),
        ShellClass::Project { .. }
    ));
    assert!(matches!(
        classify_argv(&["make", "test"], None, root, &config),
        ShellClass::Opaque { .. }
    ));
}

#[test]
fn bad_input_is_opaque() {
    let config = ShellConfig::default();
    let root = Path::new(ROOT);
    let opaque = |cmd: &str| {
        let got = classify(cmd, None, root, &config);
        assert!(
            matches!(got, ShellClass::Opaque { .. }),
            "{:?}: {got:?}",
            parse::short(cmd)
        );
    };
    opaque("cat 'unterminated");
    opaque("cat \"unterminated");
    opaque("echo $(cat a");
    opaque("cat <<EOF\nno end");
    opaque("if true; then");
    opaque("cat a\0b");
    opaque(&"cat a; ".repeat(200_000));
    opaque(&format!("cat {}", "a".repeat(1 << 20)));
    for n in [40, 1_000, 10_000] {
        opaque(&format!("{}cat a{}", "echo $(".repeat(n), ")".repeat(n)));
        opaque(&format!("{}cat a{}", "(".repeat(n), ")".repeat(n)));
        opaque(&format!("{}cat a;{}", "{ ".repeat(n), "}; ".repeat(n)));
        opaque(&format!("{}cat a{}", "if true; then ".repeat(n), "; fi".repeat(n)));
        opaque(&format!("{}cat a{}", "case x in x) ".repeat(n), ";; esac".repeat(n)));
        opaque(&format!("{}cat a{}", "while true; do ".repeat(n), "; done".repeat(n)));
        opaque(&format!("echo {}x{}", "${a:-".repeat(n), "}".repeat(n)));
        opaque(&format!("echo {}1{}", "$((".repeat(n), "))".repeat(n)));
        opaque(&format!("echo {}x{}", "\"$(echo ".repeat(n), ")\"".repeat(n)));
        opaque(&format!("{}cat a{}", "bash -c \"".repeat(n), "\"".repeat(n)));
    }
    // Long but flat: parsed, and classified normally.
    let long = "cat a | ".repeat(2_000) + "cat b";
    assert_eq!(
        classify(&long, None, root, &config),
        ShellClass::Read {
            deps: vec![Dep::exact(DepPath::new("a")), Dep::exact(DepPath::new("b"))]
        }
    );
    // Nesting just under the limits parses (and does not overflow a test thread's stack).
    let depth = MAX_NESTING - 2;
    let nested = format!("{}cat a{}", "if true; then ".repeat(depth), "; fi".repeat(depth));
    assert!(matches!(
        classify(&nested, None, root, &config),
        ShellClass::Read { .. }
    ));
    let nested = format!("{}cat a{}", "echo $(".repeat(depth), ")".repeat(depth));
    assert!(matches!(
        classify(&nested, None, root, &config),
        ShellClass::Read { .. }
    ));
    let nested = format!("{}cat a{}", "(true; ".repeat(depth), ")".repeat(depth));
    let got = classify(&nested, None, root, &config);
    assert!(matches!(got, ShellClass::Read { .. }), "{got:?}");
    // Binary garbage: many shapes, never a panic.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2_000 {
        let len = (seed % 200) as usize;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let alphabet = b"ab $(){}[]<>|&;'\"`\\\n\t*?~=!#-0EOF";
            bytes.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = classify(&s, None, root, &config);
        let _ = classify(
            &String::from_utf8_lossy(&seed.to_le_bytes().repeat(8)),
            None,
            root,
            &config,
        );
    }
}

/// One parse, two walks: the same answers as classifying in an unknown
/// directory and then from the root, on reads, writes, absolute paths and
/// commands the parser refuses.
#[test]
fn unknown_dir_or_root_agrees_with_the_two_separate_walks() {
    let root = Path::new(ROOT);
    let config = ShellConfig::default();
    for cmd in [
        "cat a.py",
        "cd src && grep -rn TODO .",
        "cat /ws/src/a.py",
        "cd /ws/src && cat a.py",
        "echo x > a.py",
        "python x.py",
        "sed -n 1,5p a.py | head",
        "((((((((((x",
        "",
    ] {
        let (class, reads_from_root) = classify_in_unknown_dir_or_root(cmd, root, &config);
        let unknown = classify_in_unknown_dir(cmd, root, &config);
        assert_eq!(class, unknown, "{cmd:?}");
        let want_reads = matches!(unknown, ShellClass::Opaque { .. })
            && matches!(classify(cmd, None, root, &config), ShellClass::Read { .. });
        assert_eq!(reads_from_root, want_reads, "{cmd:?}");
    }
    // And the case the tool layer relies on: a relative read is opaque without
    // its directory, and a read from the root.
    let (class, reads) = classify_in_unknown_dir_or_root("cat a.py", root, &config);
    assert!(matches!(class, ShellClass::Opaque { .. }) && reads, "{class:?}");
}

#[test]
fn project_commands() {
    let root = Path::new(ROOT);
    let config = ShellConfig::default();
    let project = |cmd: &str| match classify(cmd, None, root, &config) {
        ShellClass::Project { deps, outputs } => Some((deps, outputs)),
        _ => None,
    };
    let (deps, outputs) = project("pytest -q").unwrap();
    assert!(deps.is_empty(), "{deps:?}");
    assert!(outputs.contains(&".pytest_cache".to_string()) && outputs.contains(&"**/__pycache__".to_string()));
    let (deps, _) = project("pytest -q 2>&1 | tail -3 && cat setup.cfg").unwrap();
    assert_eq!(
        deps,
        vec![Dep::exact(DepPath::new("setup.cfg"))],
        "the other reads stay"
    );
    let (deps, outputs) = project("cd /elsewhere && cargo check").unwrap();
    assert_eq!(
        deps,
        vec![Dep::subtree(DepPath::new("/elsewhere"))],
        "a directory outside is read too"
    );
    assert_eq!(outputs, ["target"]);
    let (_, outputs) = project("cargo test && python -m pytest").unwrap();
    assert!(outputs.contains(&"target".to_string()) && outputs.contains(&".pytest_cache".to_string()));
    for opaque in [
        "pytest --lf",
        "pytest -vf",
        "pytest --junitxml=r.xml",
        "cargo clippy --fix",
        "pytest $ARGS",
    ] {
        assert!(
            matches!(classify(opaque, None, root, &config), ShellClass::Opaque { .. }),
            "{opaque}"
        );
    }
    assert!(matches!(
        classify("pytest > log", None, root, &config),
        ShellClass::Write { .. }
    ));
    // Built-ins off: only the configuration's entries; an entry replaces a built-in.
    let off = ShellConfig {
        builtins: false,
        ..ShellConfig::default()
    };
    assert!(matches!(
        classify("pytest", None, root, &off),
        ShellClass::Opaque { .. }
    ));
    let mine: ShellConfig = toml::from_str("[projects.pytest]\noutputs = [\"out\"]\n").unwrap();
    assert!(matches!(classify("pytest", None, root, &mine), ShellClass::Project { outputs, .. } if outputs == ["out"]));
    let exact: ShellConfig = toml::from_str("[projects.\"make check\"]\nextra_args = false\n").unwrap();
    assert!(matches!(
        classify("make check", None, root, &exact),
        ShellClass::Project { .. }
    ));
    assert!(matches!(
        classify("make check V=1", None, root, &exact),
        ShellClass::Opaque { .. }
    ));
}

#[test]
fn jq_options_take_their_arguments() {
    table(&[
        ("jq .a in.json", R(&[("in.json", E)])),
        (
            "jq --rawfile tpl t.txt '.a' in.json",
            R(&[("t.txt", E), ("in.json", E)]),
        ),
        (
            "jq --slurpfile s other.json -r '.a' in.json",
            R(&[("other.json", E), ("in.json", E)]),
        ),
        ("jq --arg n v --argjson j 1 '.a' in.json", R(&[("in.json", E)])),
        (
            "jq -f prog.jq a.json b.json",
            R(&[("prog.jq", E), ("a.json", E), ("b.json", E)]),
        ),
        ("jq -n '$ARGS' --args a.json b.json", R(&[])),
        ("jq -rc .a - < in.json", R(&[("in.json", E)])),
        ("jq now", O("clock")),
        ("jq -n 'now | todate'", O("clock")),
        ("jq '.x + env.HOME' a.json", O("environment")),
        ("jq '$ENV.PATH' a.json", O("environment")),
        ("jq '.known' a.json", R(&[("a.json", E)])),
        ("jq --rawfile x", O("without a file")),
        ("jq --bogus . a.json", O("not an option")),
    ]);
}

#[test]
fn output_that_changes_with_time_is_never_a_read() {
    table(&[
        ("git log --format=%cr -3", O("current time")),
        ("git log --pretty='%h %ar'", O("current time")),
        ("git log --format='%ch'", O("current time")),
        (
            "git for-each-ref --format='%(committerdate:relative)'",
            O("current time"),
        ),
        ("git show HEAD@{1.hour.ago}", O("current time")),
        ("git log main@{yesterday}..main", O("current time")),
        ("git show HEAD@{1}", R(&[("", S)])),
        ("git log @{u}..HEAD", R(&[("", S)])),
        ("git log --format=%H%n%ad", R(&[("", S)])),
        ("sort -R a.txt", O("")),
        ("sort --random-sort a.txt", O("")),
        ("shuf a.txt", O("")),
        ("git grep -O foo", O("pager")),
    ]);
}
