//! serde mapping between Rust values and terms, written the way an Elixir developer writes
//! messages by hand. `to_term` / `from_term` are the entry points.
//!
//! | Rust | Term (Elixir) |
//! |---|---|
//! | `bool` | `true` / `false` |
//! | integers (any width, incl. `i128`/`u128`) | integer (bignum when outside `i64`) |
//! | `f32` / `f64` | float |
//! | `String`, `&str`, `char` | binary (`"alice"`); decoding also accepts atoms and charlists |
//! | bytes (`serde_bytes`) | binary |
//! | `Option<T>` | `nil` or the value |
//! | `()`, unit struct | `nil` |
//! | `Vec<T>`, sequences | list |
//! | tuples, tuple structs | tuple |
//! | `HashMap` / `BTreeMap` | map |
//! | struct | map with atom keys: `%{name: "alice", pid: pid}` |
//! | struct with `#[serde(rename = "Elixir.Client")]` | the same plus `__struct__: Client`, so it prints `%Client{...}` |
//! | struct with `#[serde(rename = "#point")]` | an Erlang record: `{:point, x, y}` (fields in order) |
//! | unit variant `Ok` | atom with the variant's name as written (`:Ok`); use `#[serde(rename_all = "snake_case")]` for `:ok` |
//! | newtype variant `Pop(String)` | `{:pop, "x"}` |
//! | tuple variant `Push(String, String)` | `{:push, "a", "b"}` |
//! | struct variant `Put { key: String }` | `{:put, %{key: "k"}}` |
//! | `Pid`, `Ref`, `Port`, `Atom`, `Term` fields | themselves, unchanged |
//!
//! Tagged tuples, the usual Erlang message shape, come from enums:
//!
//! ```
//! use etf::{from_term, to_term, Atom, Pid, Term};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename_all = "snake_case")]
//! enum Msg {
//!     Subscribe(String, Pid),
//!     Push(String, String),
//!     Pop(String),
//!     Stop,
//! }
//!
//! let pid = Pid::new(Atom::new("alice@host"), 91, 0, 1);
//! let t = to_term(&Msg::Subscribe("alice".into(), pid)).unwrap();
//! assert_eq!(t.elixir().to_string().starts_with("{:subscribe, \"alice\", #PID<"), true);
//! assert_eq!(to_term(&Msg::Stop).unwrap(), Term::atom("stop"));
//! assert_eq!(from_term::<Msg>(&t).unwrap(), Msg::Subscribe("alice".into(), pid));
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename = "Elixir.Client")]
//! struct Client { name: String, pid: Pid }
//!
//! let c = to_term(&Client { name: "alice".into(), pid }).unwrap();
//! assert!(c.elixir().to_string().starts_with("%Client{name: \"alice\", pid: #PID<"));
//! assert_eq!(from_term::<Client>(&c).unwrap(), Client { name: "alice".into(), pid });
//! ```

mod de;
mod ser;

use crate::atom::Atom;
use crate::decode::decode;
use crate::encode::encode;
use crate::pid::{Pid, Port, Ref};
use crate::term::Term;
use ::serde::{de as sde, ser as sser, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Error converting between a Rust value and a term.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SerdeError(pub String);

impl sser::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

impl sde::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

/// Rust value -> term.
pub fn to_term<T: Serialize + ?Sized>(v: &T) -> Result<Term, SerdeError> {
    v.serialize(ser::TermSerializer)
}

/// Term -> Rust value.
pub fn from_term<T: sde::DeserializeOwned>(t: &Term) -> Result<T, SerdeError> {
    T::deserialize(de::TermDeserializer(t))
}

/// Newtype-struct name that tells ferl's serializer/deserializer "this is a term carried as its
/// ETF bytes": how `Pid`, `Ref`, `Port`, `Atom` and `Term` pass through serde unchanged.
pub(crate) const RAW_TERM: &str = "$ferl_etf::RawTerm";

struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

fn serialize_raw<S: Serializer>(t: &Term, s: S) -> Result<S::Ok, S::Error> {
    let bytes = encode(t);
    s.serialize_newtype_struct(RAW_TERM, &RawBytes(&bytes))
}

struct RawVisitor;

impl<'de> sde::Visitor<'de> for RawVisitor {
    type Value = Term;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an encoded term")
    }
    fn visit_bytes<E: sde::Error>(self, v: &[u8]) -> Result<Term, E> {
        decode(&bytes::Bytes::copy_from_slice(v)).map_err(E::custom)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Term, D::Error> {
        d.deserialize_bytes(self)
    }
}

fn deserialize_raw<'de, D: Deserializer<'de>>(d: D) -> Result<Term, D::Error> {
    d.deserialize_newtype_struct(RAW_TERM, RawVisitor)
}

impl Serialize for Term {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(self, s)
    }
}

impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Term, D::Error> {
        deserialize_raw(d)
    }
}

macro_rules! raw_passthrough {
    ($ty:ty, $variant:ident, $what:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                serialize_raw(&Term::$variant(self.clone()), s)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                match deserialize_raw(d)? {
                    Term::$variant(v) => Ok(v),
                    other => Err(sde::Error::custom(format!(
                        "expected {}, got {}",
                        $what,
                        other.elixir()
                    ))),
                }
            }
        }
    };
}

raw_passthrough!(Pid, Pid, "a pid");
raw_passthrough!(Ref, Ref, "a reference");
raw_passthrough!(Port, Port, "a port");
raw_passthrough!(Atom, Atom, "an atom");
