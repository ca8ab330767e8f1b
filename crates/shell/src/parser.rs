//! The parser: tokens to `Expr`s, a Pratt parser over Elixir's operator table plus the special
//! forms a shell user types (`case`/`if`/`unless`/`cond`/`fn`, no-parens calls, keyword args).
//! Reaching the end of input inside an unfinished construct is `ParseError::Incomplete`.

use crate::ast::{Expr, StrPart};
use crate::error::{ParseError, SyntaxIssue};
use crate::lexer::tokenize_at;
use crate::token::{Part, Tok, Token, RESERVED};
use etf::Term;

mod collections;
mod forms;

/// Deeper nesting than this is refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 100;

type PResult<T> = Result<T, ParseError>;

/// Parses a whole input (one or more expressions separated by newlines or `;`).
pub fn parse(src: &str) -> PResult<Vec<Expr>> {
    parse_at(src, 1, 1, 0)
}

/// Parses input whose first line is numbered `first_line` (iex numbers lines by prompt count).
pub fn parse_from(src: &str, first_line: u32) -> PResult<Vec<Expr>> {
    parse_at(src, first_line, 1, 0)
}

fn parse_at(src: &str, line: u32, col: u32, depth: usize) -> PResult<Vec<Expr>> {
    let toks = tokenize_at(src, line, col)?;
    let mut p = Parser {
        toks,
        pos: 0,
        open: Vec::new(),
        depth,
    };
    p.program()
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Open delimiters (text, line) for "missing terminator" messages.
    open: Vec<(&'static str, u32)>,
    depth: usize,
}

/// Binary operators: (binding power, right associative, canonical name).
fn binop(t: &Tok) -> Option<(u8, bool, &'static str)> {
    let op = match t {
        Tok::Op(o) => *o,
        Tok::Ident(i) => match i.as_str() {
            "and" => "and",
            "or" => "or",
            "in" => "in",
            "when" => "when",
            _ => return None,
        },
        _ => return None,
    };
    Some(match op {
        "when" => (10, true, "when"),
        "=" => (20, true, "="),
        "||" | "or" => (30, false, op),
        "&&" | "and" => (40, false, op),
        "==" | "!=" | "===" | "!==" | "=~" => (50, false, op),
        "<" | ">" | "<=" | ">=" => (60, false, op),
        "|>" => (70, false, op),
        "in" => (80, false, op),
        "++" | "--" | "<>" | ".." => (90, true, op),
        "+" | "-" => (100, false, op),
        "*" | "/" => (110, false, op),
        _ => return None,
    })
}

const UNARY_BP: u8 = 120;

/// Tokens that may start an argument of a no-parens call (`Node.connect :a`, `send pid, msg`).
fn starts_arg(t: &Token) -> bool {
    match &t.tok {
        Tok::Int(_)
        | Tok::Float(_)
        | Tok::Atom(_)
        | Tok::Alias(_)
        | Tok::Str(_)
        | Tok::Charlist(_)
        | Tok::KwKey(_) => true,
        Tok::Ident(i) => !matches!(
            i.as_str(),
            "do" | "end" | "else" | "after" | "catch" | "rescue" | "when" | "and" | "or" | "in"
        ),
        Tok::Op(o) => matches!(*o, "{" | "[" | "%" | "^" | "!"),
        Tok::Eol | Tok::Eof => false,
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.pos.min(last)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + n).min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn skip_eol(&mut self) {
        while self.peek().tok == Tok::Eol {
            self.pos += 1;
        }
    }

    fn at_op(&self, op: &str) -> bool {
        self.peek().tok.is_op(op)
    }

    fn at_ident(&self, name: &str) -> bool {
        self.peek().tok.is_ident(name)
    }

    /// The error for an unexpected token: incomplete at end of input, else a syntax error.
    fn unexpected(&self) -> ParseError {
        let t = self.peek();
        if t.tok == Tok::Eof {
            return self.incomplete();
        }
        let mut issue = match &t.tok {
            Tok::Op(o @ (")" | "]" | "}" | ">>")) => {
                SyntaxIssue::new(t.line, t.col, format!("unexpected token: {o}"))
            }
            Tok::Ident(i)
                if RESERVED.contains(&i.as_str()) && i != "true" && i != "false" && i != "nil" =>
            {
                SyntaxIssue::new(t.line, t.col, format!("unexpected reserved word: {i}"))
            }
            other => SyntaxIssue::new(
                t.line,
                t.col,
                format!("syntax error before: {}", other.describe()),
            ),
        };
        issue.snippet = !matches!(t.tok, Tok::Str(_));
        ParseError::Syntax(issue)
    }

    fn incomplete(&self) -> ParseError {
        let eof = self.toks.last().map(|t| (t.line, t.col)).unwrap_or((1, 1));
        if let Some((open, line)) = self.open.last() {
            let close = match *open {
                "(" => ")",
                "[" => "]",
                "{" | "%{" => "}",
                "<<" => ">>",
                _ => "end",
            };
            return ParseError::Incomplete(SyntaxIssue::new(
                eof.0,
                eof.1,
                format!("missing terminator: {close} (for \"{open}\" starting at line {line})"),
            ));
        }
        // Point at the last real token (the dangling operator), as Elixir does.
        let last = self
            .toks
            .iter()
            .rev()
            .find(|t| !matches!(t.tok, Tok::Eof | Tok::Eol))
            .map(|t| (t.line, t.col))
            .unwrap_or(eof);
        ParseError::Incomplete(SyntaxIssue::new(
            last.0,
            last.1,
            "syntax error: expression is incomplete",
        ))
    }

    fn expect_op(&mut self, op: &str) -> PResult<Token> {
        if self.at_op(op) {
            Ok(self.bump())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_ident(&mut self, name: &str) -> PResult<()> {
        if self.at_ident(name) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek();
            return Err(ParseError::Syntax(SyntaxIssue::new(
                t.line,
                t.col,
                "expression nested too deeply",
            )));
        }
        Ok(())
    }

    fn program(&mut self) -> PResult<Vec<Expr>> {
        let mut out = Vec::new();
        self.skip_eol();
        while self.peek().tok != Tok::Eof {
            out.push(self.expr(0)?);
            match self.peek().tok {
                Tok::Eol => self.skip_eol(),
                Tok::Eof => {}
                _ => return Err(self.unexpected()),
            }
        }
        Ok(out)
    }

    fn expr(&mut self, min_bp: u8) -> PResult<Expr> {
        self.enter()?;
        let r = self.expr_inner(min_bp);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, min_bp: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            // `not in`
            if self.at_ident("not") && self.peek_at(1).tok.is_ident("in") && 80 >= min_bp {
                self.bump();
                self.bump();
                self.skip_eol();
                let rhs = self.expr(81)?;
                lhs = Expr::Unary(
                    "not",
                    Box::new(Expr::BinOp("in", Box::new(lhs), Box::new(rhs))),
                );
                continue;
            }
            let Some((bp, right, op)) = binop(&self.peek().tok) else {
                break;
            };
            if bp < min_bp {
                break;
            }
            let op_tok = self.bump();
            self.skip_eol();
            let rhs = self.expr(if right { bp } else { bp + 1 })?;
            lhs = match op {
                "=" => Expr::Match(Box::new(lhs), Box::new(rhs)),
                "|>" => pipe(lhs, rhs).ok_or_else(|| {
                    ParseError::Syntax(SyntaxIssue::new(
                        op_tok.line,
                        op_tok.col,
                        "the right side of |> must be a function call",
                    ))
                })?,
                _ => Expr::BinOp(op, Box::new(lhs), Box::new(rhs)),
            };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let op = match &t.tok {
            Tok::Op(o @ ("-" | "+" | "!")) => *o,
            Tok::Ident(i) if i == "not" => "not",
            Tok::Op("&") => return self.capture(),
            Tok::Op("^") => {
                self.bump();
                let n = self.bump();
                return match n.tok {
                    Tok::Ident(name) if !RESERVED.contains(&name.as_str()) => {
                        Ok(Expr::Pin(name, n.line))
                    }
                    _ => {
                        self.pos -= 1;
                        Err(self.unexpected())
                    }
                };
            }
            _ => return self.postfix(),
        };
        self.bump();
        self.enter()?;
        let operand = self.expr(UNARY_BP);
        self.depth -= 1;
        let operand = operand?;
        Ok(match (op, operand) {
            ("-", Expr::Lit(Term::Int(i))) => Expr::Lit(Term::from_i128(-(i as i128))),
            ("-", Expr::Lit(Term::Big(b))) => match b.to_i128() {
                Some(v) => Expr::Lit(Term::from_i128(-v)),
                None => Expr::Unary("-", Box::new(Expr::Lit(Term::Big(b)))),
            },
            ("-", Expr::Lit(Term::Float(f))) => Expr::Lit(Term::Float(-f)),
            (op, e) => Expr::Unary(op, Box::new(e)),
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            let t = self.peek().clone();
            if t.tok.is_op(".") {
                let next = self.peek_at(1).clone();
                match next.tok {
                    Tok::Ident(name) => {
                        self.bump();
                        self.bump();
                        let after = self.peek().clone();
                        e = if after.tok.is_op("(") && !after.space_before {
                            let args = self.paren_args()?;
                            Expr::Remote(Box::new(e), name, args)
                        } else if matches!(e, Expr::Lit(Term::Atom(_))) {
                            let args = if after.space_before && starts_arg(&after) {
                                self.bare_args()?
                            } else {
                                Vec::new()
                            };
                            Expr::Remote(Box::new(e), name, args)
                        } else {
                            Expr::Dot(Box::new(e), name)
                        };
                    }
                    Tok::Op("(") => {
                        self.bump();
                        let args = self.paren_args()?;
                        e = Expr::Apply(Box::new(e), args);
                    }
                    // `Kernel.+(1, 2)`: an operator used as a function name.
                    Tok::Op(o) if binop(&next.tok).is_some() && self.peek_at(2).tok.is_op("(") => {
                        self.bump();
                        self.bump();
                        let args = self.paren_args()?;
                        e = Expr::Remote(Box::new(e), o.to_string(), args);
                    }
                    Tok::Eof => {
                        self.bump();
                        return Err(self.incomplete());
                    }
                    _ => {
                        self.bump();
                        return Err(self.unexpected());
                    }
                }
            } else if t.tok.is_op("[") && !t.space_before {
                self.bump();
                self.open.push(("[", t.line));
                self.skip_eol();
                let key = self.expr(0)?;
                self.skip_eol();
                self.expect_op("]")?;
                self.open.pop();
                e = Expr::Access(Box::new(e), Box::new(key));
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.bump();
        match t.tok {
            Tok::Int(i) => Ok(Expr::Lit(Term::from_i128(i))),
            Tok::Float(f) => Ok(Expr::Lit(Term::Float(f))),
            Tok::Atom(a) => Ok(Expr::atom(&a)),
            Tok::Alias(first) => {
                let mut name = if first == "Elixir" {
                    first
                } else {
                    format!("Elixir.{first}")
                };
                while self.at_op(".") {
                    match &self.peek_at(1).tok {
                        Tok::Alias(seg) => {
                            name.push('.');
                            name.push_str(seg);
                            self.bump();
                            self.bump();
                        }
                        _ => break,
                    }
                }
                Ok(Expr::atom(&name))
            }
            Tok::Str(parts) => Ok(match self.parts(parts)? {
                Ok(s) => Expr::Lit(Term::from(s)),
                Err(parts) => Expr::Str(parts),
            }),
            Tok::Charlist(parts) => Ok(match self.parts(parts)? {
                Ok(s) => Expr::Lit(Term::charlist(&s)),
                Err(parts) => Expr::Charlist(parts),
            }),
            Tok::Ident(ref name) => self.ident(name.clone(), &t),
            Tok::Op("(") => {
                self.open.push(("(", t.line));
                self.skip_eol();
                let mut body = Vec::new();
                while !self.at_op(")") {
                    body.push(self.expr(0)?);
                    if !self.at_op(")") {
                        if self.peek().tok != Tok::Eol {
                            return Err(self.unexpected());
                        }
                        self.skip_eol();
                    }
                }
                self.bump();
                self.open.pop();
                Ok(match body.len() {
                    0 => Expr::atom("nil"),
                    1 => body.remove(0),
                    _ => Expr::Block(body),
                })
            }
            Tok::Op("{") => {
                self.open.push(("{", t.line));
                let items = self.seq("}")?;
                self.open.pop();
                Ok(Expr::Tuple(items))
            }
            Tok::Op("[") => self.list(t.line),
            Tok::Op("<<") => {
                self.open.push(("<<", t.line));
                let items = self.seq(">>")?;
                self.open.pop();
                Ok(Expr::Bin(items))
            }
            Tok::Op("%") => self.map_or_struct(&t),
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }

    /// `Ok(text)` for a literal without interpolation, else the parsed parts.
    fn parts(&mut self, parts: Vec<Part>) -> PResult<Result<String, Vec<StrPart>>> {
        if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
            let mut s = String::new();
            for p in parts {
                if let Part::Lit(l) = p {
                    s.push_str(&l);
                }
            }
            return Ok(Ok(s));
        }
        let mut out = Vec::new();
        for p in parts {
            match p {
                Part::Lit(l) => out.push(StrPart::Lit(l)),
                Part::Interp { src, line, col } => {
                    let mut exprs = parse_at(&src, line, col, self.depth + 1)?;
                    let e = match exprs.len() {
                        0 => Expr::atom("nil"),
                        1 => exprs.remove(0),
                        _ => Expr::Block(exprs),
                    };
                    out.push(StrPart::Expr(e));
                }
            }
        }
        Ok(Err(out))
    }

    fn ident(&mut self, name: String, t: &Token) -> PResult<Expr> {
        match name.as_str() {
            "true" | "false" | "nil" => return Ok(Expr::atom(&name)),
            "fn" => return self.fn_expr(t.line),
            "case" => {
                let subject = self.expr(0)?;
                let clauses = self.do_clauses(t.line)?;
                return Ok(Expr::Case(Box::new(subject), clauses));
            }
            "cond" => {
                let clauses = self.do_clauses(t.line)?;
                return Ok(Expr::Cond(clauses));
            }
            "if" | "unless" => {
                let cond = self.expr(0)?;
                let (then, other) = self.if_branches(t.line)?;
                return Ok(if name == "if" {
                    Expr::If(Box::new(cond), then, other)
                } else {
                    Expr::If(Box::new(cond), other, then)
                });
            }
            n if RESERVED.contains(&n) => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
            _ => {}
        }
        let next = self.peek().clone();
        if next.tok.is_op("(") && !next.space_before {
            let args = self.paren_args()?;
            return Ok(Expr::Local(name, args, t.line));
        }
        if next.space_before && starts_arg(&next) {
            let args = self.bare_args()?;
            return Ok(Expr::Local(name, args, t.line));
        }
        Ok(Expr::Var(name, t.line))
    }

    /// `(a, b, k: v)` with the opening paren next.
    fn paren_args(&mut self) -> PResult<Vec<Expr>> {
        let t = self.bump();
        self.open.push(("(", t.line));
        let args = self.seq(")")?;
        self.open.pop();
        Ok(args)
    }

    /// Arguments of a no-parens call: up to the end of the line (or a `do`, or a closer).
    fn bare_args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        loop {
            if let Tok::KwKey(_) = self.peek().tok {
                args.push(self.keywords(&[])?);
                return Ok(args);
            }
            args.push(self.expr(11)?);
            if !self.at_op(",") {
                return Ok(args);
            }
            self.bump();
            self.skip_eol();
        }
    }
}

/// `lhs |> f(args)` is `f(lhs, args)`.
fn pipe(lhs: Expr, rhs: Expr) -> Option<Expr> {
    Some(match rhs {
        Expr::Local(n, mut args, line) => {
            args.insert(0, lhs);
            Expr::Local(n, args, line)
        }
        Expr::Var(n, line) => Expr::Local(n, vec![lhs], line),
        Expr::Remote(m, f, mut args) => {
            args.insert(0, lhs);
            Expr::Remote(m, f, args)
        }
        Expr::Dot(m, f) => Expr::Remote(m, f, vec![lhs]),
        Expr::Apply(f, mut args) => {
            args.insert(0, lhs);
            Expr::Apply(f, args)
        }
        _ => return None,
    })
}
