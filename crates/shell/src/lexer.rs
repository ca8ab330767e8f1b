//! The lexer: Elixir source text to tokens. Total: any input gives tokens or a `ParseError`
//! (unterminated strings are `Incomplete`, so the REPL can ask for the next line).

use crate::error::{ParseError, SyntaxIssue};
use crate::token::{Part, Tok, Token};

/// Multi-character operators first so the longest match wins.
const OPERATORS: &[&str] = &[
    "===", "!==", "...", "<<<", ">>>", "|||", "&&&", "==", "!=", "<=", ">=", "&&", "||", "<>",
    "++", "--", "|>", "->", "=>", "::", "..", "<-", "\\\\", "=~", "**", "<<", ">>", "+", "-", "*",
    "/", "=", "<", ">", "!", "^", "|", "&", ".", ",", "(", ")", "[", "]", "{", "}", "%", "@",
];

/// Operators that can follow `:` to form an atom (`:+`, `:==`); the longest match wins.
const ATOM_OPERATORS: &[&str] = &[
    "===", "!==", "<<<", ">>>", "|||", "&&&", "~~~", "^^^", "+++", "---", "...", "..//", "<|>",
    "<<~", "~>>", "<~>", "<<>>", "%{}", "==", "!=", "<=", ">=", "&&", "||", "<>", "++", "--", "|>",
    "=~", "**", "..", "->", "=>", "::", "<-", "\\\\", "{}", "<~", "~>", "+", "-", "*", "/", "<",
    ">", "!", "^", "&", "|", ".", "%", "@", "=",
];

pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    tokenize_at(src, 1, 1)
}

/// Tokenizes `src` as if it started at `line`:`col` (used for `#{...}` interpolations).
pub fn tokenize_at(src: &str, line: u32, col: u32) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        chars: src.chars().collect(),
        pos: 0,
        line,
        col,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    col: u32,
    out: Vec<Token>,
}

fn ident_start(c: char) -> bool {
    c == '_' || c.is_lowercase() || (c.is_alphabetic() && !c.is_uppercase())
}

fn ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer {
    fn peek(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.peek(i) == Some(c))
    }

    fn syntax(&self, line: u32, col: u32, msg: impl Into<String>) -> ParseError {
        ParseError::Syntax(SyntaxIssue::new(line, col, msg))
    }

    fn push(&mut self, tok: Tok, line: u32, col: u32, space_before: bool) {
        self.out.push(Token {
            tok,
            line,
            col,
            space_before,
        });
    }

    fn run(&mut self) -> Result<(), ParseError> {
        let mut space = true;
        while let Some(c) = self.peek(0) {
            let (line, col) = (self.line, self.col);
            match c {
                ' ' | '\t' | '\r' => {
                    self.bump();
                    space = true;
                    continue;
                }
                '\\' if self.peek(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                    space = true;
                    continue;
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                    continue;
                }
                '\n' | ';' => {
                    self.bump();
                    self.push(Tok::Eol, line, col, space);
                    space = true;
                    continue;
                }
                _ => {}
            }
            let tok = if c.is_ascii_digit() {
                self.number()?
            } else if c == '?' && self.peek(1).is_some() {
                self.bump();
                let ch = self.bump().unwrap_or('?');
                let ch = if ch == '\\' {
                    let e = self.bump().unwrap_or('\\');
                    escape_char(e).unwrap_or(e)
                } else {
                    ch
                };
                Tok::Int(ch as i128)
            } else if c == ':' && self.peek(1) != Some(':') {
                self.atom(line, col)?
            } else if c == '"' {
                self.bump();
                let parts = self.quoted('"', line, "string")?;
                self.maybe_kw_key(parts, Tok::Str)
            } else if c == '\'' {
                self.bump();
                let parts = self.quoted('\'', line, "charlist")?;
                self.maybe_kw_key(parts, Tok::Charlist)
            } else if let Some(key) = self.kw_key_ahead() {
                Tok::KwKey(key)
            } else if ident_start(c) || c.is_uppercase() {
                let mut name = String::new();
                while let Some(c) = self.peek(0).filter(|c| ident_char(*c)) {
                    name.push(c);
                    self.bump();
                }
                if let Some(q) = self.peek(0).filter(|c| *c == '?' || *c == '!') {
                    if !c.is_uppercase() {
                        name.push(q);
                        self.bump();
                    }
                }
                if self.peek(0) == Some(':') && self.peek(1) != Some(':') {
                    self.bump();
                    Tok::KwKey(name)
                } else if c.is_uppercase() {
                    Tok::Alias(name)
                } else {
                    Tok::Ident(name)
                }
            } else if let Some(op) = OPERATORS.iter().find(|op| self.starts_with(op)) {
                for _ in 0..op.chars().count() {
                    self.bump();
                }
                Tok::Op(op)
            } else {
                return Err(self.syntax(line, col, format!("unexpected token: \"{c}\"")));
            };
            self.push(tok, line, col, space);
            space = false;
        }
        let (line, col) = (self.line, self.col);
        self.push(Tok::Eof, line, col, space);
        Ok(())
    }

    /// `name:` (a keyword key) at the cursor, consumed; keys may contain `@` (`[a@b: 1]`),
    /// which identifiers may not.
    fn kw_key_ahead(&mut self) -> Option<String> {
        let first = self.peek(0)?;
        if !(ident_start(first) || first.is_uppercase()) {
            return None;
        }
        let mut n = 0;
        while self.peek(n).is_some_and(|c| ident_char(c) || c == '@') {
            n += 1;
        }
        if matches!(self.peek(n), Some('?' | '!')) {
            n += 1;
        }
        if self.peek(n) != Some(':') || self.peek(n + 1) == Some(':') {
            return None;
        }
        let key: String = (0..n).filter_map(|i| self.peek(i)).collect();
        for _ in 0..=n {
            self.bump();
        }
        Some(key)
    }

    /// A quoted literal directly followed by `:` is a keyword key (`"hello world": 1`).
    fn maybe_kw_key(&mut self, parts: Vec<Part>, make: fn(Vec<Part>) -> Tok) -> Tok {
        if self.peek(0) == Some(':') && self.peek(1) != Some(':') {
            if let [Part::Lit(s)] = parts.as_slice() {
                let s = s.clone();
                self.bump();
                return Tok::KwKey(s);
            }
            if parts.is_empty() {
                self.bump();
                return Tok::KwKey(String::new());
            }
        }
        make(parts)
    }

    fn number(&mut self) -> Result<Tok, ParseError> {
        let (line, col) = (self.line, self.col);
        let radix = match (self.peek(0), self.peek(1)) {
            (Some('0'), Some('x')) => 16,
            (Some('0'), Some('b')) => 2,
            (Some('0'), Some('o')) => 8,
            _ => 10,
        };
        let mut text = String::new();
        if radix != 10 {
            self.bump();
            self.bump();
        }
        while let Some(c) = self.peek(0) {
            if c.is_digit(radix) {
                text.push(c);
            } else if c != '_' || !self.peek(1).is_some_and(|d| d.is_digit(radix)) {
                break;
            }
            self.bump();
        }
        let is_float = radix == 10
            && self.peek(0) == Some('.')
            && self.peek(1).is_some_and(|c| c.is_ascii_digit());
        if !is_float {
            return i128::from_str_radix(&text, radix)
                .map(Tok::Int)
                .map_err(|_| self.syntax(line, col, "integer literal too large for ferl"));
        }
        text.push('.');
        self.bump();
        while let Some(c) = self.peek(0) {
            if c.is_ascii_digit() {
                text.push(c);
            } else if c != '_' {
                break;
            }
            self.bump();
        }
        if self.peek(0) == Some('e') {
            let sign = matches!(self.peek(1), Some('+' | '-'));
            let digit_at = if sign { 2 } else { 1 };
            if self.peek(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                text.push('e');
                self.bump();
                if sign {
                    text.push(self.bump().unwrap_or('+'));
                }
                while let Some(c) = self.peek(0).filter(|c| c.is_ascii_digit()) {
                    text.push(c);
                    self.bump();
                }
            }
        }
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Tok::Float)
            .ok_or_else(|| self.syntax(line, col, format!("invalid float number {text}")))
    }

    fn atom(&mut self, line: u32, col: u32) -> Result<Tok, ParseError> {
        self.bump(); // ':'
        match self.peek(0) {
            Some('"') => {
                self.bump();
                let parts = self.quoted('"', line, "atom")?;
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Lit(l) => s.push_str(&l),
                        // Interpolated atoms are rare at a prompt; refuse rather than guess.
                        Part::Interp { line, col, .. } => {
                            return Err(self.syntax(
                                line,
                                col,
                                "interpolation in atoms is not supported",
                            ))
                        }
                    }
                }
                Ok(Tok::Atom(s))
            }
            Some(c) if ident_start(c) || c.is_uppercase() => {
                let mut name = String::new();
                while let Some(c) = self.peek(0).filter(|c| ident_char(*c) || *c == '@') {
                    name.push(c);
                    self.bump();
                }
                if let Some(q) = self.peek(0).filter(|c| *c == '?' || *c == '!') {
                    name.push(q);
                    self.bump();
                }
                Ok(Tok::Atom(name))
            }
            _ => match ATOM_OPERATORS
                .iter()
                .filter(|op| self.starts_with(op))
                .max_by_key(|op| op.len())
            {
                Some(op) => {
                    for _ in 0..op.chars().count() {
                        self.bump();
                    }
                    Ok(Tok::Atom(op.to_string()))
                }
                None => Err(self.syntax(line, col, "unexpected token: \":\"")),
            },
        }
    }

    /// The body of a quoted literal after its opening quote, up to and including the close.
    fn quoted(
        &mut self,
        close: char,
        start_line: u32,
        what: &str,
    ) -> Result<Vec<Part>, ParseError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(ParseError::Incomplete(SyntaxIssue::new(
                    self.line,
                    self.col,
                    format!(
                        "missing terminator: {close} (for {what} starting at line {start_line})"
                    ),
                )));
            };
            match c {
                c if c == close => break,
                '\\' => {
                    let Some(e) = self.bump() else { continue };
                    match e {
                        '\n' => {}
                        'x' => lit.push(self.hex_escape(2)),
                        'u' => {
                            if self.peek(0) == Some('{') {
                                self.bump();
                                let mut h = String::new();
                                while let Some(d) = self.peek(0).filter(|d| d.is_ascii_hexdigit()) {
                                    h.push(d);
                                    self.bump();
                                }
                                if self.peek(0) == Some('}') {
                                    self.bump();
                                }
                                lit.push(hex_char(&h));
                            } else {
                                lit.push(self.hex_escape(4));
                            }
                        }
                        e => lit.push(escape_char(e).unwrap_or(e)),
                    }
                }
                '#' if self.peek(0) == Some('{') => {
                    self.bump();
                    let (line, col) = (self.line, self.col);
                    let src = self.interpolation(start_line, what, close)?;
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Interp { src, line, col });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(parts)
    }

    fn hex_escape(&mut self, n: usize) -> char {
        let mut h = String::new();
        for _ in 0..n {
            match self.peek(0).filter(|d| d.is_ascii_hexdigit()) {
                Some(d) => {
                    h.push(d);
                    self.bump();
                }
                None => break,
            }
        }
        hex_char(&h)
    }

    /// The source inside `#{ ... }`, balancing braces and skipping nested strings.
    fn interpolation(
        &mut self,
        start_line: u32,
        what: &str,
        close: char,
    ) -> Result<String, ParseError> {
        let mut depth = 0usize;
        let mut src = String::new();
        let mut in_str: Option<char> = None;
        loop {
            let Some(c) = self.bump() else {
                return Err(ParseError::Incomplete(SyntaxIssue::new(
                    self.line,
                    self.col,
                    format!(
                        "missing terminator: {close} (for {what} starting at line {start_line})"
                    ),
                )));
            };
            match (in_str, c) {
                (Some(_), '\\') => {
                    src.push(c);
                    if let Some(n) = self.bump() {
                        src.push(n);
                    }
                    continue;
                }
                (Some(q), c) if c == q => in_str = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => in_str = Some(c),
                (None, '{') => depth += 1,
                (None, '}') if depth == 0 => return Ok(src),
                (None, '}') => depth -= 1,
                _ => {}
            }
            src.push(c);
        }
    }
}

fn hex_char(h: &str) -> char {
    u32::from_str_radix(h, 16)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}')
}

fn escape_char(e: char) -> Option<char> {
    Some(match e {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        's' => ' ',
        'e' => '\u{1b}',
        'a' => '\u{07}',
        'b' => '\u{08}',
        'f' => '\u{0c}',
        'v' => '\u{0b}',
        'd' => '\u{7f}',
        '0' => '\0',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("1_000 0x1F 0b101 0o17 ?a"),
            vec![
                Tok::Int(1000),
                Tok::Int(31),
                Tok::Int(5),
                Tok::Int(15),
                Tok::Int(97),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("1.5 2.0e3 1e")[..2],
            [Tok::Float(1.5), Tok::Float(2000.0)]
        );
        assert_eq!(toks("1..3")[..3], [Tok::Int(1), Tok::Op(".."), Tok::Int(3)]);
    }

    #[test]
    fn atoms_aliases_keys() {
        assert_eq!(
            toks(r#":ok :"a b" :+ Client a: "x y": ok? :erlang"#),
            vec![
                Tok::Atom("ok".into()),
                Tok::Atom("a b".into()),
                Tok::Atom("+".into()),
                Tok::Alias("Client".into()),
                Tok::KwKey("a".into()),
                Tok::KwKey("x y".into()),
                Tok::Ident("ok?".into()),
                Tok::Atom("erlang".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn strings_and_interpolation() {
        let t = tokenize(r#""a\n#{x + 1}b""#).unwrap();
        assert_eq!(
            t[0].tok,
            Tok::Str(vec![
                Part::Lit("a\n".into()),
                Part::Interp {
                    src: "x + 1".into(),
                    line: 1,
                    col: 7
                },
                Part::Lit("b".into()),
            ])
        );
        assert_eq!(toks("'ab'")[0], Tok::Charlist(vec![Part::Lit("ab".into())]));
        assert_eq!(
            toks(r#""\u{1F600}\x41""#)[0],
            Tok::Str(vec![Part::Lit("\u{1F600}A".into())])
        );
    }

    #[test]
    fn positions_and_spaces() {
        let t = tokenize("f(x)\n  y").unwrap();
        assert_eq!((t[0].line, t[0].col, t[0].space_before), (1, 1, true));
        assert_eq!((t[1].col, t[1].space_before), (2, false));
        assert_eq!(t[4].tok, Tok::Eol);
        assert_eq!((t[5].line, t[5].col), (2, 3));
    }

    #[test]
    fn unterminated_string_is_incomplete() {
        let e = tokenize("\"abc").unwrap_err();
        assert_eq!(
            e,
            ParseError::Incomplete(SyntaxIssue::new(
                1,
                5,
                "missing terminator: \" (for string starting at line 1)"
            ))
        );
        assert!(matches!(tokenize("\"#{1"), Err(ParseError::Incomplete(_))));
    }
}
