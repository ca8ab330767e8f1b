//! Elixir string interpolation (`"#{name} gave: '#{item}'"`) of terms, for the log lines: what
//! `String.Chars.to_string/1` gives for strings, atoms, numbers and charlists.

use etf::Term;

/// `to_string(term)` as Elixir interpolates it. Terms Elixir cannot interpolate (tuples, maps,
/// pids: a `Protocol.UndefinedError` that would crash the tutorial's server) print as `inspect`.
pub fn interpolate(t: &Term) -> String {
    match t {
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        // nil interpolates as the empty string; other atoms as their name without the colon.
        Term::Atom(a) if a.as_str() == "nil" => String::new(),
        Term::Atom(a) => a.as_str().to_string(),
        Term::Int(_) | Term::Big(_) | Term::Float(_) => t.elixir().to_string(),
        Term::List(items) => match charlist(items) {
            Some(s) => s,
            None => t.elixir().to_string(),
        },
        _ => t.elixir().to_string(),
    }
}

/// A list of code points and binaries (iodata-like chardata), as `List.to_string/1` takes it.
fn charlist(items: &[Term]) -> Option<String> {
    let mut out = String::new();
    for i in items {
        match i {
            Term::Int(c) => out.push(char::from_u32(u32::try_from(*c).ok()?)?),
            Term::Binary(b) => out.push_str(std::str::from_utf8(b).ok()?),
            Term::List(inner) => out.push_str(&charlist(inner)?),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_like_string_chars() {
        assert_eq!(interpolate(&"Howdy Partner!".into()), "Howdy Partner!");
        assert_eq!(interpolate(&Term::atom("alice")), "alice");
        assert_eq!(interpolate(&Term::atom("nil")), "");
        assert_eq!(interpolate(&Term::Int(42)), "42");
        assert_eq!(interpolate(&Term::charlist("hey")), "hey");
        assert_eq!(interpolate(&Term::list(vec![])), "");
        assert_eq!(
            interpolate(&Term::tuple(vec![Term::Int(1), "x".into()])),
            r#"{1, "x"}"#
        );
        assert_eq!(interpolate(&Term::list(vec![Term::Int(-1)])), "[-1]");
    }
}
