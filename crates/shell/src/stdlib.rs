//! The pure parts of Elixir's standard modules that a shell user reaches for: `Kernel.*`,
//! `IO.puts/inspect`, `String`, `Map`, `Enum`, `List`, `Tuple`, `Atom`, `Integer` (a few each).
//! Anything not here goes to the runtime (and from there, possibly, to another node).

use crate::builtins::{
    arith, int_of, is_local, local, map_put, nil, str_arg, to_string, type_name,
};
use crate::error::ShellError;
use crate::eval::{bool_term, truthy, EResult, Interp};
use crate::runtime::Runtime;
use etf::Term;

/// Items of an enumerable (lists, and maps as `{k, v}` tuples).
fn enumerable(t: &Term) -> Result<Vec<Term>, ShellError> {
    match t {
        Term::List(v) => Ok(v.clone()),
        Term::Map(m) => {
            let mut pairs = m.clone();
            pairs.sort_by(|a, b| etf::order::cmp_map_keys(&a.0, &b.0));
            Ok(pairs
                .into_iter()
                .map(|(k, v)| Term::Tuple(vec![k, v]))
                .collect())
        }
        _ => Err(ShellError::exception(
            "Protocol.UndefinedError",
            format!(
                "protocol Enumerable not implemented for {} of type {}",
                t.elixir(),
                type_name(t)
            ),
        )),
    }
}

/// Pure remote functions. `None` means "not mine": the runtime handles it.
pub fn remote<R: Runtime>(it: &mut Interp<R>, m: &str, f: &str, a: &[Term]) -> Option<EResult> {
    let m = m
        .strip_prefix("Elixir.")
        .map(|s| (s, true))
        .unwrap_or((m, false));
    Some(match (m, f, a) {
        (("Kernel", true), f, a) if is_local(f, a.len()) => local(it, f, a.to_vec()),
        (("Kernel", true), op, [x, y])
            if matches!(
                op,
                "+" | "-"
                    | "*"
                    | "/"
                    | "=="
                    | "!="
                    | "==="
                    | "!=="
                    | "<"
                    | ">"
                    | "<="
                    | ">="
                    | "<>"
                    | "++"
                    | "--"
            ) =>
        {
            crate::ops::binary(op, x.clone(), y.clone())
        }
        (("IO", true), "puts", [v]) => to_string(v).map(|s| {
            it.output.push_str(&s);
            it.output.push('\n');
            Term::atom("ok")
        }),
        (("IO", true), "inspect", [v]) => {
            it.output.push_str(&format!("{}\n", v.elixir()));
            Ok(v.clone())
        }
        (("String", true), f, a) => string_fn(f, a)?,
        (("Atom", true), "to_string", [Term::Atom(x)]) => Ok(Term::from(x.as_str())),
        (("Integer", true), "to_string", [n]) if int_of(n).is_some() => {
            Ok(Term::from(n.elixir().to_string()))
        }
        (("Tuple", true), "to_list", [Term::Tuple(v)]) => Ok(Term::List(v.clone())),
        (("List", true), "first", [Term::List(v)]) => Ok(v.first().cloned().unwrap_or_else(nil)),
        (("List", true), "last", [Term::List(v)]) => Ok(v.last().cloned().unwrap_or_else(nil)),
        (("List", true), "to_tuple", [Term::List(v)]) => Ok(Term::Tuple(v.clone())),
        (("Map", true), f, a) => map_fn(f, a)?,
        (("Enum", true), f, a) => enum_fn(it, f, a)?,
        _ => return None,
    })
}

fn string_fn(f: &str, a: &[Term]) -> Option<EResult> {
    let arity = a.len();
    let s = match a.first() {
        Some(t) => match str_arg(t, "String", f, arity) {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        },
        None => return None,
    };
    Some(Ok(match (f, &a[1..]) {
        ("upcase", []) => Term::from(s.to_uppercase()),
        ("downcase", []) => Term::from(s.to_lowercase()),
        ("length", []) => Term::from(s.chars().count()),
        ("reverse", []) => Term::from(s.chars().rev().collect::<String>()),
        ("trim", []) => Term::from(s.trim()),
        ("to_atom", []) => Term::atom(&s),
        ("to_integer", []) => match s.parse::<i128>() {
            Ok(n) => Term::from_i128(n),
            Err(_) => return Some(Err(ShellError::exception("ArgumentError", "errors were found at the given arguments:\n\n  * 1st argument: not a textual representation of an integer\n"))),
        },
        ("split", []) => Term::List(s.split_whitespace().map(Term::from).collect()),
        ("split", [Term::Binary(p)]) => {
            let p = String::from_utf8_lossy(p).into_owned();
            Term::List(s.split(p.as_str()).map(Term::from).collect())
        }
        ("contains?", [Term::Binary(p)]) => bool_term(s.contains(String::from_utf8_lossy(p).as_ref())),
        ("starts_with?", [Term::Binary(p)]) => bool_term(s.as_bytes().starts_with(p)),
        ("ends_with?", [Term::Binary(p)]) => bool_term(s.as_bytes().ends_with(p)),
        _ => return None,
    }))
}

fn map_fn(f: &str, a: &[Term]) -> Option<EResult> {
    let Some(Term::Map(m)) = a.first() else {
        return match (f, a) {
            ("new", []) => Some(Ok(Term::Map(Vec::new()))),
            (_, [bad, ..])
                if matches!(
                    f,
                    "get" | "put" | "keys" | "values" | "has_key?" | "delete" | "fetch" | "fetch!"
                ) =>
            {
                Some(Err(ShellError::exception(
                    "BadMapError",
                    format!("expected a map, got: {}", bad.elixir()),
                )))
            }
            _ => None,
        };
    };
    let mut sorted = m.clone();
    sorted.sort_by(|x, y| etf::order::cmp_map_keys(&x.0, &y.0));
    let map = &a[0];
    Some(Ok(match (f, &a[1..]) {
        ("get", [k]) => map.map_get(k).cloned().unwrap_or_else(nil),
        ("get", [k, d]) => map.map_get(k).cloned().unwrap_or_else(|| d.clone()),
        ("fetch", [k]) => match map.map_get(k) {
            Some(v) => Term::Tuple(vec![Term::atom("ok"), v.clone()]),
            None => Term::atom("error"),
        },
        ("fetch!", [k]) => match map.map_get(k) {
            Some(v) => v.clone(),
            None => return Some(Err(ShellError::key_error(k, map))),
        },
        ("put", [k, v]) => {
            let mut m = m.clone();
            map_put(&mut m, k.clone(), v.clone());
            Term::Map(m)
        }
        ("delete", [k]) => Term::Map(m.iter().filter(|(mk, _)| mk != k).cloned().collect()),
        ("has_key?", [k]) => bool_term(map.map_get(k).is_some()),
        ("keys", []) => Term::List(sorted.into_iter().map(|(k, _)| k).collect()),
        ("values", []) => Term::List(sorted.into_iter().map(|(_, v)| v).collect()),
        ("to_list", []) => Term::List(
            sorted
                .into_iter()
                .map(|(k, v)| Term::Tuple(vec![k, v]))
                .collect(),
        ),
        _ => return None,
    }))
}

fn enum_fn<R: Runtime>(it: &mut Interp<R>, f: &str, a: &[Term]) -> Option<EResult> {
    let first = a.first()?;
    let items = match enumerable(first) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let r = (|| -> EResult {
        Ok(match (f, &a[1..]) {
            ("count", []) => Term::from(items.len()),
            ("reverse", []) => Term::List(items.into_iter().rev().collect()),
            ("to_list", []) => Term::List(items),
            ("sort", []) => {
                let mut v = items;
                v.sort();
                Term::List(v)
            }
            ("sum", []) => {
                let mut acc = Term::Int(0);
                for x in &items {
                    acc = arith("+", &acc, x)?;
                }
                acc
            }
            ("member?", [x]) => bool_term(items.iter().any(|y| y == x)),
            ("at", [i]) => {
                let i = int_of(i).unwrap_or(-1);
                let i = if i < 0 { items.len() as i128 + i } else { i };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i).cloned())
                    .unwrap_or_else(nil)
            }
            ("join", []) | ("join", [Term::Binary(_)]) => {
                let sep = a.get(1).map(to_string).transpose()?.unwrap_or_default();
                let parts = items.iter().map(to_string).collect::<Result<Vec<_>, _>>()?;
                Term::from(parts.join(&sep))
            }
            ("map", [fun]) => Term::List(
                items
                    .into_iter()
                    .map(|x| it.apply(fun, vec![x]))
                    .collect::<Result<_, _>>()?,
            ),
            ("each", [fun]) => {
                for x in items {
                    it.apply(fun, vec![x])?;
                }
                Term::atom("ok")
            }
            ("filter", [fun]) => {
                let mut out = Vec::new();
                for x in items {
                    if truthy(&it.apply(fun, vec![x.clone()])?) {
                        out.push(x);
                    }
                }
                Term::List(out)
            }
            ("reduce", [acc, fun]) => {
                let mut acc = acc.clone();
                for x in items {
                    acc = it.apply(fun, vec![x, acc])?;
                }
                acc
            }
            _ => return Err(ShellError::exception("__not_mine__", "")),
        })
    })();
    match r {
        Err(ShellError::Exception { module, .. }) if module == "__not_mine__" => None,
        r => Some(r),
    }
}
