//! Parsing of the special forms: `case`/`cond`/`fn` clauses (`pats when guard -> body`),
//! `if`/`unless` with `do ... else ... end` or `, do:, else:`, and `&` captures.

use super::{PResult, Parser};
use crate::ast::{Clause, Expr};
use crate::error::{ParseError, SyntaxIssue};
use crate::token::Tok;
use etf::Term;

impl Parser {
    /// `&Mod.fun/2`, `&local/1`, `&1` (a placeholder) or `&(&1 + 1)` (a fn of placeholders).
    pub(super) fn capture(&mut self) -> PResult<Expr> {
        let amp = self.bump();
        let next = self.peek().clone();
        if let (Tok::Int(n), false) = (&next.tok, next.space_before) {
            self.bump();
            return Ok(Expr::Var(format!("&{n}"), next.line));
        }
        self.enter()?;
        let body = self.expr(20);
        self.depth -= 1;
        let body = body?;
        if let Expr::BinOp("/", f, n) = &body {
            if let Expr::Lit(Term::Int(n @ 0..=255)) = **n {
                match &**f {
                    Expr::Remote(m, name, args) if args.is_empty() => {
                        return Ok(Expr::Capture(m.clone(), name.clone(), n as u8))
                    }
                    Expr::Var(name, _) | Expr::Local(name, _, _) => {
                        return Ok(Expr::Capture(
                            Box::new(Expr::atom("Elixir.Kernel")),
                            name.clone(),
                            n as u8,
                        ))
                    }
                    _ => {}
                }
            }
        }
        let mut arity = 0;
        body.walk(&mut |e| {
            if let Expr::Var(v, _) = e {
                if let Some(n) = v.strip_prefix('&').and_then(|n| n.parse::<usize>().ok()) {
                    arity = arity.max(n);
                }
            }
        });
        if arity == 0 {
            return Err(ParseError::Syntax(SyntaxIssue::new(
                amp.line,
                amp.col,
                "invalid args for &, expected one of: &Mod.fun/arity, &fun/arity, or a call using &1, &2...",
            )));
        }
        let patterns = (1..=arity)
            .map(|i| Expr::Var(format!("&{i}"), amp.line))
            .collect();
        Ok(Expr::Fn(vec![Clause {
            patterns,
            guard: None,
            body: vec![body],
        }]))
    }

    /// The `do ... end` (or `, do: x, else: y`) part of `if`/`unless`.
    pub(super) fn if_branches(&mut self, line: u32) -> PResult<(Vec<Expr>, Vec<Expr>)> {
        if self.at_op(",") {
            self.bump();
            self.skip_eol();
            let kw = self.keywords(&[])?;
            let mut then = vec![Expr::atom("nil")];
            let mut other = vec![Expr::atom("nil")];
            if let Expr::List(pairs, _) = kw {
                for p in pairs {
                    if let Expr::Tuple(mut kv) = p {
                        let v = kv.pop();
                        match (kv.pop(), v) {
                            (Some(Expr::Lit(Term::Atom(k))), Some(v)) if k.as_str() == "do" => {
                                then = vec![v]
                            }
                            (Some(Expr::Lit(Term::Atom(k))), Some(v)) if k.as_str() == "else" => {
                                other = vec![v]
                            }
                            _ => {}
                        }
                    }
                }
            }
            return Ok((then, other));
        }
        self.expect_ident("do")?;
        self.open.push(("do", line));
        let then = self.body(&["else", "end"])?;
        let other = if self.at_ident("else") {
            self.bump();
            self.body(&["end"])?
        } else {
            vec![Expr::atom("nil")]
        };
        self.expect_ident("end")?;
        self.open.pop();
        Ok((then, other))
    }

    /// Expressions up to one of the reserved words in `stops` (not consumed).
    pub(super) fn body(&mut self, stops: &[&str]) -> PResult<Vec<Expr>> {
        let mut out = Vec::new();
        self.skip_eol();
        while !stops.iter().any(|s| self.at_ident(s)) {
            if self.peek().tok == Tok::Eof {
                return Err(self.incomplete());
            }
            out.push(self.expr(0)?);
            self.skip_eol();
        }
        if out.is_empty() {
            out.push(Expr::atom("nil"));
        }
        Ok(out)
    }

    /// `do pat -> body ... end` for `case` and `cond`.
    pub(super) fn do_clauses(&mut self, line: u32) -> PResult<Vec<Clause>> {
        self.expect_ident("do")?;
        self.open.push(("do", line));
        self.skip_eol();
        let clauses = self.clauses()?;
        self.expect_ident("end")?;
        self.open.pop();
        Ok(clauses)
    }

    pub(super) fn fn_expr(&mut self, line: u32) -> PResult<Expr> {
        self.open.push(("fn", line));
        self.skip_eol();
        let clauses = self.clauses()?;
        self.expect_ident("end")?;
        self.open.pop();
        Ok(Expr::Fn(clauses))
    }

    /// `p1, p2 when g -> body` clauses up to `end`. A body ends where an expression turns out
    /// to be followed by `->` (or `,`): that expression is the next clause's head.
    pub(super) fn clauses(&mut self) -> PResult<Vec<Clause>> {
        let mut clauses = Vec::new();
        let mut head = self.clause_head(Vec::new())?;
        loop {
            self.skip_eol();
            let mut body = Vec::new();
            let mut next_head = None;
            while !self.at_ident("end") {
                if self.peek().tok == Tok::Eof {
                    return Err(self.incomplete());
                }
                let e = self.expr(0)?;
                if self.at_op("->") || self.at_op(",") {
                    next_head = Some(self.clause_head(vec![e])?);
                    break;
                }
                body.push(e);
                self.skip_eol();
            }
            if body.is_empty() {
                body.push(Expr::atom("nil"));
            }
            let (patterns, guard) = head;
            clauses.push(Clause {
                patterns,
                guard,
                body,
            });
            match next_head {
                Some(h) => head = h,
                None => return Ok(clauses),
            }
        }
    }

    /// Reads the rest of a clause head (more patterns after `,`, then `->`).
    pub(super) fn clause_head(
        &mut self,
        mut pats: Vec<Expr>,
    ) -> PResult<(Vec<Expr>, Option<Expr>)> {
        if pats.is_empty() && !self.at_op("->") {
            pats.push(self.expr(0)?);
        }
        while self.at_op(",") {
            self.bump();
            self.skip_eol();
            pats.push(self.expr(0)?);
        }
        self.expect_op("->")?;
        // A guard parses as `last_pattern when guard`.
        let mut guard = None;
        if let Some(Expr::BinOp("when", _, _)) = pats.last() {
            if let Some(Expr::BinOp(_, p, g)) = pats.pop() {
                pats.push(*p);
                guard = Some(*g);
            }
        }
        Ok((pats, guard))
    }
}
