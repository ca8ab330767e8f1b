//! Decoder: External Term Format bytes -> `Term`: public API (`decode`, `Decoder`, `Limits`) and
//! the cursor's primitive readers; `leaf.rs` decodes scalars, `descent.rs` shallow containers by
//! recursion, `frames.rs` deep ones with an explicit stack. Total on any input: no recursion on nesting
//! (an explicit frame stack, bounded by `Limits::max_depth`), no panics, and every allocation is
//! justified by bytes actually present. Binaries longer than `Binary::INLINE` bytes are zero-copy
//! `Bytes` slices of the input; shorter ones are held inline in the term.

use crate::atom::{Atom, AtomError, DecodeAtomError, DEFAULT_ATOM_LIMIT};
use crate::binary::Binary;
use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::tag::*;
use crate::term::Term;
use bytes::Bytes;
use std::mem::MaybeUninit;

pub(crate) mod descent;
mod frames;
mod leaf;
#[cfg(test)]
mod tests;

use frames::Frame;

/// Bounds applied while decoding untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of tuples/lists/maps (list *tails* do not count, so long lists are fine).
    /// 1024 is far above anything OTP itself sends (gen_call/global messages nest < 10 deep)
    /// and keeps the decoder's frame stack small. The decoder recurses natively only 16 levels
    /// (then uses a heap stack), so a larger value is safe for decoding, but dropping (which is
    /// recursive) such a term uses native stack proportional to its depth.
    pub max_depth: usize,
    /// The decoder refuses to create a new atom when the global table already holds this many
    /// (defaults to the table's own bound). Lets tests and cautious callers exercise "table full".
    pub max_atoms: usize,
    /// Binaries of at most this many bytes are copied out of the input rather than sliced
    /// from it (0, the default: every binary longer than `Binary::INLINE`, which is always
    /// held inline, is a zero-copy slice). BEAM copies binaries of up to 64 bytes into the
    /// receiving process (heap binaries); for the same reason the distribution's receive path
    /// sets 64: a small copy costs less than sharing the input's reference count with
    /// whichever thread ends up holding the term, and an input no term points into can be
    /// reused for the next read.
    pub copy_binaries_up_to: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 1024,
            max_atoms: DEFAULT_ATOM_LIMIT,
            copy_binaries_up_to: 0,
        }
    }
}

/// Initial capacity cap for containers: containers grow as elements actually arrive, so a
/// deep stack of containers each declaring a huge arity cannot reserve memory up front.
const MAX_PREALLOC: usize = 64;

/// Module atom of an encoded fun (NEW_FUN_EXT: at byte 30).
pub(crate) fn fun_module(raw: &Bytes) -> Option<Atom> {
    let sub = raw.slice(30.min(raw.len())..);
    // Bound before returning: as the block's tail expression, the cursor (which borrows `sub`)
    // would be dropped after `sub`.
    let atom = Cursor::new(&sub, 0, Limits::default()).atom().ok();
    atom
}

/// A primitive read ran past the end of the input.
struct Eof;

impl From<Eof> for DecodeError {
    #[cold]
    fn from(_: Eof) -> DecodeError {
        // The offset is filled in by `Cursor::term` (see `fix_offset`).
        DecodeError::new(usize::MAX, K::UnexpectedEof)
    }
}

/// Sequential reader over one `Bytes` holding one or more `131`-prefixed terms.
pub struct Decoder {
    input: Bytes,
    pos: usize,
    limits: Limits,
}

/// Decode one `131`-prefixed term that must span all of `input`.
#[inline]
pub fn decode(input: &Bytes) -> Result<Term, DecodeError> {
    decode_with_limits(input, Limits::default())
}

/// `decode` with explicit limits. Inlined, so that limits known to the caller are constants
/// (a `Limits` passed by reference was reloaded wider than the caller stored it).
#[inline(always)]
pub fn decode_with_limits(input: &Bytes, limits: Limits) -> Result<Term, DecodeError> {
    let mut c = Cursor::new(input, 0, limits);
    // Built in place and returned as is (moving the `Result<Term>` around cost more than
    // decoding a small term).
    let r = c.external();
    if r.is_ok() && c.pos != input.len() {
        return Err(c.trailing());
    }
    r
}

/// One term at `pos` of `input`, and the offset just after it: after a version byte when
/// `external`, else without one, as after a distribution header whose ATOM_CACHE_REF `i` is
/// `refs[i]`. Error offsets count from the start of `input`. Unlike a `Decoder`, this takes no
/// handle on `input` (the receive path reads every payload this way: one reference count less
/// per message; the term's binaries are still slices of `input`).
pub fn decode_at(
    input: &Bytes,
    pos: usize,
    external: bool,
    refs: &[Atom],
    limits: Limits,
) -> Result<(Term, usize), DecodeError> {
    let mut c = Cursor::new(input, pos, limits);
    c.refs = refs;
    let t = if external { c.external()? } else { c.term()? };
    Ok((t, c.pos))
}

/// `decode_at` over `input[..end]`, writing the term into `out` where it lies: `Some(term)` on
/// success, `None` on error. The receive path decodes each payload straight into the message
/// it delivers: a `Term` handed back through `Result`s and copied into place was reloaded
/// wider than it was stored, a store-forwarding stall per copy that cost a fifth of a
/// receiving node's time. `end` lets one buffer hold many packets (a `Bytes` per packet cost
/// two atomic operations per message); the term's `Bytes` are still slices of `input`.
///
/// # Panics
/// If `end > input.len()`.
#[inline]
pub fn decode_at_into(
    input: &Bytes,
    pos: usize,
    end: usize,
    external: bool,
    refs: &[Atom],
    limits: Limits,
    out: &mut Option<Term>,
) -> Result<usize, DecodeError> {
    let mut c = Cursor::bounded(input, end, pos, limits);
    c.refs = refs;
    let out: *mut Option<Term> = out;
    // The placeholder, an empty list, owns nothing: the decoder overwrites it without a drop.
    // SAFETY: `out` comes from a live `&mut`, used only through this pointer from here on.
    let slot: *mut Term = unsafe { (*out).insert(Term::List(Vec::new())) };
    // Unless the decoder returns Ok, the slot holds no live term (the placeholder, or a
    // container the decoder built there and dropped again): it becomes `None` without a drop,
    // also should the decoder unwind.
    let unwritten = Unwritten(out);
    // SAFETY: `slot` is valid for a write of one `Term` and what it holds needs no drop.
    let r = unsafe {
        if external {
            c.external_into(slot)
        } else {
            c.term_into(slot)
        }
    };
    if r.is_ok() {
        std::mem::forget(unwritten);
    }
    r.map(|()| c.pos)
}

/// A slot whose term was not written: set to `None` over whatever it holds, without a drop.
struct Unwritten(*mut Option<Term>);

impl Drop for Unwritten {
    fn drop(&mut self) {
        // SAFETY: the slot is valid for writes; what it holds is dead (see `decode_at_into`).
        unsafe { std::ptr::write(self.0, None) }
    }
}

impl Decoder {
    pub fn new(input: Bytes) -> Self {
        Self::with_limits(input, Limits::default())
    }

    pub fn with_limits(input: Bytes, limits: Limits) -> Self {
        Decoder {
            input,
            pos: 0,
            limits,
        }
    }

    /// Reads `131` followed by one term. On error the position is left where it was.
    pub fn decode_external(&mut self) -> Result<Term, DecodeError> {
        self.read(true, &[])
    }

    /// Reads one term without the version byte that follows a distribution header whose
    /// atom cache references resolve to `refs` (ATOM_CACHE_REF `i` is `refs[i]`).
    pub fn decode_term_with_atom_refs(&mut self, refs: &[Atom]) -> Result<Term, DecodeError> {
        self.read(false, refs)
    }

    /// Reads one term without the version byte (terms after a distribution header).
    pub fn decode_term(&mut self) -> Result<Term, DecodeError> {
        self.read(false, &[])
    }

    /// `decode_at` from the current position, which moves past the term only on success.
    fn read(&mut self, external: bool, refs: &[Atom]) -> Result<Term, DecodeError> {
        let (t, end) = decode_at(&self.input, self.pos, external, refs, self.limits)?;
        self.pos = end;
        Ok(t)
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    pub fn rest(&self) -> Bytes {
        self.input.slice(self.pos.min(self.input.len())..)
    }
}

thread_local! {
    /// A per-thread frame stack, reused across decodes so decoding a small term does not
    /// allocate one (it is taken out while in use, so re-entrancy just allocates a fresh one).
    static FRAMES: std::cell::Cell<Vec<Frame>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The decoding state over a borrowed input (no refcount traffic for the input itself).
struct Cursor<'a> {
    /// What the term's `Bytes` are slices of.
    input: &'a Bytes,
    /// The bytes the term may occupy: `input` up to the end the caller gave.
    data: &'a [u8],
    pos: usize,
    limits: Limits,
    /// The atoms of the distribution header the term follows (ATOM_CACHE_REF indexes them);
    /// empty for a plain external term.
    refs: &'a [Atom],
    /// Frames for deep nesting (`frames.rs`); empty, unallocated, unless a subtree is nested
    /// deeper than the recursive descent goes. `ManuallyDrop` so the common case's drop is one
    /// inlined test.
    stack: std::mem::ManuallyDrop<Vec<Frame>>,
}

impl Drop for Cursor<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.stack.capacity() != 0 {
            self.release_stack();
        }
    }
}

impl Cursor<'_> {
    /// Give a stack we borrowed back for reuse (small ones only; an error may have left
    /// frames behind, so clear it), or free it.
    #[cold]
    fn release_stack(&mut self) {
        let mut stack = std::mem::take(&mut *self.stack);
        if stack.capacity() <= 256 {
            stack.clear();
            FRAMES.with(|f| f.set(stack));
        }
    }
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn new(input: &'a Bytes, pos: usize, limits: Limits) -> Cursor<'a> {
        Self::bounded(input, input.len(), pos, limits)
    }

    /// A cursor over `input[..end]` (`end` at most `input.len()`). Inlined, so that limits
    /// the caller knows are constants (a `Limits` built by the caller and copied in here was
    /// reloaded wider than it was stored: a stall per packet).
    #[inline(always)]
    fn bounded(input: &'a Bytes, end: usize, pos: usize, limits: Limits) -> Cursor<'a> {
        Cursor {
            input,
            data: &input[..end],
            pos,
            limits,
            refs: &[],
            stack: std::mem::ManuallyDrop::new(Vec::new()),
        }
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    #[cold]
    fn trailing(&self) -> DecodeError {
        DecodeError::new(self.pos, K::Trailing(self.remaining()))
    }

    /// ATOM_CACHE_REF (tag at `at`): the header atom its index names.
    fn atom_ref(&mut self, at: usize) -> Result<Atom, DecodeError> {
        cached_atom(self.refs, self.u8()?, at)
    }

    /// `131` followed by one term.
    #[inline(always)]
    fn external(&mut self) -> Result<Term, DecodeError> {
        let mut t = MaybeUninit::<Term>::uninit();
        // SAFETY: `t` is valid for a write; `external_into` returned Ok, so it wrote it.
        unsafe {
            self.external_into(t.as_mut_ptr())?;
            Ok(t.assume_init())
        }
    }

    /// `external`, written into `slot` exactly when it returns Ok.
    ///
    /// # Safety
    /// `slot` must be valid for a write of one `Term`; it is not read or dropped.
    #[inline(always)]
    unsafe fn external_into(&mut self, slot: *mut Term) -> Result<(), DecodeError> {
        let v = self
            .u8()
            .map_err(|_| DecodeError::new(self.pos, K::UnexpectedEof))?;
        if v != VERSION {
            return Err(DecodeError::new(self.pos - 1, K::BadVersion(v)));
        }
        if self.peek() == Some(LOCAL_EXT) {
            // LOCAL_EXT (OTP 26 `term_to_binary(T, [local])`) is only meaningful to the runtime
            // that made it and its length is not self-describing without decoding node-local
            // encodings, so it is carried opaquely as the rest of the input.
            slot.write(Term::Local(self.input.slice(self.pos..self.data.len())));
            self.pos = self.data.len();
            return Ok(());
        }
        self.term_into(slot)
    }

    #[inline(always)]
    fn term(&mut self) -> Result<Term, DecodeError> {
        let mut t = MaybeUninit::<Term>::uninit();
        // SAFETY: `t` is valid for a write; `term_into` returned Ok, so it wrote it.
        unsafe {
            self.term_into(t.as_mut_ptr())?;
            Ok(t.assume_init())
        }
    }

    /// One term into `slot`, written exactly when this returns Ok.
    ///
    /// # Safety
    /// As `external_into`.
    #[inline(always)]
    unsafe fn term_into(&mut self, slot: *mut Term) -> Result<(), DecodeError> {
        let base = self.stack.len();
        match self.value_at(0, slot) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.stack.truncate(base);
                Err(self.fix_offset(e))
            }
        }
    }

    /// Fill in the offset of an error that came from a primitive reader (`Eof`).
    #[cold]
    fn fix_offset(&self, mut e: DecodeError) -> DecodeError {
        if e.offset == usize::MAX {
            e.offset = self.pos;
        }
        e
    }

    // ---- primitive readers -------------------------------------------------------------
    // They fail with the zero-sized `Eof`, not a `DecodeError`: a small `Result` stays in
    // registers (a 24-byte `Result<u8, DecodeError>` went through memory and cost more than the
    // read). `Eof` converts to an UnexpectedEof error whose offset `term()` fills in with the
    // position of the failed read (readers do not advance on failure).

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Eof> {
        let data: &'a [u8] = self.data;
        let end = self.pos.checked_add(n).ok_or(Eof)?;
        match data.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(Eof),
        }
    }

    /// `n` bytes as a `Bytes` (bit-binaries, funs): a slice of the input, or a copy when
    /// `copy_binaries_up_to` asks for one.
    #[inline(always)]
    fn take_bytes(&mut self, n: usize) -> Result<Bytes, Eof> {
        let start = self.pos;
        self.take(n)?;
        Ok(self.bytes_at(start, n))
    }

    /// The `n` bytes at `start` (already taken) as a `Bytes`.
    #[inline(always)]
    fn bytes_at(&self, start: usize, n: usize) -> Bytes {
        if n <= self.limits.copy_binaries_up_to {
            return Bytes::copy_from_slice(&self.data[start..start + n]);
        }
        self.input.slice(start..start + n)
    }

    /// The body of a binary of `n` bytes as a `Binary`: inline when short, else as
    /// `take_bytes`.
    #[inline(always)]
    fn take_binary(&mut self, n: usize) -> Result<Binary, Eof> {
        let s = self.take(n)?;
        if n <= Binary::INLINE {
            return Ok(Binary::copy_from_slice(s));
        }
        Ok(Binary::from(self.bytes_at(self.pos - n, n)))
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, Eof> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(Eof),
        }
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Eof> {
        let s = self.take(N)?;
        let mut w = [0u8; N];
        w.copy_from_slice(s);
        Ok(w)
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, Eof> {
        self.array().map(u16::from_be_bytes)
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, Eof> {
        self.array().map(u32::from_be_bytes)
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, Eof> {
        self.array().map(u64::from_be_bytes)
    }

    /// Fails early when `count` items of at least `min_size` bytes each cannot fit in what is left.
    fn check_fits(&self, count: usize, min_size: usize, at: usize) -> Result<(), DecodeError> {
        match count.checked_mul(min_size) {
            Some(n) if n <= self.remaining() => Ok(()),
            _ => Err(DecodeError::new(at, K::UnexpectedEof)),
        }
    }

    // ---- atoms -------------------------------------------------------------------------

    /// Atom body after its tag: UTF-8 (118/119) or Latin-1 (100/115).
    #[inline(always)]
    fn atom_body(&mut self, tag: u8, at: usize) -> Result<Atom, DecodeError> {
        let len = match tag {
            SMALL_ATOM_UTF8_EXT | SMALL_ATOM_EXT => self.u8()? as usize,
            _ => self.u16()? as usize,
        };
        let bytes = self.take(len)?;
        wire_atom(bytes, tag, at, self.limits.max_atoms)
    }

    /// An atom term where the format requires one (node names, export fields).
    #[inline(always)]
    fn atom(&mut self) -> Result<Atom, DecodeError> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT | ATOM_EXT | SMALL_ATOM_EXT => {
                self.atom_body(tag, at)
            }
            ATOM_CACHE_REF => self.atom_ref(at),
            _ => Err(DecodeError::new(at, K::Malformed)),
        }
    }
}

/// The atom ATOM_CACHE_REF `i` (its tag at `at`) names among a distribution header's `refs`.
/// Hot: a BEAM peer names most atoms of its messages this way.
#[inline(always)]
pub(crate) fn cached_atom(refs: &[Atom], i: u8, at: usize) -> Result<Atom, DecodeError> {
    match refs.get(i as usize) {
        Some(a) => Ok(*a),
        None => Err(DecodeError::new(at, K::AtomCacheRef)),
    }
}

/// A one-byte creation of the old pid, port and reference formats (PID_EXT, PORT_EXT,
/// REFERENCE_EXT, NEW_REFERENCE_EXT): OTP 25 takes only 0-3, the two bits those formats had
/// (checked with erl: 4 is badarg). Shared with the view decoder; `at` is the term's tag.
pub(crate) fn old_creation(c: u8, at: usize) -> Result<u32, DecodeError> {
    if c > 3 {
        return Err(DecodeError::new(at, K::Malformed));
    }
    Ok(u32::from(c))
}

/// The first word of an old-format reference (REFERENCE_EXT, NEW_REFERENCE_EXT), which OTP 25
/// takes only up to 18 bits (checked with erl: 0x3FFFF decodes, 0x40000 is badarg).
pub(crate) fn old_ref_first_word(w: u32, at: usize) -> Result<(), DecodeError> {
    if w > 0x3ffff {
        return Err(DecodeError::new(at, K::Malformed));
    }
    Ok(())
}

/// Whether two of `keys` are exactly equal (`=:=`, which is `Term`'s `==` and its `Ord`): a
/// map that `binary_to_term` refuses. Sorted, then neighbours compared.
pub(crate) fn repeated_key(keys: &mut [&Term]) -> bool {
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// The value of a FLOAT_EXT's 31-byte text field, as erts's `sys_chars_to_double` reads it
/// (shared with the view decoder): up to the first NUL, exactly `[+-]digits(.|,)digits`,
/// optionally `(e|E)[+-]digits`, and finite. Anything else (spaces, no decimal point, an
/// overflow to infinity) is not a float.
pub(crate) fn old_float_text(field: &[u8]) -> Option<f64> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let s = &field[..end];
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if matches!(s.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !digits(&mut i) || !matches!(s.get(i), Some(b'.' | b',')) {
        return None;
    }
    let point = i;
    i += 1;
    if !digits(&mut i) {
        return None;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != s.len() {
        return None;
    }
    let mut text = s.to_vec();
    text[point] = b'.';
    let f: f64 = std::str::from_utf8(&text).ok()?.parse().ok()?;
    f.is_finite().then_some(f)
}

/// An atom body as read after its tag (at `at`): both decoders' atom path. Hot path: UTF-8
/// bytes (for Latin-1 tags only when ASCII, where Latin-1 and UTF-8 coincide) go to the
/// per-thread atom cache, then to the table (bounded by `max_atoms`).
#[inline(always)]
pub(crate) fn wire_atom(
    bytes: &[u8],
    tag: u8,
    at: usize,
    max_atoms: usize,
) -> Result<Atom, DecodeError> {
    let latin1 = tag == ATOM_EXT || tag == SMALL_ATOM_EXT;
    match Atom::from_wire_bounded(bytes, latin1, max_atoms) {
        Ok(Some(a)) => Ok(a),
        Ok(None) => latin1_atom(bytes, at, max_atoms),
        Err(e) => Err(atom_error(e, at)),
    }
}

/// An atom-table failure as a decode error at `at` (shared with the view decoder).
#[cold]
pub(crate) fn atom_error(e: DecodeAtomError, at: usize) -> DecodeError {
    DecodeError::new(
        at,
        match e {
            DecodeAtomError::BadUtf8 => K::BadAtomUtf8,
            DecodeAtomError::Atom(AtomError::TableFull) => K::AtomTableFull,
            DecodeAtomError::Atom(AtomError::TooLong) => K::AtomTooLong,
        },
    )
}

/// A Latin-1 atom with characters above 127: converted to UTF-8 on the stack, then interned
/// (bounded by `max_atoms`). Shared with the view decoder so both fail identically.
#[cold]
pub(crate) fn latin1_atom(bytes: &[u8], at: usize, max_atoms: usize) -> Result<Atom, DecodeError> {
    if bytes.len() > 255 {
        return Err(DecodeError::new(at, K::AtomTooLong));
    }
    // Latin-1 -> UTF-8 in a stack buffer (each byte becomes at most 2 bytes).
    let mut buf = [0u8; 512];
    let mut n = 0;
    for &b in bytes {
        n += char::from(b).encode_utf8(&mut buf[n..]).len();
    }
    let s = std::str::from_utf8(&buf[..n]).map_err(|_| DecodeError::new(at, K::BadAtomUtf8))?;
    Atom::try_new_bounded(s, max_atoms).map_err(|e| atom_error(DecodeAtomError::Atom(e), at))
}
