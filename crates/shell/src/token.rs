//! Tokens produced by the lexer: what they are, where they start (1-based line and column, as
//! Elixir reports them) and whether whitespace preceded them (no-parens calls depend on it).

/// A piece of a string or charlist literal: literal text or the source of a `#{...}` part,
/// kept as text with its position so the parser can parse it and report accurate columns.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Lit(String),
    Interp { src: String, line: u32, col: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// Integer literal (`1_000`, `0x1F`, `0b101`, `0o7`); larger than i128 is a syntax error.
    Int(i128),
    Float(f64),
    /// `:ok`, `:"quoted atom"`, `:+`.
    Atom(String),
    /// `Client`, `Elixir`: one alias segment.
    Alias(String),
    /// Identifiers and reserved words (`do`, `end`, `and`, `true`, ...), with a trailing `?`/`!`.
    Ident(String),
    Str(Vec<Part>),
    Charlist(Vec<Part>),
    /// A keyword key: `name:` or `"quoted":`.
    KwKey(String),
    /// Operators and punctuation.
    Op(&'static str),
    /// A newline or `;` (expression separator).
    Eol,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
    pub col: u32,
    pub space_before: bool,
}

/// Reserved words that never act as variables or local calls.
pub const RESERVED: &[&str] = &[
    "do", "end", "fn", "else", "when", "and", "or", "not", "in", "true", "false", "nil", "after",
    "catch", "rescue",
];

impl Tok {
    /// How Elixir names the token in "syntax error before: X".
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(i) => format!("\"{i}\""),
            Tok::Float(f) => format!("\"{f}\""),
            Tok::Atom(a) => a.clone(),
            Tok::Alias(a) => format!("'{a}'"),
            Tok::Ident(i) => i.clone(),
            Tok::Str(parts) => match parts.as_slice() {
                [Part::Lit(s)] => format!("\"{s}\""),
                _ => "\"\"".to_string(),
            },
            Tok::Charlist(_) => "''".to_string(),
            Tok::KwKey(k) => format!("'{k}:'"),
            Tok::Op(o) => format!("'{o}'"),
            Tok::Eol => "';'".to_string(),
            Tok::Eof => "end of input".to_string(),
        }
    }

    pub fn is_op(&self, op: &str) -> bool {
        matches!(self, Tok::Op(o) if *o == op)
    }

    pub fn is_ident(&self, name: &str) -> bool {
        matches!(self, Tok::Ident(i) if i == name)
    }
}
