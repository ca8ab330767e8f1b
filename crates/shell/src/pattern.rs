//! Pattern matching for `=`, `case` and `fn` clauses: binds variables into a scope, honours
//! `^pin`, `_`, repeated variables, list tails, map/struct subsets and `"prefix" <> rest`.

use crate::ast::Expr;
use crate::error::ShellError;
use crate::eval::Env;
use etf::Term;
use std::collections::BTreeMap;

/// Matches `value` against `pat`. On success returns the new bindings (to be merged into the
/// scope by the caller); `Ok(None)` means no match; `Err` is a compile-time style error.
pub fn match_pattern(pat: &Expr, value: &Term, env: &Env) -> Result<Option<Env>, ShellError> {
    let mut new = BTreeMap::new();
    Ok(if bind(pat, value, env, &mut new)? {
        Some(new)
    } else {
        None
    })
}

fn bind(pat: &Expr, v: &Term, env: &Env, new: &mut Env) -> Result<bool, ShellError> {
    Ok(match pat {
        Expr::Var(name, _) if name.starts_with('_') && name == "_" => true,
        Expr::Var(name, _) => match new.get(name) {
            Some(prev) => prev == v,
            None => {
                new.insert(name.clone(), v.clone());
                true
            }
        },
        Expr::Pin(name, line) => match env.get(name) {
            Some(p) => p == v,
            None => {
                return Err(ShellError::compile(
                    *line,
                    format!(
                        "undefined variable ^{name}. No variable \"{name}\" has been defined \
                         before the current pattern"
                    ),
                ))
            }
        },
        Expr::Lit(t) => t == v,
        Expr::Tuple(ps) => match v {
            Term::Tuple(vs) if vs.len() == ps.len() => all(ps, vs, env, new)?,
            _ => false,
        },
        Expr::List(ps, tail) => {
            let (items, rest): (&[Term], Term) = match v {
                Term::List(vs) if vs.len() >= ps.len() => {
                    (&vs[..ps.len()], Term::List(vs[ps.len()..].to_vec()))
                }
                Term::ImproperList(vs, t) if vs.len() >= ps.len() && tail.is_some() => {
                    let rest = if vs.len() == ps.len() {
                        (**t).clone()
                    } else {
                        Term::ImproperList(vs[ps.len()..].to_vec(), t.clone())
                    };
                    (&vs[..ps.len()], rest)
                }
                _ => return Ok(false),
            };
            if !all(ps, items, env, new)? {
                return Ok(false);
            }
            match tail {
                Some(t) => bind(t, &rest, env, new)?,
                None => rest.is_nil(),
            }
        }
        Expr::Map(pairs) => map_subset(pairs, v, env, new)?,
        Expr::Struct(name, pairs) => {
            v.map_get(&Term::atom("__struct__")) == Some(name) && map_subset(pairs, v, env, new)?
        }
        Expr::Match(a, b) => bind(a, v, env, new)? && bind(b, v, env, new)?,
        Expr::BinOp("<>", prefix, rest) => {
            let Expr::Lit(Term::Binary(p)) = &**prefix else {
                return Err(invalid(pat));
            };
            match v {
                Term::Binary(b) if b.starts_with(p) => {
                    bind(rest, &Term::Binary(b.slice(p.len()..)), env, new)?
                }
                _ => false,
            }
        }
        _ => return Err(invalid(pat)),
    })
}

fn all(ps: &[Expr], vs: &[Term], env: &Env, new: &mut Env) -> Result<bool, ShellError> {
    for (p, v) in ps.iter().zip(vs) {
        if !bind(p, v, env, new)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn map_subset(
    pairs: &[(Expr, Expr)],
    v: &Term,
    env: &Env,
    new: &mut Env,
) -> Result<bool, ShellError> {
    let Term::Map(_) = v else { return Ok(false) };
    for (k, p) in pairs {
        let key = match k {
            Expr::Lit(t) => t.clone(),
            Expr::Pin(name, _) => match env.get(name) {
                Some(t) => t.clone(),
                None => return Err(invalid(k)),
            },
            _ => return Err(invalid(k)),
        };
        match v.map_get(&key) {
            Some(val) if bind(p, val, env, new)? => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Anything that cannot appear in a pattern (calls, arithmetic, ...).
fn invalid(e: &Expr) -> ShellError {
    let what = match e {
        Expr::Local(n, args, line) => {
            return ShellError::compile(
                *line,
                format!(
                    "cannot find or invoke local {n}/{} inside match",
                    args.len()
                ),
            )
        }
        Expr::Remote(..) | Expr::Dot(..) => "cannot invoke remote function inside match",
        _ => "invalid pattern in match",
    };
    ShellError::compile(1, what)
}
