//! Elixir syntax printing, matching Elixir 1.14 `inspect/1` with default options (no width
//! limit, no truncation): `{:push, "alice", "item-123"}`, `%{a: 1}`, `[a: 1]`, `'abc'`,
//! `#PID<0.91.0>`, `%Client{name: "alice"}` for maps with a `__struct__` key (printed as a struct
//! even if the module is not loaded), `&:lists.map/2`, local funs as `#Function<I.U/A in :mod>`.

use super::{format_float, fun_index_uniq, node_number};
use crate::atom::Atom;
use crate::order::cmp_map_keys;
use crate::term::Term;
use std::fmt::{self, Write};

/// Elixir 1.14 `Inspect.Float`: integral floats in [1, 1e16) print positionally (`1000000.0`),
/// everything else as OTP's shortest form.
fn elixir_float(x: f64) -> String {
    let a = x.abs();
    if (1.0..1.0e16).contains(&a) && x.trunc() == x {
        format!("{}.0", x as i64)
    } else {
        format_float(x)
    }
}

/// `Display` adapter returned by `Term::elixir()`.
pub struct ElixirDisplay<'a>(pub(crate) &'a Term);

impl fmt::Display for ElixirDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_term(self.0, f)
    }
}

/// Operators that Elixir prints without quotes (`:+`, `:==`, ...).
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "==", "!=", "===", "!==", "<", ">", "<=", ">=", "&&", "||", "!", "&&&",
    "|||", "<<<", ">>>", "~~~", "^^^", "<>", "++", "--", "+++", "---", "..", "...", "<-", "\\\\",
    "=~", "|>", "<|>", "<~", "~>", "<<~", "~>>", "<~>", "^", "@", "&", "=", "::", "|", ".", "%",
    "{}", "%{}", "<<>>", "..//", "->", "=>", "**",
];

fn ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric() || c == '@'
}

/// Atom text usable without quotes after `:` (identifier with optional `?`/`!`, or operator).
fn plain_atom(s: &str) -> bool {
    if OPERATORS.contains(&s) {
        return true;
    }
    let body = s.strip_suffix(['?', '!']).unwrap_or(s);
    let mut cs = body.chars();
    cs.next().is_some_and(ident_start) && cs.all(ident_char)
}

/// `Foo.Bar` for `:"Elixir.Foo.Bar"` when every segment is an alias.
fn alias(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("Elixir.")?;
    let ok = rest.split('.').all(|seg| {
        let mut cs = seg.chars();
        cs.next().is_some_and(|c| c.is_ascii_uppercase())
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    ok.then_some(rest)
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quoted(&mut out, s.chars(), '"');
    out
}

/// `chars` between `quote`s, escaped as `inspect` does. Both quotes interpolate in Elixir
/// source (strings, charlists, quoted atoms and keys), so a `#` before `{` is escaped too:
/// `'\#{'`, `:"\#{"`.
fn push_quoted(out: &mut String, chars: impl Iterator<Item = char>, quote: char) {
    out.push(quote);
    let mut chars = chars.peekable();
    while let Some(c) = chars.next() {
        if c == '#' && chars.peek() == Some(&'{') {
            out.push_str("\\#");
        } else {
            push_escaped(out, c, quote);
        }
    }
    out.push(quote);
}

/// An atom as `inspect` writes it: `:ok`, `nil`, `Foo.Bar`, `:"hello world"`.
pub fn atom_text(a: Atom) -> String {
    let s = a.as_str();
    match s {
        "nil" | "true" | "false" => return s.to_string(),
        "Elixir" => return "Elixir".to_string(),
        _ => {}
    }
    if let Some(al) = alias(s) {
        return al.to_string();
    }
    if plain_atom(s) {
        format!(":{s}")
    } else {
        format!(":{}", quoted(s))
    }
}

/// A keyword/map key: `a: `, `"hello world": `.
fn key_text(a: Atom) -> String {
    let s = a.as_str();
    if plain_atom(s) && !OPERATORS.contains(&s) {
        format!("{s}: ")
    } else {
        format!("{}: ", quoted(s))
    }
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
        '\u{07}' => out.push_str("\\a"),
        '\u{7f}' => out.push_str("\\d"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c => {
            let _ = write!(out, "{c}");
        }
    }
}

/// `String.printable?/1`.
fn printable_char(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..=0x10ffff)
        || matches!(
            c,
            '\n' | '\r' | '\t' | '\u{0b}' | '\u{08}' | '\u{0c}' | '\u{1b}' | '\u{07}' | '\u{7f}'
        )
}

/// `List.ascii_printable?/1` (Elixir 1.14 infers charlists from ASCII only).
fn ascii_printable(v: &[Term]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|e| matches!(e, Term::Int(i) if matches!(*i, 0x20..=0x7e | 7..=13 | 27 | 127)))
}

fn write_string_binary(s: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&quoted(s))
}

fn write_bits(bytes: &[u8], bits: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // A hand-built BitBinary with a bit count outside 1..=7 prints as whole bytes (as encoded).
    let bits = if bytes.is_empty() || bits >= 8 {
        0
    } else {
        bits
    };
    if bits == 0 {
        if let Ok(s) = std::str::from_utf8(bytes) {
            if s.chars().all(printable_char) {
                return write_string_binary(s, f);
            }
        }
    }
    let full = if bits == 0 {
        bytes
    } else {
        &bytes[..bytes.len().saturating_sub(1)]
    };
    f.write_str("<<")?;
    for (i, b) in full.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{b}")?;
    }
    if bits != 0 {
        if let Some(last) = bytes.last() {
            if !full.is_empty() {
                f.write_str(", ")?;
            }
            write!(f, "{}::size({})", last >> (8 - bits), bits)?;
        }
    }
    f.write_str(">>")
}

fn is_keyword(v: &[Term]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|e| matches!(e, Term::Tuple(p) if p.len() == 2 && matches!(p[0], Term::Atom(_))))
}

fn write_seq<'a>(items: impl Iterator<Item = &'a Term>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, e) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_term(e, f)?;
    }
    Ok(())
}

fn write_map(m: &[(Term, Term)], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut pairs: Vec<&(Term, Term)> = m.iter().collect();
    pairs.sort_by(|a, b| cmp_map_keys(&a.0, &b.0));
    let strukt = pairs.iter().find_map(|(k, v)| match (k, v) {
        (Term::Atom(k), Term::Atom(v)) if k.as_str() == "__struct__" => Some(*v),
        _ => None,
    });
    if let Some(name) = strukt {
        pairs.retain(|(k, _)| !k.is_atom("__struct__"));
        let name = atom_text(name);
        write!(f, "%{}{{", name.strip_prefix(':').unwrap_or(&name))?;
    } else {
        f.write_str("%{")?;
    }
    let all_atoms = pairs.iter().all(|(k, _)| matches!(k, Term::Atom(_)));
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match k {
            Term::Atom(a) if all_atoms => f.write_str(&key_text(*a))?,
            _ => {
                write_term(k, f)?;
                f.write_str(" => ")?;
            }
        }
        write_term(v, f)?;
    }
    f.write_char('}')
}

fn write_term(t: &Term, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match t {
        Term::Atom(a) => f.write_str(&atom_text(*a)),
        Term::Int(i) => write!(f, "{i}"),
        Term::Big(b) => write!(f, "{b}"),
        Term::Float(x) => f.write_str(&elixir_float(*x)),
        Term::Binary(b) => write_bits(b, 0, f),
        Term::BitBinary { bytes, bits } => write_bits(bytes, *bits, f),
        Term::Tuple(v) => {
            f.write_char('{')?;
            write_seq(v.iter(), f)?;
            f.write_char('}')
        }
        Term::List(v) if ascii_printable(v) => {
            let mut s = String::with_capacity(v.len() + 2);
            let chars = v.iter().filter_map(|e| match e {
                Term::Int(i) => Some(char::from_u32(*i as u32).unwrap_or('?')),
                _ => None,
            });
            push_quoted(&mut s, chars, '\'');
            f.write_str(&s)
        }
        Term::List(v) if is_keyword(v) => {
            f.write_char('[')?;
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                if let Term::Tuple(p) = e {
                    if let Term::Atom(k) = &p[0] {
                        f.write_str(&key_text(*k))?;
                    }
                    write_term(&p[1], f)?;
                }
            }
            f.write_char(']')
        }
        Term::List(v) => {
            f.write_char('[')?;
            write_seq(v.iter(), f)?;
            f.write_char(']')
        }
        Term::ImproperList(v, tail) => {
            f.write_char('[')?;
            write_seq(v.iter(), f)?;
            f.write_str(" | ")?;
            write_term(tail, f)?;
            f.write_char(']')
        }
        Term::Map(m) => write_map(m, f),
        Term::Pid(p) => write!(f, "#PID<{}.{}.{}>", node_number(p.node), p.id, p.serial),
        Term::Ref(r) => {
            write!(f, "#Reference<{}", node_number(r.node))?;
            for w in r.ids().iter().rev() {
                write!(f, ".{w}")?;
            }
            f.write_char('>')
        }
        Term::Port(p) => write!(f, "#Port<{}.{}>", node_number(p.node), p.id),
        Term::Export(e) => {
            let m = atom_text(e.module);
            let fun = e.function.as_str();
            let fun = if plain_atom(fun) {
                fun.to_string()
            } else {
                quoted(fun)
            };
            write!(f, "&{m}.{fun}/{}", e.arity)
        }
        Term::Fun(fun) => {
            let (i, u) = fun_index_uniq(fun).unwrap_or((0, 0));
            write!(
                f,
                "#Function<{i}.{u}/{} in {}>",
                fun.arity(),
                atom_text(fun.module())
            )
        }
        Term::Local(b) => write!(f, "#Local<{} bytes>", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &Term) -> String {
        t.elixir().to_string()
    }

    #[test]
    fn basics() {
        let t = Term::tuple(vec![Term::atom("push"), "alice".into(), "item-123".into()]);
        assert_eq!(p(&t), r#"{:push, "alice", "item-123"}"#);
        assert_eq!(p(&Term::atom("nil")), "nil");
        assert_eq!(p(&Term::atom("Elixir.Foo.Bar")), "Foo.Bar");
        assert_eq!(p(&Term::atom("hello world")), r#":"hello world""#);
        assert_eq!(p(&Term::atom("ok?")), ":ok?");
        assert_eq!(p(&Term::charlist("abc")), "'abc'");
        assert_eq!(p(&Term::binary(&[1, 2])), "<<1, 2>>");
        let kw = Term::list(vec![Term::tuple(vec![Term::atom("a"), Term::from(1)])]);
        assert_eq!(p(&kw), "[a: 1]");
        let m = Term::map(vec![
            (Term::atom("b"), 2.into()),
            (Term::atom("a"), 1.into()),
        ]);
        assert_eq!(p(&m), "%{a: 1, b: 2}");
        let m = Term::map(vec![("k".into(), 1.into())]);
        assert_eq!(p(&m), r#"%{"k" => 1}"#);
    }
}
