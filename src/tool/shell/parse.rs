//! The shell parser (`brush-parser`), guarded, and the words it yields.
//!
//! brush-parser's tokenizer and PEG parser recurse once per nesting level
//! (`$(`, `(`, `{`, `if`, `case`, loops): a few hundred levels overflow a 2 MiB
//! thread stack. So before parsing, [`parse_program`] refuses scripts that are
//! too long or nest too deeply, first on the raw text (brackets: it bounds the
//! tokenizer), then on the tokens (compound-command keywords: it bounds the
//! parser). Any panic inside the crate is caught and becomes a refusal too.

use std::panic::{catch_unwind, AssertUnwindSafe};

use brush_parser::ast::Program;
use brush_parser::word::{TildeExpr, WordPiece, WordPieceWithSource};
use brush_parser::{ParserOptions, Token};

use super::{MAX_COMMAND_BYTES, MAX_NESTING};

/// Most adjacent `((` in a command the parser is given (see `parse_program`).
pub(super) const MAX_PARENS: usize = 8;

/// Why a script is opaque.
pub(super) type Reason = String;

fn options() -> ParserOptions {
    ParserOptions {
        // Bash, as agents' shell tools run it; extglob only widens what parses.
        enable_extended_globbing: true,
        posix_mode: false,
        sh_mode: false,
        // Tildes are expanded by the classifier, not the parser.
        tilde_expansion_at_word_start: true,
        tilde_expansion_after_colon: false,
        ..ParserOptions::default()
    }
}

/// Runs `f`, turning a panic into an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Reason> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| format!("the shell parser failed on this {what}"))
}

/// Parses a script, refusing (never overflowing the stack) on scripts longer
/// than [`MAX_COMMAND_BYTES`] or nested deeper than [`MAX_NESTING`].
pub(super) fn parse_program(src: &str) -> Result<Program, Reason> {
    if src.len() > MAX_COMMAND_BYTES {
        return Err(format!(
            "the command is {} bytes long (more than {MAX_COMMAND_BYTES})",
            src.len()
        ));
    }
    if src.contains('\0') {
        return Err("the command contains a NUL byte".into());
    }
    // brush-parser backtracks on every `(` of arithmetic-looking input (`((`), doubling
    // its time per parenthesis (found by the fuzzer: 40 bytes took 16 s). Real
    // commands rarely need many; refuse before parsing.
    // Adjacent `((` open arithmetic candidates; subshells and `$(` nest without them.
    let parens = src.as_bytes().windows(2).filter(|w| w == b"((").count();
    if parens > MAX_PARENS {
        return Err(format!("the command has {parens} `((` (more than {MAX_PARENS})"));
    }
    check_brackets(src)?;
    let opts = options();
    let tokens = guarded("command", || {
        brush_parser::uncached_tokenize_str(src, &opts.tokenizer_options())
    })?
    .map_err(|e| format!("cannot tokenize: {e}"))?;
    check_keywords(&tokens)?;
    guarded("command", || brush_parser::parse_tokens(&tokens, &opts))?.map_err(|e| format!("cannot parse: {e}"))
}

/// Bounds the tokenizer's recursion: the depth of `(`/`{`/`[` nesting, quotes
/// ignored (so quoted brackets count too: a refusal, never an overflow).
fn check_brackets(src: &str) -> Result<(), Reason> {
    let mut depth = 0usize;
    for b in src.bytes() {
        match b {
            b'(' | b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!("the command nests deeper than {MAX_NESTING} levels"));
                }
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Bounds the parser's recursion: nesting of compound commands, counted on
/// tokens (so keywords inside quotes and here-documents do not count).
fn check_keywords(tokens: &[Token]) -> Result<(), Reason> {
    // One counter per kind of pair, so that the stray `)` of a `case` pattern
    // cannot cancel an `if`.
    let mut open = [0usize; 6];
    for t in tokens {
        let (kind, up) = match t {
            Token::Operator(op, _) => match op.as_str() {
                "(" => (0, true),
                ")" => (0, false),
                _ => continue,
            },
            Token::Word(w, _) => match w.as_str() {
                "{" => (1, true),
                "}" => (1, false),
                "if" => (2, true),
                "fi" => (2, false),
                "case" => (3, true),
                "esac" => (3, false),
                "do" => (4, true),
                "done" => (4, false),
                "[[" => (5, true),
                "]]" => (5, false),
                _ => continue,
            },
        };
        if up {
            open[kind] += 1;
            if open.iter().sum::<usize>() > MAX_NESTING {
                return Err(format!("the command nests deeper than {MAX_NESTING} levels"));
            }
        } else {
            open[kind] = open[kind].saturating_sub(1);
        }
    }
    Ok(())
}

/// A word after quote removal, as far as it can be known without running anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Word {
    /// The text, quotes removed; unknown parts (substitutions, parameters)
    /// contribute nothing.
    pub text: String,
    /// Byte offset in `text` of the first unquoted glob or brace-expansion
    /// character: the word may expand to paths below its literal prefix.
    pub glob: Option<usize>,
    /// Starts with an unquoted `~` (the home directory).
    pub tilde: bool,
    /// Has a part whose text is unknown (a substitution, a parameter, an escape
    /// the classifier does not decode).
    pub inexact: bool,
    /// Length of `text` before the first unknown part.
    pub exact_prefix: usize,
    /// Depends on the environment (a parameter or arithmetic expansion): names it.
    pub dynamic: Option<String>,
    /// Command substitutions it runs, as source text.
    pub substitutions: Vec<String>,
    /// A process substitution (`<(cmd)`): a pipe, not a file.
    pub procsub: bool,
}

impl Word {
    /// A word given literally (an argv element).
    pub fn literal(s: &str) -> Word {
        Word {
            text: s.to_string(),
            exact_prefix: s.len(),
            ..Word::default()
        }
    }

    /// Its text is known exactly and depends on nothing.
    pub fn is_exact(&self) -> bool {
        !self.inexact && self.dynamic.is_none()
    }

    /// It is, or may turn out to be, an option (`-x`).
    pub fn may_be_option(&self) -> bool {
        self.text.starts_with('-') || (!self.is_exact() && self.exact_prefix == 0)
    }

    fn unknown(&mut self) {
        if !self.inexact {
            self.inexact = true;
            self.exact_prefix = self.text.len();
        }
    }

    fn push_text(&mut self, s: &str, quoted: bool) {
        if !quoted && self.glob.is_none() {
            if let Some(i) = glob_char(s) {
                self.glob = Some(self.text.len() + i);
            }
        }
        self.text.push_str(s);
        if !self.inexact {
            self.exact_prefix = self.text.len();
        }
    }
}

/// The first character of unquoted text that makes the shell expand it into
/// file names or several words: `*`, `?`, `[`, an extglob `@(`/`!(`/`+(`, or
/// a `{` that opens a brace expansion.
fn glob_char(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'*' | b'?' => return Some(i),
            // A bracket expression needs its `]` (a lone `[` is the test command).
            b'[' if s[i + 1..].contains(']') => return Some(i),
            b'@' | b'!' | b'+' if b.get(i + 1) == Some(&b'(') => return Some(i),
            b'{' => {
                if let Some(close) = s[i..].find('}') {
                    let inner = &s[i + 1..i + close];
                    if inner.contains(',') || inner.contains("..") {
                        return Some(i);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses a word of the AST into a [`Word`].
pub(super) fn lower_word(raw: &str) -> Result<Word, Reason> {
    let pieces = guarded("word", || brush_parser::word::parse(raw, &options()))?
        .map_err(|e| format!("cannot parse the word `{}`: {e}", short(raw)))?;
    let mut w = Word::default();
    lower_pieces(raw, &pieces, false, &mut w)?;
    Ok(w)
}

/// Parses the body of an unquoted here-document (expansions, no quotes, no globs).
pub(super) fn lower_heredoc(raw: &str) -> Result<Word, Reason> {
    let pieces = guarded("here-document", || brush_parser::word::parse_heredoc(raw, &options()))?
        .map_err(|e| format!("cannot parse a here-document: {e}"))?;
    let mut w = Word::default();
    lower_pieces(raw, &pieces, true, &mut w)?;
    Ok(w)
}

fn lower_pieces(raw: &str, pieces: &[WordPieceWithSource], quoted: bool, w: &mut Word) -> Result<(), Reason> {
    for p in pieces {
        let src = raw.get(p.start_index..p.end_index).unwrap_or("");
        match &p.piece {
            WordPiece::Text(s) => w.push_text(s, quoted),
            WordPiece::SingleQuotedText(s) => w.push_text(s, true),
            WordPiece::AnsiCQuotedText(s) => match ansi_c(s) {
                Some(t) => w.push_text(&t, true),
                None => w.unknown(),
            },
            WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                lower_pieces(raw, inner, true, w)?
            }
            WordPiece::TildeExpansion(TildeExpr::Home) if w.text.is_empty() && std::env::var_os("HOME").is_some() => {
                w.tilde = true;
                w.push_text("~", true);
            }
            WordPiece::TildeExpansion(_) => {
                w.unknown();
                w.dynamic.get_or_insert_with(|| "`~`".into());
            }
            WordPiece::ParameterExpansion(_) => {
                if src.get(1..).is_some_and(|s| s.contains("$(") || s.contains('`')) {
                    return Err(format!("`{}` runs a command inside a parameter expansion", short(src)));
                }
                w.unknown();
                w.dynamic.get_or_insert_with(|| format!("`{}`", short(src)));
            }
            WordPiece::ArithmeticExpression(e) => {
                if e.value.contains("$(") || e.value.contains('`') {
                    return Err("a command substitution inside an arithmetic expansion".into());
                }
                w.unknown();
                w.dynamic.get_or_insert_with(|| format!("`{}`", short(src)));
            }
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                w.unknown();
                w.substitutions.push(s.clone());
            }
            WordPiece::EscapeSequence(s) => {
                let ch = s.strip_prefix('\\').unwrap_or(s);
                w.push_text(ch, true);
            }
        }
    }
    Ok(())
}

/// Decodes the common escapes of `$'...'`; `None` for the others.
fn ansi_c(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\x07',
            'b' => '\x08',
            'e' | 'E' => '\x1b',
            'f' => '\x0c',
            'v' => '\x0b',
            c @ ('\\' | '\'' | '"' | '?') => c,
            _ => return None,
        });
    }
    Some(out)
}

/// At most 60 characters of `s`, for messages.
pub(super) fn short(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}
