//! Decoder errors: what the peer's bytes did wrong and at which byte offset, so a bad peer gets
//! a specific log line ("unknown tag 200 at byte 17") before its connection is closed.

/// What went wrong while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Input ended inside a term (also: a declared length larger than the bytes present).
    UnexpectedEof,
    /// The first byte was not 131.
    BadVersion(u8),
    /// A tag this decoder does not know.
    UnknownTag(u8),
    /// Nesting deeper than `Limits::max_depth`.
    TooDeep,
    /// The atom table (or the decoder's `Limits::max_atoms`) is full.
    AtomTableFull,
    /// A UTF-8 atom whose bytes are not valid UTF-8.
    BadAtomUtf8,
    /// An atom longer than 255 characters.
    AtomTooLong,
    /// BIT_BINARY_EXT with a bit count outside 1..=8 (or non-zero bits on an empty binary).
    BadBitCount,
    /// Bytes left over after the term (count).
    Trailing(usize),
    /// A reference with a word count outside 1..=5.
    InvalidRefLen(u16),
    /// A float that is not finite, or an unparsable old-style FLOAT_EXT.
    BadFloat,
    /// ATOM_CACHE_REF (82) outside a distribution message, or naming an index its
    /// distribution header does not have.
    AtomCacheRef,
    /// A compressed term (80): ferl never produces or negotiates them and carries no zlib.
    Compressed,
    /// DIST_HEADER (68) / fragments (69) found where a plain term was expected.
    DistHeader,
    /// A structural field out of range (e.g. fun arity or a pid/port node that is not an atom).
    Malformed,
    /// A MAP_EXT with the same key twice (exactly equal, `=:=`), which `binary_to_term` refuses.
    RepeatedMapKey,
    /// A fun's old index or old uniq that is not an integer of erts's small range (60 bits).
    BadFunIndex,
    /// A fun whose creator is not a pid (OTP 25's `binary_to_term` takes one, and the VM
    /// crashes on it later).
    BadFunCreator,
}

/// A decode failure at a byte offset in the decoder's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct DecodeError {
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub fn new(offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }
}

impl std::fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use DecodeErrorKind::*;
        match self {
            UnexpectedEof => write!(f, "unexpected end of input"),
            BadVersion(v) => write!(f, "bad version byte {v} (expected 131)"),
            UnknownTag(t) => write!(f, "unknown tag {t}"),
            TooDeep => write!(f, "term nested too deeply"),
            AtomTableFull => write!(f, "atom table full"),
            BadAtomUtf8 => write!(f, "atom is not valid UTF-8"),
            AtomTooLong => write!(f, "atom longer than 255 characters"),
            BadBitCount => write!(f, "bad bit count in bit binary"),
            Trailing(n) => write!(f, "{n} trailing bytes after term"),
            InvalidRefLen(n) => write!(f, "reference with {n} words (expected 1..=5)"),
            BadFloat => write!(f, "bad float"),
            AtomCacheRef => write!(
                f,
                "atom cache reference not in this message's distribution header"
            ),
            Compressed => write!(f, "compressed term (not supported)"),
            DistHeader => write!(f, "distribution header inside a term"),
            Malformed => write!(f, "malformed term"),
            RepeatedMapKey => write!(f, "map with a repeated key"),
            BadFunIndex => write!(f, "fun's old index or uniq is not a small integer"),
            BadFunCreator => write!(f, "fun's creator is not a pid"),
        }
    }
}
