//! Conservative checks of the little programs given to `sed`, `awk` and
//! `perl`: "safe" means the program cannot write a file, run a command, read
//! a file it names, or depend on the time, the environment or randomness. A
//! program the checks do not understand is unsafe.

/// True if a `sed` script only edits the stream (no `w`, `W`, `e`, `r`, `R`
/// commands, no `w`/`e` flags of `s`).
pub(super) fn sed_is_safe(script: &str) -> bool {
    let b: Vec<char> = script.chars().collect();
    let mut i = 0;
    let n = b.len();
    let skip_blank = |i: &mut usize| {
        while *i < n && (b[*i].is_whitespace() || b[*i] == ';') {
            *i += 1;
        }
    };
    // Skips a delimited part (`/regex/`), honouring `\` escapes; false if unterminated.
    let delimited = |i: &mut usize, delim: char| -> bool {
        while *i < n {
            let c = b[*i];
            *i += 1;
            if c == '\\' {
                *i += 1;
            } else if c == delim {
                return true;
            } else if c == '\n' && delim != '\n' {
                return false;
            }
        }
        false
    };
    let to_line_end = |i: &mut usize| {
        while *i < n && b[*i] != '\n' {
            if b[*i] == '\\' {
                *i += 1;
            }
            *i += 1;
        }
    };
    loop {
        skip_blank(&mut i);
        if i >= n {
            return true;
        }
        // Addresses: `12`, `$`, `/re/`, `\cREc`, `first~step`, `addr,addr`, `addr,+N`.
        for _ in 0..2 {
            if i < n && (b[i].is_ascii_digit() || b[i] == '$') {
                while i < n && (b[i].is_ascii_digit() || b[i] == '$' || b[i] == '~') {
                    i += 1;
                }
            } else if i < n && b[i] == '/' {
                i += 1;
                if !delimited(&mut i, '/') {
                    return false;
                }
                while i < n && (b[i] == 'I' || b[i] == 'M') {
                    i += 1;
                }
            } else if i + 1 < n && b[i] == '\\' {
                let d = b[i + 1];
                i += 2;
                if !delimited(&mut i, d) {
                    return false;
                }
            }
            if i < n && b[i] == ',' {
                i += 1;
                if i < n && (b[i] == '+' || b[i] == '~') {
                    i += 1;
                }
                continue;
            }
            break;
        }
        while i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '!') {
            i += 1;
        }
        if i >= n {
            return false;
        }
        let c = b[i];
        i += 1;
        match c {
            '{' | '}' => {}
            '#' | ':' => to_line_end(&mut i),
            'b' | 't' | 'T' => {
                while i < n && b[i] != ';' && b[i] != '\n' && b[i] != '}' {
                    i += 1;
                }
            }
            'a' | 'i' | 'c' => to_line_end(&mut i),
            'p' | 'P' | 'd' | 'D' | 'n' | 'N' | 'g' | 'G' | 'h' | 'H' | 'x' | '=' | 'z' | 'F' => {}
            'q' | 'Q' | 'l' | 'L' => {
                while i < n && (b[i].is_ascii_digit() || b[i] == ' ') {
                    i += 1;
                }
            }
            's' | 'y' => {
                if i >= n || b[i] == '\n' || b[i] == '\\' {
                    return false;
                }
                let d = b[i];
                i += 1;
                if !delimited(&mut i, d) || !delimited(&mut i, d) {
                    return false;
                }
                if c == 's' {
                    while i < n && !matches!(b[i], ';' | '\n' | '}' | ' ' | '\t') {
                        if !matches!(b[i], 'g' | 'p' | 'i' | 'I' | 'm' | 'M' | '0'..='9') {
                            return false; // `w file`, `e`, or unknown
                        }
                        i += 1;
                    }
                }
            }
            _ => return false, // `w`, `W`, `r`, `R`, `e`, `v`, or unknown
        }
    }
}

/// Identifiers in `s` (`[A-Za-z_][A-Za-z0-9_]*`).
fn identifiers(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// `s` with the contents of its `"..."` string literals removed.
fn without_strings(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                _ => {}
            }
        } else {
            if c == '"' {
                in_str = true;
            }
            out.push(c);
        }
    }
    out
}

/// True if an `awk` program cannot write files, run commands, read files it
/// names, or depend on the time, the environment or randomness: no `system`,
/// `getline`, pipes, `print > file`, `srand`/`rand`, `systime`/`strftime`,
/// `ENVIRON`/`PROCINFO`.
pub(super) fn awk_is_safe(program: &str) -> bool {
    const DENY: &[&str] = &[
        "system", "getline", "srand", "rand", "systime", "strftime", "mktime", "ENVIRON", "PROCINFO", "close", "fflush",
    ];
    let code = without_strings(program);
    if identifiers(&code).any(|id| DENY.contains(&id)) {
        return false;
    }
    // A pipe (`print | "cmd"`, `"cmd" | getline`); `||` is a logical or.
    let bytes = code.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'|' && bytes.get(i + 1) != Some(&b'|') && (i == 0 || bytes[i - 1] != b'|') {
            return false;
        }
    }
    // `print ... > file`: a `>` after `print`/`printf` in one statement.
    for stmt in code.split([';', '{', '}', '\n']) {
        if let Some(at) = stmt.find("print") {
            let rest = &stmt[at..];
            let rb = rest.as_bytes();
            if rb
                .iter()
                .enumerate()
                .any(|(i, &c)| c == b'>' && rb.get(i + 1) != Some(&b'='))
            {
                return false;
            }
        }
    }
    true
}

/// True if a `perl -e` program cannot open, write, remove or rename files, run
/// commands, or depend on the time, the environment or randomness (beyond
/// reading its operands and printing, which `-n`/`-p`/`-i` do).
pub(super) fn perl_is_safe(program: &str) -> bool {
    const DENY: &[&str] = &[
        "system",
        "exec",
        "qx",
        "open",
        "sysopen",
        "opendir",
        "unlink",
        "rename",
        "mkdir",
        "rmdir",
        "chmod",
        "chown",
        "chdir",
        "link",
        "symlink",
        "truncate",
        "utime",
        "eval",
        "require",
        "do",
        "use",
        "no",
        "fork",
        "kill",
        "glob",
        "readpipe",
        "syscall",
        "dbmopen",
        "time",
        "localtime",
        "gmtime",
        "rand",
        "srand",
        "sleep",
        "ENV",
        "select",
        "socket",
        "pipe",
        "write",
        "syswrite",
        "format",
        "BEGIN",
        "END",
        "INC",
    ];
    if program.contains('`') {
        return false;
    }
    if identifiers(program).any(|id| DENY.contains(&id)) {
        return false;
    }
    // `<*.c>`: a file glob.
    let mut rest = program;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        if let Some(end) = after.find('>') {
            let inner = &after[..end];
            if !inner.contains(char::is_whitespace) && (inner.contains('*') || inner.contains('?')) {
                return false;
            }
        }
        rest = after;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sed_scripts() {
        for ok in [
            "1,10p",
            "s/a/b/g",
            "s|a/b|c|2",
            "/foo/d; s/x/y/",
            "$!N;P;D",
            r"s/a\/b/c/",
            "240,260p",
            "/^### T/,/^### S/{ /^### T$/b; /^### S$/b; d }",
            "1~2p",
            "/x/a\\\nappended",
            "y/abc/xyz/",
            "10q",
        ] {
            assert!(sed_is_safe(ok), "{ok}");
        }
        for bad in [
            "w out",
            "s/a/b/w out",
            "s/a/b/e",
            "1r other",
            "/x/W f",
            "e date",
            "s/a/b",
            "k",
            "1,5!w out",
        ] {
            assert!(!sed_is_safe(bad), "{bad}");
        }
    }

    #[test]
    fn awk_programs() {
        for ok in [
            "{print $1}",
            "$3 > 100 {print $1}",
            "NR>=5 && NR<=10",
            "{ if ($1 > 5) print $2 }",
            r#"BEGIN{FS="|"} {print $2}"#,
            "/a/ || /b/",
            "{s+=$1} END {print s}",
        ] {
            assert!(awk_is_safe(ok), "{ok}");
        }
        for bad in [
            r#"{print > "out"}"#,
            r#"{print $1 >> "out"}"#,
            r#"{system("rm x")}"#,
            r#"{print | "sort"}"#,
            r#"{"date" | getline d}"#,
            "BEGIN{srand(); print rand()}",
            "{print ENVIRON[\"HOME\"]}",
        ] {
            assert!(!awk_is_safe(bad), "{bad}");
        }
    }

    #[test]
    fn perl_programs() {
        for ok in ["s/a/b/g", "print if /x/", "s/(\\d+)/$1+1/e", "$_ = uc"] {
            assert!(perl_is_safe(ok), "{ok}");
        }
        for bad in [
            "system('rm x')",
            "open(F, '>x')",
            "`rm x`",
            "unlink 'a'",
            "print $ENV{HOME}",
            "print <*.c>",
            "s/x/qx(date)/e",
        ] {
            assert!(!perl_is_safe(bad), "{bad}");
        }
    }
}
