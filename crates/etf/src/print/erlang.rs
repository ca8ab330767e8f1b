//! Erlang syntax printing, matching `io_lib:format("~tp")` on a single line (pids, refs and ports
//! use ferl's node numbering, see `print/mod.rs`; local funs print `#Fun<Module.Index.Uniq>`).

use super::{erl_printable_char, format_float, fun_index_uniq, node_number};
use crate::atom::Atom;
use crate::order::cmp_map_keys;
use crate::term::Term;
use std::fmt::{self, Write};

/// `Display` adapter returned by `Term::erlang()`.
pub struct ErlangDisplay<'a>(pub(crate) &'a Term);

impl fmt::Display for ErlangDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_term(self.0, f)
    }
}

const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case",
    "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive",
    "rem", "try", "when", "xor",
];

fn is_lower(c: char) -> bool {
    c.is_ascii_lowercase() || (('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '@'
        || (('\u{c0}'..='\u{ff}').contains(&c) && c != '\u{d7}' && c != '\u{f7}')
}

/// An atom as Erlang writes it, quoted when needed.
pub fn atom_text(a: Atom) -> String {
    let s = a.as_str();
    let bare = s.chars().next().is_some_and(is_lower)
        && s.chars().all(is_name_char)
        && !RESERVED.contains(&s);
    if bare {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        push_escaped(&mut out, c, '\'');
    }
    out.push('\'');
    out
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\u{1b}' => out.push_str("\\e"),
        '\u{7f}' => out.push_str("\\d"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 32 => {
            let _ = write!(out, "\\{:o}", c as u32);
        }
        c => out.push(c),
    }
}

fn printable_string(v: &[Term]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|e| matches!(e, Term::Int(i) if erl_printable_char(*i as u32) && *i >= 0))
}

fn write_seq<'a>(items: impl Iterator<Item = &'a Term>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, e) in items.enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write_term(e, f)?;
    }
    Ok(())
}

fn write_binary(bytes: &[u8], bits: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // A hand-built BitBinary with a bit count outside 1..=7 prints as whole bytes (as encoded).
    let bits = if bytes.is_empty() || bits >= 8 {
        0
    } else {
        bits
    };
    let full = if bits == 0 {
        bytes
    } else {
        &bytes[..bytes.len() - 1]
    };
    f.write_str("<<")?;
    let utf8 = std::str::from_utf8(full).ok();
    let printable_latin1 = !full.is_empty() && full.iter().all(|&b| erl_printable_char(b as u32));
    let printable_utf8 = !full.is_empty()
        && utf8.is_some_and(|s| {
            !s.is_ascii()
                && s.chars()
                    .all(|c| erl_printable_char(c as u32) || c as u32 > 255)
        });
    let mut wrote = false;
    if printable_utf8 {
        let mut s = String::from("\"");
        for c in utf8.unwrap_or_default().chars() {
            push_escaped(&mut s, c, '"');
        }
        s.push_str("\"/utf8");
        f.write_str(&s)?;
        wrote = true;
    } else if printable_latin1 {
        let mut s = String::from("\"");
        for &b in full {
            push_escaped(&mut s, b as char, '"');
        }
        s.push('"');
        f.write_str(&s)?;
        wrote = true;
    } else {
        for (i, b) in full.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "{b}")?;
        }
        wrote |= !full.is_empty();
    }
    if bits != 0 {
        if let Some(last) = bytes.last() {
            if wrote {
                f.write_char(',')?;
            }
            write!(f, "{}:{}", last >> (8 - bits), bits)?;
        }
    }
    f.write_str(">>")
}

fn write_term(t: &Term, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match t {
        Term::Atom(a) => f.write_str(&atom_text(*a)),
        Term::Int(i) => write!(f, "{i}"),
        Term::Big(b) => write!(f, "{b}"),
        Term::Float(x) => f.write_str(&format_float(*x)),
        Term::Binary(b) => write_binary(b, 0, f),
        Term::BitBinary { bytes, bits } => write_binary(bytes, *bits, f),
        Term::Tuple(v) => {
            f.write_char('{')?;
            write_seq(v.iter(), f)?;
            f.write_char('}')
        }
        Term::List(v) if printable_string(v) => {
            let mut s = String::from("\"");
            for e in v {
                if let Term::Int(i) = e {
                    push_escaped(&mut s, char::from_u32(*i as u32).unwrap_or('?'), '"');
                }
            }
            s.push('"');
            f.write_str(&s)
        }
        Term::List(v) => {
            f.write_char('[')?;
            write_seq(v.iter(), f)?;
            f.write_char(']')
        }
        Term::ImproperList(v, tail) => {
            f.write_char('[')?;
            write_seq(v.iter(), f)?;
            f.write_char('|')?;
            write_term(tail, f)?;
            f.write_char(']')
        }
        Term::Map(m) => {
            let mut pairs: Vec<&(Term, Term)> = m.iter().collect();
            if pairs.len() <= 32 {
                pairs.sort_by(|a, b| cmp_map_keys(&a.0, &b.0));
            }
            f.write_str("#{")?;
            for (i, (k, v)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    f.write_char(',')?;
                }
                write_term(k, f)?;
                f.write_str(" => ")?;
                write_term(v, f)?;
            }
            f.write_char('}')
        }
        Term::Pid(p) => write!(f, "<{}.{}.{}>", node_number(p.node), p.id, p.serial),
        Term::Ref(r) => {
            write!(f, "#Ref<{}", node_number(r.node))?;
            for w in r.ids().iter().rev() {
                write!(f, ".{w}")?;
            }
            f.write_char('>')
        }
        Term::Port(p) => write!(f, "#Port<{}.{}>", node_number(p.node), p.id),
        Term::Export(e) => write!(
            f,
            "fun {}:{}/{}",
            atom_text(e.module),
            atom_text(e.function),
            e.arity
        ),
        Term::Fun(fun) => match fun_index_uniq(fun) {
            Some((i, u)) => write!(f, "#Fun<{}.{}.{}>", fun.module(), i, u),
            None => write!(f, "#Fun<{}>", fun.module()),
        },
        Term::Local(b) => write!(f, "#Local<{} bytes>", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        let t = Term::tuple(vec![Term::atom("push"), "alice".into(), "item-123".into()]);
        assert_eq!(
            t.erlang().to_string(),
            r#"{push,<<"alice">>,<<"item-123">>}"#
        );
        assert_eq!(
            Term::atom("hello world").erlang().to_string(),
            "'hello world'"
        );
        assert_eq!(
            Term::atom("Elixir.Foo").erlang().to_string(),
            "'Elixir.Foo'"
        );
        assert_eq!(Term::atom("end").erlang().to_string(), "'end'");
        assert_eq!(Term::charlist("abc").erlang().to_string(), "\"abc\"");
        assert_eq!(
            Term::ImproperList(vec![Term::atom("a")], Box::new(Term::atom("b")))
                .erlang()
                .to_string(),
            "[a|b]"
        );
    }
}
