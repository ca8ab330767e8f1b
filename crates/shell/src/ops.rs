//! Operators on values: arithmetic (delegated to builtins::arith), comparisons in Erlang term
//! order, `<>`, `++`, `--`, `in`, `=~`, and the unary operators. Short-circuit operators
//! (`and`, `or`, `&&`, `||`) live in the evaluator because they control evaluation.

use crate::builtins;
use crate::error::ShellError;
use crate::eval::{bool_term, truthy, EResult};
use etf::Term;
use std::cmp::Ordering;

/// Strict binary operators on values.
pub fn binary(op: &str, l: Term, r: Term) -> EResult {
    Ok(match op {
        "+" | "-" | "*" | "/" => return builtins::arith(op, &l, &r),
        "==" => bool_term(l.erl_eq(&r)),
        "!=" => bool_term(!l.erl_eq(&r)),
        "===" => bool_term(l == r),
        "!==" => bool_term(l != r),
        "<" => bool_term(l.erl_cmp(&r) == Ordering::Less),
        ">" => bool_term(l.erl_cmp(&r) == Ordering::Greater),
        "<=" => bool_term(l.erl_cmp(&r) != Ordering::Greater),
        ">=" => bool_term(l.erl_cmp(&r) != Ordering::Less),
        "<>" => match (&l, &r) {
            (Term::Binary(a), Term::Binary(b)) => {
                let mut v = a.to_vec();
                v.extend_from_slice(b);
                Term::binary(&v)
            }
            (Term::Binary(_), bad) | (bad, _) => {
                return Err(ShellError::exception(
                    "ArgumentError",
                    format!(
                        "expected binary argument in <> operator but got: {}",
                        bad.elixir()
                    ),
                ))
            }
        },
        "++" => {
            match l {
                Term::List(mut a) => match r {
                    Term::List(b) => {
                        a.extend(b);
                        Term::List(a)
                    }
                    Term::ImproperList(b, t) => {
                        a.extend(b);
                        Term::ImproperList(a, t)
                    }
                    other if a.is_empty() => other,
                    other => Term::ImproperList(a, Box::new(other)),
                },
                l => {
                    return Err(ShellError::exception("ArgumentError", "argument error")
                        .at(format!(":erlang.++({}, {})", l.elixir(), r.elixir())))
                }
            }
        }
        "--" => {
            match (l, r) {
                (Term::List(mut a), Term::List(b)) => {
                    for x in b {
                        if let Some(i) = a.iter().position(|y| *y == x) {
                            a.remove(i);
                        }
                    }
                    Term::List(a)
                }
                (l, r) => {
                    return Err(ShellError::exception("ArgumentError", "argument error")
                        .at(format!(":erlang.--({}, {})", l.elixir(), r.elixir())))
                }
            }
        }
        "in" => match &r {
            Term::List(v) => bool_term(v.iter().any(|x| x.erl_eq(&l))),
            Term::Map(m) => bool_term(
                m.iter()
                    .any(|(k, v)| Term::Tuple(vec![k.clone(), v.clone()]).erl_eq(&l)),
            ),
            _ => {
                return Err(ShellError::exception(
                    "Protocol.UndefinedError",
                    format!(
                        "protocol Enumerable not implemented for {} of type {}",
                        r.elixir(),
                        builtins::type_name(&r)
                    ),
                ))
            }
        },
        "=~" => match (&l, &r) {
            (Term::Binary(a), Term::Binary(b)) => {
                bool_term(b.is_empty() || a.windows(b.len()).any(|w| w == &b[..]))
            }
            _ => {
                return Err(ShellError::exception(
                    "FunctionClauseError",
                    "no function clause matching in Kernel.=~/2",
                ))
            }
        },
        _ => return Err(ShellError::compile(1, format!("unsupported operator {op}"))),
    })
}

pub fn unary(op: &str, v: Term) -> EResult {
    match op {
        "-" => builtins::arith("-", &Term::Int(0), &v).map_err(|_| ShellError::arith("-", &[&v])),
        "+" if v.is_number() => Ok(v),
        "+" => Err(ShellError::arith("+", &[&v])),
        "!" => Ok(bool_term(!truthy(&v))),
        _ => match v.as_atom().map(|a| a.as_str()) {
            Some("true") => Ok(Term::from(false)),
            Some("false") => Ok(Term::from(true)),
            _ => Err(ShellError::exception("ArgumentError", "argument error")
                .at(format!(":erlang.not({})", v.elixir()))),
        },
    }
}
