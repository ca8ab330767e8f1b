//! The expression tree the parser builds and the evaluator walks. Literals are already terms;
//! positions are kept where an error message needs them (undefined variables and functions).

use etf::Term;

/// A piece of an interpolated string/charlist.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Integers, floats, atoms (aliases included) and plain strings.
    Lit(Term),
    /// A string with `#{}` parts.
    Str(Vec<StrPart>),
    /// A charlist, possibly interpolated.
    Charlist(Vec<StrPart>),
    /// A variable (or a zero-arity local call, if unbound: Elixir 1.14 semantics). Line kept.
    Var(String, u32),
    /// `^name` in a pattern.
    Pin(String, u32),
    Tuple(Vec<Expr>),
    /// `[a, b | tail]`.
    List(Vec<Expr>, Option<Box<Expr>>),
    Map(Vec<(Expr, Expr)>),
    /// `<<1, 2, "abc">>`: bytes and binaries only (no size/type modifiers).
    Bin(Vec<Expr>),
    /// `%{map | k: v}`.
    MapUpdate(Box<Expr>, Vec<(Expr, Expr)>),
    /// `%Alias{k: v}`: the module atom and the fields.
    Struct(Term, Vec<(Expr, Expr)>),
    /// `pattern = expr`.
    Match(Box<Expr>, Box<Expr>),
    BinOp(&'static str, Box<Expr>, Box<Expr>),
    /// `-x`, `+x`, `!x`, `not x`.
    Unary(&'static str, Box<Expr>),
    /// `name(args)` or `name args`; the line is for CompileError messages.
    Local(String, Vec<Expr>, u32),
    /// `Mod.fun(args)` where the module is any expression (`:rpc`, `Client`, a variable).
    Remote(Box<Expr>, String, Vec<Expr>),
    /// `expr.name` without parens: map field, or a zero-arity call when `expr` is an atom.
    Dot(Box<Expr>, String),
    /// `expr[key]`.
    Access(Box<Expr>, Box<Expr>),
    /// `fun.(args)`.
    Apply(Box<Expr>, Vec<Expr>),
    Case(Box<Expr>, Vec<Clause>),
    Cond(Vec<Clause>),
    If(Box<Expr>, Vec<Expr>, Vec<Expr>),
    Fn(Vec<Clause>),
    /// `&Mod.fun/arity` (module is any expression): evaluates to an external fun.
    Capture(Box<Expr>, String, u8),
    /// `(a; b)` or a do-block body.
    Block(Vec<Expr>),
}

/// `patterns when guard -> body` (case/fn clauses; cond clauses use one "pattern" as condition).
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub patterns: Vec<Expr>,
    pub guard: Option<Expr>,
    pub body: Vec<Expr>,
}

impl Expr {
    pub fn atom(name: &str) -> Expr {
        Expr::Lit(Term::atom(name))
    }

    /// Calls `f` on this expression and every expression inside it (pre-order).
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        let clauses = |cs: &[Clause], f: &mut dyn FnMut(&Expr)| {
            for c in cs {
                c.patterns
                    .iter()
                    .chain(c.guard.iter())
                    .chain(c.body.iter())
                    .for_each(|e| e.walk(f));
            }
        };
        match self {
            Expr::Lit(_) | Expr::Var(..) | Expr::Pin(..) => {}
            Expr::Str(parts) | Expr::Charlist(parts) => {
                for p in parts {
                    if let StrPart::Expr(e) = p {
                        e.walk(f);
                    }
                }
            }
            Expr::Tuple(v) | Expr::Bin(v) | Expr::Block(v) => v.iter().for_each(|e| e.walk(f)),
            Expr::List(v, tail) => v.iter().chain(tail.as_deref()).for_each(|e| e.walk(f)),
            Expr::Map(pairs) | Expr::Struct(_, pairs) => pairs.iter().for_each(|(k, v)| {
                k.walk(f);
                v.walk(f);
            }),
            Expr::MapUpdate(base, pairs) => {
                base.walk(f);
                pairs.iter().for_each(|(k, v)| {
                    k.walk(f);
                    v.walk(f);
                })
            }
            Expr::Match(a, b) | Expr::BinOp(_, a, b) | Expr::Access(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Unary(_, a) | Expr::Dot(a, _) | Expr::Capture(a, _, _) => a.walk(f),
            Expr::Local(_, args, _) => args.iter().for_each(|e| e.walk(f)),
            Expr::Remote(m, _, args) | Expr::Apply(m, args) => {
                m.walk(f);
                args.iter().for_each(|e| e.walk(f));
            }
            Expr::Case(subject, cs) => {
                subject.walk(f);
                clauses(cs, f);
            }
            Expr::Cond(cs) | Expr::Fn(cs) => clauses(cs, f),
            Expr::If(c, a, b) => {
                c.walk(f);
                a.iter().chain(b.iter()).for_each(|e| e.walk(f));
            }
        }
    }
}
