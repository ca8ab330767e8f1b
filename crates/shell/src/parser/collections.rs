//! Parsing of collection literals and argument lists: `(args)`, `{...}`, `[...]` with keyword
//! entries and `| tail`, and `%{...}` / `%Struct{...}` / `%{map | k: v}`.

use super::{PResult, Parser};
use crate::ast::Expr;
use crate::token::{Tok, Token};

impl Parser {
    /// Comma-separated expressions up to `close` (consumed); trailing keywords become one list.
    pub(super) fn seq(&mut self, close: &str) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        self.skip_eol();
        while !self.at_op(close) {
            if let Tok::KwKey(_) = self.peek().tok {
                items.push(self.keywords(&[close])?);
                self.skip_eol();
                break;
            }
            items.push(self.expr(0)?);
            self.skip_eol();
            if self.at_op(",") {
                self.bump();
                self.skip_eol();
            } else {
                break;
            }
        }
        self.expect_op(close)?;
        Ok(items)
    }

    /// `k: v, k2: v2` as a keyword list expression.
    pub(super) fn keywords(&mut self, closers: &[&str]) -> PResult<Expr> {
        let mut pairs = Vec::new();
        loop {
            let key = match self.peek().tok.clone() {
                Tok::KwKey(k) => k,
                _ => return Err(self.unexpected()),
            };
            self.bump();
            self.skip_eol();
            let v = self.expr(11)?;
            pairs.push(Expr::Tuple(vec![Expr::atom(&key), v]));
            let save = self.pos;
            self.skip_eol();
            if self.at_op(",") {
                self.bump();
                self.skip_eol();
                if closers.iter().any(|c| self.at_op(c)) {
                    break;
                }
            } else {
                if closers.is_empty() {
                    self.pos = save;
                }
                break;
            }
        }
        Ok(Expr::List(pairs, None))
    }

    pub(super) fn list(&mut self, line: u32) -> PResult<Expr> {
        self.open.push(("[", line));
        let mut items = Vec::new();
        let mut tail = None;
        self.skip_eol();
        while !self.at_op("]") {
            if let Tok::KwKey(_) = self.peek().tok {
                if let Expr::List(pairs, _) = self.keywords(&["]"])? {
                    items.extend(pairs);
                }
                self.skip_eol();
                break;
            }
            items.push(self.expr(13)?);
            self.skip_eol();
            if self.at_op("|") {
                self.bump();
                self.skip_eol();
                tail = Some(Box::new(self.expr(13)?));
                self.skip_eol();
                break;
            }
            if self.at_op(",") {
                self.bump();
                self.skip_eol();
            } else {
                break;
            }
        }
        self.expect_op("]")?;
        self.open.pop();
        Ok(Expr::List(items, tail))
    }

    pub(super) fn map_or_struct(&mut self, pct: &Token) -> PResult<Expr> {
        let name = if let Tok::Alias(_) = self.peek().tok {
            match self.primary()? {
                Expr::Lit(t) => Some(t),
                _ => None,
            }
        } else {
            None
        };
        let open = self.peek().clone();
        if !open.tok.is_op("{") {
            return Err(self.unexpected());
        }
        self.bump();
        self.open.push(("{", pct.line));
        self.skip_eol();
        let mut base = None;
        let mut pairs = Vec::new();
        if !self.at_op("}") && !matches!(self.peek().tok, Tok::KwKey(_)) {
            let first = self.expr(13)?;
            self.skip_eol();
            if self.at_op("|") {
                self.bump();
                self.skip_eol();
                base = Some(first);
            } else {
                self.expect_op("=>")?;
                self.skip_eol();
                let v = self.expr(13)?;
                pairs.push((first, v));
                self.skip_eol();
                if self.at_op(",") {
                    self.bump();
                    self.skip_eol();
                } else if !self.at_op("}") {
                    return Err(self.unexpected());
                }
            }
        }
        while !self.at_op("}") {
            if let Tok::KwKey(_) = self.peek().tok {
                if let Expr::List(kws, _) = self.keywords(&["}"])? {
                    for kv in kws {
                        if let Expr::Tuple(mut kv) = kv {
                            let v = kv.pop();
                            let k = kv.pop();
                            if let (Some(k), Some(v)) = (k, v) {
                                pairs.push((k, v));
                            }
                        }
                    }
                }
                self.skip_eol();
                break;
            }
            let k = self.expr(13)?;
            self.skip_eol();
            self.expect_op("=>")?;
            self.skip_eol();
            let v = self.expr(13)?;
            pairs.push((k, v));
            self.skip_eol();
            if self.at_op(",") {
                self.bump();
                self.skip_eol();
            } else {
                break;
            }
        }
        self.expect_op("}")?;
        self.open.pop();
        Ok(match (name, base) {
            (Some(n), None) => Expr::Struct(n, pairs),
            // `%Client{c | name: "x"}`: an update that also checks the struct name at runtime is
            // more than a shell needs; treat it as a plain map update.
            (_, Some(b)) => Expr::MapUpdate(Box::new(b), pairs),
            (None, None) => Expr::Map(pairs),
        })
    }
}
