//! Kernel functions the shell evaluates itself because they are pure (`length`, `elem`, ...)
//! or shell-specific (`send`, `self`, `flush`, `IO.puts`). Everything else goes to the Runtime.

use crate::error::ShellError;
use crate::eval::{bool_term, EResult, Interp};
use crate::runtime::Runtime;
use etf::{Atom, Term};

/// Local (imported) functions known to the shell, by name and arity.
const LOCALS: &[(&str, usize)] = &[
    ("self", 0),
    ("send", 2),
    ("flush", 0),
    ("node", 0),
    ("node", 1),
    ("make_ref", 0),
    ("length", 1),
    ("hd", 1),
    ("tl", 1),
    ("elem", 2),
    ("put_elem", 3),
    ("tuple_size", 1),
    ("map_size", 1),
    ("byte_size", 1),
    ("abs", 1),
    ("div", 2),
    ("rem", 2),
    ("max", 2),
    ("min", 2),
    ("inspect", 1),
    ("to_string", 1),
    ("exit", 1),
    ("throw", 1),
    ("raise", 1),
    ("raise", 2),
    ("is_atom", 1),
    ("is_binary", 1),
    ("is_list", 1),
    ("is_tuple", 1),
    ("is_map", 1),
    ("is_integer", 1),
    ("is_float", 1),
    ("is_number", 1),
    ("is_pid", 1),
    ("is_reference", 1),
    ("is_boolean", 1),
    ("is_nil", 1),
    ("is_function", 1),
    ("round", 1),
    ("trunc", 1),
    ("apply", 3),
    ("apply", 2),
    ("elem", 2),
    ("is_port", 1),
];

pub fn is_local(name: &str, arity: usize) -> bool {
    LOCALS.contains(&(name, arity))
}

/// A function name as it appears in `Mod.fun/1` messages (quoted if not an identifier).
pub fn fun_name_text(f: &str) -> String {
    let plain = f
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_alphabetic())
        && f.trim_end_matches(['?', '!'])
            .chars()
            .all(|c| c == '_' || c.is_alphanumeric());
    if plain {
        f.to_string()
    } else {
        format!("{:?}", f)
    }
}

/// The Elixir type name used in protocol errors.
pub fn type_name(t: &Term) -> &'static str {
    match t {
        Term::Atom(_) => "Atom",
        Term::Int(_) | Term::Big(_) => "Integer",
        Term::Float(_) => "Float",
        Term::Binary(_) => "BitString",
        Term::BitBinary { .. } => "BitString",
        Term::Tuple(_) => "Tuple",
        Term::List(_) | Term::ImproperList(..) => "List",
        Term::Map(_) => "Map",
        Term::Pid(_) => "PID",
        Term::Ref(_) => "Reference",
        Term::Port(_) => "Port",
        Term::Export(_) | Term::Fun(_) => "Function",
        Term::Local(_) => "Any",
    }
}

/// Insert or replace `k` (exact match) in a map's pairs.
pub fn map_put(m: &mut Vec<(Term, Term)>, k: Term, v: Term) {
    match m.iter_mut().find(|(mk, _)| *mk == k) {
        Some(slot) => slot.1 = v,
        None => m.push((k, v)),
    }
}

/// `String.Chars.to_string/1` (used by interpolation and `to_string/1`).
pub fn to_string(t: &Term) -> Result<String, ShellError> {
    Ok(match t {
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        Term::Atom(a) if a.as_str() == "nil" => String::new(),
        Term::Atom(a) => a
            .as_str()
            .strip_prefix("Elixir.")
            .unwrap_or(a.as_str())
            .to_string(),
        Term::Int(_) | Term::Big(_) | Term::Float(_) => t.elixir().to_string(),
        Term::List(v) => {
            let mut s = String::new();
            for e in v {
                match e {
                    Term::Int(c) => s.push(char::from_u32(*c as u32).unwrap_or('\u{fffd}')),
                    other => s.push_str(&to_string(other)?),
                }
            }
            s
        }
        _ => {
            return Err(ShellError::exception(
                "Protocol.UndefinedError",
                format!(
                    "protocol String.Chars not implemented for {} of type {}",
                    t.elixir(),
                    type_name(t)
                ),
            ))
        }
    })
}

pub(crate) fn int_of(t: &Term) -> Option<i128> {
    match t {
        Term::Int(i) => Some(*i as i128),
        Term::Big(b) => b.to_i128(),
        _ => None,
    }
}

fn float_of(t: &Term) -> Option<f64> {
    match t {
        Term::Float(f) => Some(*f),
        Term::Big(b) => Some(b.to_f64()),
        Term::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// `+ - * /` with Erlang's rules: integers stay exact (up to 128 bits here), `/` is float.
pub fn arith(op: &str, a: &Term, b: &Term) -> EResult {
    let bad = || ShellError::arith(op, &[a, b]);
    if !a.is_number() || !b.is_number() {
        return Err(bad());
    }
    if op != "/" {
        if let (Some(x), Some(y)) = (int_of(a), int_of(b)) {
            let r = match op {
                "+" => x.checked_add(y),
                "-" => x.checked_sub(y),
                _ => x.checked_mul(y),
            };
            return r.map(Term::from_i128).ok_or_else(|| {
                ShellError::exception(
                    "SystemLimitError",
                    "integer overflow beyond 128 bits (ferl shell limit)",
                )
            });
        }
    }
    let (x, y) = (float_of(a).ok_or_else(bad)?, float_of(b).ok_or_else(bad)?);
    let r = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        _ if y == 0.0 => return Err(bad()),
        _ => x / y,
    };
    if r.is_finite() {
        Ok(Term::Float(r))
    } else {
        Err(bad())
    }
}

/// `container[key]` (Access): maps, keyword lists and nil.
pub fn access(v: &Term, k: &Term) -> EResult {
    match v {
        Term::Map(_) => Ok(v.map_get(k).cloned().unwrap_or(Term::atom("nil"))),
        Term::Atom(a) if a.as_str() == "nil" => Ok(Term::atom("nil")),
        Term::List(items) => Ok(items
            .iter()
            .find_map(|e| match e {
                Term::Tuple(p) if p.len() == 2 && p[0] == *k => Some(p[1].clone()),
                _ => None,
            })
            .unwrap_or(Term::atom("nil"))),
        _ => Err(ShellError::exception(
            "UndefinedFunctionError",
            format!(
                "function {}.fetch/2 is undefined (module {} does not implement Access)",
                type_name(v),
                type_name(v)
            ),
        )),
    }
}

fn bif_arg(call: &str, args: &[&Term], pos: usize, reason: &str) -> ShellError {
    let shown: Vec<String> = args.iter().map(|a| a.elixir().to_string()).collect();
    ShellError::bad_argument(pos, reason).at(format!(":erlang.{call}({})", shown.join(", ")))
}

pub(crate) fn nil() -> Term {
    Term::atom("nil")
}

pub(crate) fn str_arg(t: &Term, m: &str, f: &str, arity: usize) -> Result<String, ShellError> {
    t.as_str().map(str::to_string).ok_or_else(|| {
        ShellError::exception(
            "FunctionClauseError",
            format!("no function clause matching in {m}.{f}/{arity}"),
        )
    })
}

/// Local calls (`self()`, `length(x)`, ...). The caller checked `is_local` first.
pub fn local<R: Runtime>(it: &mut Interp<R>, name: &str, args: Vec<Term>) -> EResult {
    let a = &args;
    Ok(match (name, a.as_slice()) {
        ("self", []) => it.runtime.self_pid(),
        ("send", [dest, msg]) => {
            let ok = matches!(dest, Term::Pid(_) | Term::Port(_) | Term::Atom(_))
                || matches!(dest, Term::Tuple(t) if t.len() == 2 && matches!(t[0], Term::Atom(_)) && matches!(t[1], Term::Atom(_)));
            if !ok {
                return Err(ShellError::invalid_destination(dest, msg));
            }
            it.runtime.send(dest, msg.clone())?
        }
        ("flush", []) => {
            for m in it.runtime.flush() {
                it.output.push_str(&format!("{}\n", m.elixir()));
            }
            Term::atom("ok")
        }
        ("node", []) => it
            .runtime
            .call(Atom::new("erlang"), Atom::new("node"), args)?,
        ("node", [_]) => it
            .runtime
            .call(Atom::new("erlang"), Atom::new("node"), args)?,
        ("make_ref", []) => it
            .runtime
            .call(Atom::new("erlang"), Atom::new("make_ref"), args)?,
        ("length", [l]) => match l {
            Term::List(v) => Term::from(v.len()),
            _ => return Err(bif_arg("length", &[l], 1, "not a list")),
        },
        ("hd", [l]) => match l {
            Term::List(v) if !v.is_empty() => v[0].clone(),
            Term::ImproperList(v, _) if !v.is_empty() => v[0].clone(),
            _ => return Err(bif_arg("hd", &[l], 1, "not a nonempty list")),
        },
        ("tl", [l]) => match l {
            Term::List(v) if !v.is_empty() => Term::List(v[1..].to_vec()),
            Term::ImproperList(v, t) if v.len() == 1 => (**t).clone(),
            Term::ImproperList(v, t) if !v.is_empty() => {
                Term::ImproperList(v[1..].to_vec(), t.clone())
            }
            _ => return Err(bif_arg("tl", &[l], 1, "not a nonempty list")),
        },
        ("elem", [t, i]) => match (t, int_of(i)) {
            (Term::Tuple(v), Some(n)) if n >= 0 && (n as usize) < v.len() => v[n as usize].clone(),
            (Term::Tuple(_), Some(_)) => {
                // Kernel.elem/2 calls :erlang.element/2 with a 1-based index.
                let idx = Term::from_i128(int_of(i).unwrap_or(0) + 1);
                return Err(bif_arg("element", &[&idx, t], 1, "out of range"));
            }
            _ => return Err(ShellError::exception("ArgumentError", "argument error")),
        },
        ("put_elem", [t, i, v]) => match (t, int_of(i)) {
            (Term::Tuple(items), Some(n)) if n >= 0 && (n as usize) < items.len() => {
                let mut items = items.clone();
                items[n as usize] = v.clone();
                Term::Tuple(items)
            }
            _ => return Err(ShellError::exception("ArgumentError", "argument error")),
        },
        ("tuple_size", [t]) => match t {
            Term::Tuple(v) => Term::from(v.len()),
            _ => return Err(bif_arg("tuple_size", &[t], 1, "not a tuple")),
        },
        ("map_size", [m]) => match m {
            Term::Map(v) => Term::from(v.len()),
            _ => return Err(bif_arg("map_size", &[m], 1, "not a map")),
        },
        ("byte_size", [b]) => match b {
            Term::Binary(v) => Term::from(v.len()),
            _ => return Err(bif_arg("byte_size", &[b], 1, "not a bitstring")),
        },
        ("abs", [n]) => match n {
            Term::Float(f) => Term::Float(f.abs()),
            _ => match int_of(n).and_then(i128::checked_abs) {
                Some(i) => Term::from_i128(i),
                None => return Err(bif_arg("abs", &[n], 1, "not a number")),
            },
        },
        ("div", [x, y]) | ("rem", [x, y]) => {
            // checked_*: zero divisors and i128::MIN / -1 are errors, not panics.
            let r = match (int_of(x), int_of(y)) {
                (Some(p), Some(q)) if name == "div" => p.checked_div(q),
                (Some(p), Some(q)) => p.checked_rem(q),
                _ => None,
            };
            match r {
                Some(v) => Term::from_i128(v),
                None => return Err(ShellError::arith(name, &[x, y])),
            }
        }
        ("max", [x, y]) => {
            if x.erl_cmp(y).is_lt() {
                y.clone()
            } else {
                x.clone()
            }
        }
        ("min", [x, y]) => {
            if y.erl_cmp(x).is_lt() {
                y.clone()
            } else {
                x.clone()
            }
        }
        ("round", [n]) | ("trunc", [n]) => match n {
            Term::Float(f) => {
                let r = if name == "round" {
                    f.round()
                } else {
                    f.trunc()
                };
                if r.abs() < 1.0e38 {
                    Term::from_i128(r as i128)
                } else {
                    return Err(ShellError::exception("ArgumentError", "argument error"));
                }
            }
            n if n.is_number() => n.clone(),
            _ => return Err(bif_arg(name, &[n], 1, "not a number")),
        },
        ("inspect", [v]) => Term::from(v.elixir().to_string()),
        ("to_string", [v]) => Term::from(to_string(v)?),
        ("exit", [r]) => return Err(ShellError::Exit(r.clone())),
        ("throw", [v]) => return Err(ShellError::Throw(v.clone())),
        ("raise", [msg]) => return Err(raise(msg, None)),
        ("raise", [m, msg]) => return Err(raise(m, Some(msg))),
        ("apply", [m, f, args]) => {
            let (Term::Atom(f), Term::List(args)) = (f, args) else {
                return Err(ShellError::exception("ArgumentError", "argument error"));
            };
            return it.call_remote(m.clone(), f.as_str(), args.clone());
        }
        ("apply", [f, args]) => {
            let Term::List(args) = args else {
                return Err(ShellError::exception("ArgumentError", "argument error"));
            };
            return it.apply(f, args.clone());
        }
        (g, [v]) if g.starts_with("is_") => bool_term(match g {
            "is_atom" => matches!(v, Term::Atom(_)),
            "is_binary" => matches!(v, Term::Binary(_)),
            "is_list" => matches!(v, Term::List(_) | Term::ImproperList(..)),
            "is_tuple" => matches!(v, Term::Tuple(_)),
            "is_map" => matches!(v, Term::Map(_)),
            "is_integer" => matches!(v, Term::Int(_) | Term::Big(_)),
            "is_float" => matches!(v, Term::Float(_)),
            "is_number" => v.is_number(),
            "is_pid" => matches!(v, Term::Pid(_)),
            "is_port" => matches!(v, Term::Port(_)),
            "is_reference" => matches!(v, Term::Ref(_)),
            "is_boolean" => v.is_atom("true") || v.is_atom("false"),
            "is_nil" => v.is_atom("nil"),
            "is_function" => matches!(v, Term::Export(_) | Term::Fun(_)),
            _ => false,
        }),
        _ => {
            return Err(ShellError::compile(
                1,
                format!(
                    "undefined function {name}/{} (there is no such import)",
                    a.len()
                ),
            ))
        }
    })
}

/// `raise "msg"`, `raise ArgumentError`, `raise ArgumentError, "msg"`.
fn raise(what: &Term, msg: Option<&Term>) -> ShellError {
    let text = |t: &Term| to_string(t).unwrap_or_else(|_| t.elixir().to_string());
    match (what, msg) {
        (Term::Binary(_), None) => ShellError::exception("RuntimeError", text(what)),
        (Term::Atom(m), msg) => {
            let name = m.as_str().strip_prefix("Elixir.").unwrap_or(m.as_str());
            let default = match name {
                "ArgumentError" => "argument error".to_string(),
                "RuntimeError" => "runtime error".to_string(),
                _ => format!("{name} raised"),
            };
            ShellError::exception(name, msg.map(text).unwrap_or(default))
        }
        _ => ShellError::exception(
            "ArgumentError",
            format!(
                "raise/1 and reraise/2 expect a module name, string or exception as the first \
             argument, got: {}",
                what.elixir()
            ),
        ),
    }
}
