//! ferl-etf: Erlang terms (`Term`, `Atom`, `Pid`, `Ref`, ...), the External Term Format codec
//! (byte-identical to OTP 25 `term_to_binary/1`), Erlang term order, Erlang/Elixir printing,
//! and a serde mapping between Rust types and terms. Sans-I/O: bytes in, bytes out.
//!
//! ```
//! use etf::{decode, encode, Term};
//!
//! let t = Term::tuple(vec![Term::atom("push"), "alice".into(), "item-123".into()]);
//! let bytes = encode(&t); // what erl's term_to_binary({push, <<"alice">>, <<"item-123">>}) gives
//! assert_eq!(bytes.len(), 33);
//! assert_eq!(decode(&bytes).unwrap(), t);
//! assert_eq!(t.elixir().to_string(), r#"{:push, "alice", "item-123"}"#);
//! assert_eq!(t.erlang().to_string(), r#"{push,<<"alice">>,<<"item-123">>}"#);
//! ```
//!
//! Modules: `atom` (bounded global intern table), `term` (the `Term` enum), `pid` (pids, refs,
//! ports, funs), `bigint`, `decode` (total decoder, zero-copy binaries), `encode` (`encode*` for
//! `term_to_binary` bytes, `encode_dist*` for the UTF-8-atom form OTP uses on distribution
//! connections), `order` (`Eq`/`Ord`/`erl_cmp`, map key order), `view` (borrowed,
//! zero-allocation decoding for hot paths), `print` (`Term::erlang()`, `Term::elixir()`), `serde` (`to_term`/`from_term`), `error`, `tag`.

pub mod atom;
pub mod bigint;
pub mod binary;
pub mod decode;
pub mod encode;
pub mod error;
pub mod order;
pub mod pid;
pub mod print;
pub mod serde;
pub mod tag;
pub mod term;
pub mod view;

pub use crate::atom::{Atom, AtomError, AtomTable};
pub use crate::bigint::BigInt;
pub use crate::binary::Binary;
pub use crate::decode::{decode, decode_at, decode_at_into, decode_with_limits, Decoder, Limits};
pub use crate::encode::{
    encode, encode_dist_term_to, encode_dist_term_with_refs, encode_dist_term_within,
    encode_dist_to, encode_to, encoded_dist_len, encoded_len,
};
pub use crate::error::{DecodeError, DecodeErrorKind};
pub use crate::pid::{Export, Fun, Pid, Port, Ref};
pub use crate::serde::{from_term, to_term, SerdeError};
pub use crate::term::Term;
pub use crate::view::{Decoder as ViewDecoder, TermRef, View};
