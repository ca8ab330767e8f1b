//! `Binary`: the bytes of a binary term. Binaries of up to `Binary::INLINE` bytes are held
//! inside the term itself, as BEAM keeps binaries of up to 64 bytes on the process heap:
//! copying a few bytes costs less than sharing the input's reference count (an atomic
//! increment when decoded, an atomic decrement when dropped, by whichever thread drops the
//! term) and leaves nothing pointing into the input. Longer binaries are a `Bytes`: a
//! zero-copy slice of the decoder's input, or the buffer they were built from.

use bytes::Bytes;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, RangeBounds};

/// The bytes of an Erlang binary. Derefs to `[u8]`; equality, hash and order are those of the
/// bytes, whichever way they are held.
#[derive(Clone)]
pub struct Binary(Repr);

#[derive(Clone)]
enum Repr {
    /// `data[..len]`; the rest is unspecified (zero, or the input's bytes that followed).
    Inline {
        len: u8,
        data: [u8; Binary::INLINE],
    },
    Shared(Bytes),
}

// A binary is no larger than the `Bytes` it may hold (the inline variant lives beside the
// niche of `Bytes`' vtable pointer), so `Term` stays 40 bytes.
const _: () = assert!(std::mem::size_of::<Binary>() == std::mem::size_of::<Bytes>());

impl Binary {
    /// The longest binary held inline.
    pub const INLINE: usize = 23;

    /// The empty binary.
    pub const fn new() -> Binary {
        Binary(Repr::Inline {
            len: 0,
            data: [0; Binary::INLINE],
        })
    }

    /// A binary of a copy of `bytes` (inline when short enough).
    #[inline]
    pub fn copy_from_slice(bytes: &[u8]) -> Binary {
        if bytes.len() <= Binary::INLINE {
            let mut b = Binary::new();
            b.set_inline(bytes);
            b
        } else {
            Binary(Repr::Shared(Bytes::copy_from_slice(bytes)))
        }
    }

    /// A binary of static bytes, never copied.
    pub const fn from_static(bytes: &'static [u8]) -> Binary {
        Binary(Repr::Shared(Bytes::from_static(bytes)))
    }

    /// Makes this (inline, as from `new`) binary a copy of `bytes`, which fit inline. The
    /// decoder writes an empty binary where the term goes and fills it there.
    #[inline(always)]
    pub(crate) fn set_inline(&mut self, bytes: &[u8]) {
        if let Repr::Inline { len, data } = &mut self.0 {
            if let Some(dst) = data.get_mut(..bytes.len()) {
                dst.copy_from_slice(bytes);
                *len = bytes.len() as u8;
            }
        }
    }

    /// Makes this (inline) binary the first `len` (at most `INLINE`) bytes of `window`: a
    /// fixed-size copy, for the decoder when the input holds `INLINE` bytes from the start of
    /// the binary (a variable-length copy was a call to `memmove`).
    #[inline(always)]
    pub(crate) fn set_inline_window(&mut self, window: &[u8; Binary::INLINE], n: usize) {
        if let Repr::Inline { len, data } = &mut self.0 {
            *data = *window;
            *len = n.min(Binary::INLINE) as u8;
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            // `len <= INLINE` always holds; `get` keeps this free of a panic path.
            Repr::Inline { len, data } => data.get(..*len as usize).unwrap_or_default(),
            Repr::Shared(b) => b,
        }
    }

    /// The length and the whole inline area of an inline binary (its first `len` bytes are the
    /// binary): for the encoder's flat path, which copies the area with fixed-size moves and no
    /// branch on the length.
    #[inline(always)]
    pub(crate) fn inline_area(&self) -> Option<(u8, &[u8; Binary::INLINE])> {
        match &self.0 {
            Repr::Inline { len, data } => Some((*len, data)),
            Repr::Shared(_) => None,
        }
    }

    /// Whether the bytes are held inline (a copy) rather than shared.
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// The bytes as `Bytes`: the shared buffer itself, or a copy of inline bytes.
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Repr::Shared(b) => b.clone(),
        }
    }

    /// `to_bytes`, without a reference count for a shared buffer.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Repr::Shared(b) => b,
        }
    }

    /// The bytes in `range` (shared with this binary when long, else a copy).
    ///
    /// # Panics
    /// When `range` is out of bounds, as slicing `[u8]` does.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Binary {
        match &self.0 {
            Repr::Shared(b) => {
                let s = b.slice(range);
                if s.len() <= Binary::INLINE {
                    Binary::copy_from_slice(&s)
                } else {
                    Binary(Repr::Shared(s))
                }
            }
            Repr::Inline { .. } => {
                let r = (range.start_bound().cloned(), range.end_bound().cloned());
                Binary::copy_from_slice(&self.as_slice()[r])
            }
        }
    }
}

impl Default for Binary {
    fn default() -> Binary {
        Binary::new()
    }
}

impl Deref for Binary {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Binary {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Borrow<[u8]> for Binary {
    fn borrow(&self) -> &[u8] {
        self
    }
}

/// Keeps the buffer as it is, never copied.
impl From<Bytes> for Binary {
    fn from(b: Bytes) -> Binary {
        Binary(Repr::Shared(b))
    }
}

impl From<Binary> for Bytes {
    fn from(b: Binary) -> Bytes {
        b.into_bytes()
    }
}

/// Takes over the vector's buffer, unless the bytes fit inline.
impl From<Vec<u8>> for Binary {
    fn from(v: Vec<u8>) -> Binary {
        if v.len() <= Binary::INLINE {
            Binary::copy_from_slice(&v)
        } else {
            Binary(Repr::Shared(Bytes::from(v)))
        }
    }
}

impl From<String> for Binary {
    fn from(s: String) -> Binary {
        Binary::from(s.into_bytes())
    }
}

impl From<&[u8]> for Binary {
    fn from(b: &[u8]) -> Binary {
        Binary::copy_from_slice(b)
    }
}

impl<const N: usize> From<&[u8; N]> for Binary {
    fn from(b: &[u8; N]) -> Binary {
        Binary::copy_from_slice(b)
    }
}

impl From<&str> for Binary {
    fn from(s: &str) -> Binary {
        Binary::copy_from_slice(s.as_bytes())
    }
}

impl PartialEq for Binary {
    fn eq(&self, other: &Binary) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Binary {}

impl PartialOrd for Binary {
    fn partial_cmp(&self, other: &Binary) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Binary {
    fn cmp(&self, other: &Binary) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

/// The hash of the bytes, as `[u8]` and `Bytes` hash (so `Borrow<[u8]>` lookups work).
impl Hash for Binary {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl PartialEq<[u8]> for Binary {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for Binary {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Binary {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Binary {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<str> for Binary {
    fn eq(&self, other: &str) -> bool {
        self.as_slice() == other.as_bytes()
    }
}

impl PartialEq<&str> for Binary {
    fn eq(&self, other: &&str) -> bool {
        self.as_slice() == other.as_bytes()
    }
}

impl PartialEq<Bytes> for Binary {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == &other[..]
    }
}

impl PartialEq<Vec<u8>> for Binary {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == &other[..]
    }
}

/// As `Bytes` prints: `b"alice\x00"`.
impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_slice().escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_binaries_are_inline_and_long_ones_shared() {
        let short = Binary::copy_from_slice(&[7; Binary::INLINE]);
        assert!(short.is_inline());
        assert_eq!(short, [7u8; Binary::INLINE]);
        let long = Binary::copy_from_slice(&[7; Binary::INLINE + 1]);
        assert!(!long.is_inline());
        assert_eq!(long, [7u8; Binary::INLINE + 1]);
        // A `Bytes` is kept as given, short or not.
        let b = Bytes::from_static(b"abc");
        let kept = Binary::from(b.clone());
        assert!(!kept.is_inline());
        assert_eq!(kept.as_ptr(), b.as_ptr());
        assert!(Binary::new().is_empty() && Binary::new().is_inline());
    }

    #[test]
    fn equality_hash_and_order_ignore_the_representation() {
        use std::collections::hash_map::DefaultHasher;
        let h = |b: &dyn Fn(&mut DefaultHasher)| {
            let mut s = DefaultHasher::new();
            b(&mut s);
            s.finish()
        };
        let inline = Binary::from("alice");
        let shared = Binary::from(Bytes::from_static(b"alice"));
        assert_eq!(inline, shared);
        assert_eq!(h(&|s| inline.hash(s)), h(&|s| shared.hash(s)));
        assert_eq!(h(&|s| inline.hash(s)), h(&|s| b"alice"[..].hash(s)));
        let (lo, hi) = (Binary::from("alic"), Binary::from("alicf"));
        assert!(lo < shared && shared < hi);
        assert_eq!(
            format!("{inline:?}"),
            format!("{:?}", Bytes::from_static(b"alice"))
        );
        assert_eq!(
            format!("{:?}", Binary::from(&[0u8, 34, 200][..])),
            "b\"\\x00\\\"\\xc8\""
        );
    }

    #[test]
    fn slices_and_conversions_keep_the_bytes() {
        let long: Vec<u8> = (0..100).collect();
        let b = Binary::from(long.clone());
        assert!(!b.is_inline());
        assert_eq!(b.slice(10..20), long[10..20]);
        assert!(b.slice(10..20).is_inline());
        assert_eq!(b.slice(50..), long[50..]);
        assert!(!b.slice(50..).is_inline());
        let s = Binary::from("hello");
        assert_eq!(s.slice(1..=3), "ell");
        assert_eq!(s.slice(..), "hello");
        assert_eq!(s.to_bytes(), Bytes::from_static(b"hello"));
        assert_eq!(Bytes::from(b.clone()), Bytes::from(long));
        assert_eq!(Binary::from(String::from("x")), "x");
    }
}
