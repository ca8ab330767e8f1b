//! The atom intern table: a bounded, append-only, process-global table mapping atom text to a
//! small index (`Atom`), so atoms compare and hash as a `u32` and are never freed (like BEAM).
//!
//! Concurrency design (why it looks like this):
//! - index -> text (`Atom::as_str`, used by printing, encoding and term order) is lock-free: slots
//!   live in fixed-size segments allocated on demand; a segment pointer and a slot are each an
//!   `AtomicPtr` (null until set), so reading is two acquire loads (plain loads on x86) and two
//!   null checks. Slots are written once, before the index is published. The global table's
//!   segment pointers are a plain static, so `Atom` reads them without the table's `LazyLock`
//!   check; each entry also holds its encodings padded to 16 bytes, which the encoder copies
//!   with one move.
//! - text -> index (every atom decoded off the wire, the hot path) goes through 64 shards, each a
//!   `RwLock<HashMap<&'static str, u32>>` chosen by an FxHash of the text. Existing atoms (the
//!   overwhelmingly common case) only take a shard *read* lock, which readers share, and different
//!   atoms usually hit different shards, so threads do not serialise on one mutex. The lookup takes
//!   a borrowed `&str` straight from the decoder input: no allocation unless the atom is new.
//!   In front of that, the decoder consults a per-thread 512-slot cache (the atom's bytes, held
//!   as two words, -> index), so hot atoms cost a hash and three compares, with no
//!   shared-memory writes.
//! - The table is bounded (default 1_048_576 atoms, BEAM's default): a peer sending endless fresh
//!   atoms gets `AtomError::TableFull`, not an out-of-memory node.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{LazyLock, RwLock};

/// BEAM's default atom table size.
pub const DEFAULT_ATOM_LIMIT: usize = 1_048_576;
/// Maximum atom length in characters (BEAM's limit).
pub const MAX_ATOM_CHARS: usize = 255;

const SEGMENT_BITS: u32 = 12;
const SEGMENT_SIZE: usize = 1 << SEGMENT_BITS;
const SEGMENTS: usize = DEFAULT_ATOM_LIMIT / SEGMENT_SIZE;
const SHARDS: usize = 64;

/// Why an atom could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AtomError {
    #[error("atom table full")]
    TableFull,
    #[error("atom longer than 255 characters")]
    TooLong,
}

/// Why the decoder could not make an atom from raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeAtomError {
    BadUtf8,
    Atom(AtomError),
}

/// An interned atom. Copy, compares and hashes by index. Atom order (term order) is by text:
/// see `order.rs`.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Atom(u32);

/// Small, fast, non-DoS-resistant hasher (rustc's FxHash). Acceptable because the table is bounded
/// and sharded: a collision attack can only slow down the one shard's lookups.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let r = chunks.remainder();
        if !r.is_empty() {
            let mut w = [0u8; 8];
            w[..r.len()].copy_from_slice(r);
            self.add(u64::from_le_bytes(w) ^ (r.len() as u64) << 56);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

#[inline]
fn fx_hash(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

type Shard = RwLock<HashMap<&'static str, u32, BuildHasherDefault<FxHasher>>>;
/// A segment of slots; a slot is null until its atom's (leaked, immutable) entry is published.
type Segment = [AtomicPtr<AtomEntry>; SEGMENT_SIZE];
type Segments = [AtomicPtr<Segment>; SEGMENTS];

#[allow(clippy::declare_interior_mutable_const)] // a fresh array's initialiser, copied each time
const NO_SEGMENTS: Segments = [const { AtomicPtr::new(null_mut()) }; SEGMENTS];

/// The global table's segment pointers, a plain static so that `Atom::as_str`/`external` read
/// them without first checking that the table's `LazyLock` ran (see `global_entry`).
static GLOBAL_SEGMENTS: Segments = NO_SEGMENTS;

/// What the table keeps per atom: its text and its two external encodings, precomputed once so
/// the encoder writes an atom with a single copy (no per-encode UTF-8/Latin-1 analysis).
pub(crate) struct AtomEntry {
    pub(crate) text: &'static str,
    /// As OTP 25 `term_to_binary/1` writes it: ATOM_EXT when every char is Latin-1, else UTF-8.
    pub(crate) t2b: &'static [u8],
    /// As written on distribution connections (UTF8_ATOMS): SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT.
    pub(crate) dist: &'static [u8],
    /// `t2b` and `dist` zero-padded to 16 bytes when they fit (most atoms): the encoder copies
    /// them with one 16-byte move, whatever their length.
    pub(crate) t2b16: [u8; 16],
    pub(crate) dist16: [u8; 16],
}

/// `b` zero-padded to 16 bytes (zeros if it is longer: then unused).
const fn pad16(b: &[u8]) -> [u8; 16] {
    let mut w = [0u8; 16];
    if b.len() <= 16 {
        let mut i = 0;
        while i < b.len() {
            w[i] = b[i];
            i += 1;
        }
    }
    w
}

fn utf8_ext(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut v = Vec::with_capacity(b.len() + 3);
    if b.len() <= 255 {
        v.push(119); // SMALL_ATOM_UTF8_EXT
        v.push(b.len() as u8);
    } else {
        v.push(118); // ATOM_UTF8_EXT
        v.extend_from_slice(&(b.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(b);
    v
}

/// ATOM_EXT; only for atoms whose characters are all Latin-1.
fn latin1_ext(s: &str) -> Vec<u8> {
    let n = s.chars().count();
    let mut v = Vec::with_capacity(n + 3);
    v.push(100); // ATOM_EXT
    v.extend_from_slice(&(n as u16).to_be_bytes());
    v.extend(s.chars().map(|c| c as u32 as u8));
    v
}

impl AtomEntry {
    fn leak(text: &'static str) -> &'static AtomEntry {
        let dist: &'static [u8] = Box::leak(utf8_ext(text).into_boxed_slice());
        let t2b: &'static [u8] = if text.chars().all(|c| (c as u32) < 256) {
            Box::leak(latin1_ext(text).into_boxed_slice())
        } else {
            dist
        };
        Box::leak(Box::new(AtomEntry {
            text,
            t2b,
            dist,
            t2b16: pad16(t2b),
            dist16: pad16(dist),
        }))
    }
}

/// A bounded intern table. The process uses one global instance (behind `Atom`); separate
/// instances exist only so tests can exercise the "table full" path on a tiny table.
pub struct AtomTable {
    limit: u32,
    next: AtomicU32,
    /// `SEGMENTS` pointers, each null or a `Box<Segment>` owned by the table: the global
    /// table's are the static `GLOBAL_SEGMENTS` (read by `Atom` without going through the
    /// table's `LazyLock`), another table's a leaked-and-reclaimed `Box` (`owned`).
    segments: &'static Segments,
    owned: bool,
    shards: Box<[Shard]>,
}

impl Drop for AtomTable {
    fn drop(&mut self) {
        if !self.owned {
            return; // the global table's static segments (never dropped in practice)
        }
        for seg in self.segments.iter() {
            let p = seg.swap(null_mut(), Ordering::AcqRel);
            if !p.is_null() {
                // SAFETY: non-null segment pointers come from `Box::into_raw` in `segment`
                // and are freed only here, once, when the table is gone.
                drop(unsafe { Box::from_raw(p) });
            }
        }
        // SAFETY: an owned array came from `Box::leak` in `with_limit` and is reachable only
        // through this table, which is being dropped.
        drop(unsafe { Box::from_raw(std::ptr::from_ref(self.segments).cast_mut()) });
    }
}

impl AtomTable {
    /// A table holding at most `limit` atoms (clamped to `DEFAULT_ATOM_LIMIT`).
    pub fn with_limit(limit: usize) -> AtomTable {
        AtomTable::new(limit, Box::leak(Box::new(NO_SEGMENTS)), true)
    }

    fn new(limit: usize, segments: &'static Segments, owned: bool) -> AtomTable {
        AtomTable {
            limit: limit.min(DEFAULT_ATOM_LIMIT) as u32,
            next: AtomicU32::new(0),
            segments,
            owned,
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::default()))
                .collect(),
        }
    }

    /// Number of atoms in the table.
    pub fn len(&self) -> usize {
        (self.next.load(Ordering::Acquire).min(self.limit)) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// Look up without inserting.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        let shard = &self.shards[(fx_hash(s) as usize) % SHARDS];
        // A poisoned lock only means another thread panicked while holding it; the map is
        // still consistent (inserts are single operations), so keep going.
        let map = shard.read().unwrap_or_else(|e| e.into_inner());
        map.get(s).copied()
    }

    /// Intern `s`, creating it if new. `soft_limit` lets a caller (a decoder with `Limits`)
    /// refuse to grow the table beyond a lower bound than the table's own.
    pub fn intern(&self, s: &str, soft_limit: usize) -> Result<u32, AtomError> {
        if s.len() > MAX_ATOM_CHARS && s.chars().count() > MAX_ATOM_CHARS {
            return Err(AtomError::TooLong);
        }
        let shard = &self.shards[(fx_hash(s) as usize) % SHARDS];
        {
            let map = shard.read().unwrap_or_else(|e| e.into_inner());
            if let Some(&i) = map.get(s) {
                return Ok(i);
            }
        }
        let mut map = shard.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = map.get(s) {
            return Ok(i);
        }
        let cap = self.limit.min(soft_limit.min(u32::MAX as usize) as u32);
        let idx = self
            .next
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                if n < cap {
                    Some(n + 1)
                } else {
                    None
                }
            })
            .map_err(|_| AtomError::TableFull)?;
        let text: &'static str = Box::leak(s.to_owned().into_boxed_str());
        let entry: *const AtomEntry = AtomEntry::leak(text);
        // The slot is fresh (indices are handed out once); publish the entry before the index.
        self.segment(idx)[(idx as usize) & (SEGMENT_SIZE - 1)]
            .store(entry.cast_mut(), Ordering::Release);
        map.insert(text, idx);
        Ok(idx)
    }

    /// The segment holding `idx`, allocated if this is its first atom (two shards may race to
    /// do so: one wins, the other frees its copy).
    fn segment(&self, idx: u32) -> &Segment {
        let cell = &self.segments[(idx >> SEGMENT_BITS) as usize];
        let mut p = cell.load(Ordering::Acquire);
        if p.is_null() {
            let fresh: Box<Segment> = (0..SEGMENT_SIZE)
                .map(|_| AtomicPtr::new(null_mut()))
                .collect::<Vec<_>>()
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("SEGMENT_SIZE slots"));
            let fresh = Box::into_raw(fresh);
            p = match cell.compare_exchange(null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => fresh,
                Err(existing) => {
                    // SAFETY: `fresh` came from `Box::into_raw` above and was never shared.
                    drop(unsafe { Box::from_raw(fresh) });
                    existing
                }
            };
        }
        // SAFETY: `p` is non-null, from `Box::into_raw`, and freed only by `Drop`.
        unsafe { &*p }
    }

    /// Text of an index; lock-free.
    #[inline]
    pub fn get(&self, idx: u32) -> Option<&'static str> {
        self.entry(idx).map(|e| e.text)
    }

    #[inline(always)]
    pub(crate) fn entry(&self, idx: u32) -> Option<&'static AtomEntry> {
        let seg = self
            .segments
            .get((idx >> SEGMENT_BITS) as usize)?
            .load(Ordering::Acquire);
        if seg.is_null() {
            return None;
        }
        // SAFETY: a non-null segment pointer is a live `Box<Segment>` owned by the table.
        let e = unsafe { &*seg }[(idx as usize) & (SEGMENT_SIZE - 1)].load(Ordering::Acquire);
        // SAFETY: a non-null slot points to a leaked (so `'static`), never-mutated entry,
        // fully written before its pointer was published (release store in `intern`).
        (!e.is_null()).then(|| unsafe { &*e })
    }
}

/// Predefined atoms, interned first so their indices are fixed and usable as constants.
const PREDEFINED: &[&str] = &[
    "",
    "true",
    "false",
    "undefined",
    "ok",
    "error",
    "nil",
    "normal",
    "kill",
    "killed",
    "noproc",
    "noconnection",
    "EXIT",
    "DOWN",
    "process",
    "$gen_call",
    "$gen_cast",
    "nonode@nohost",
    "yes",
    "no",
    "alias",
    "badrpc",
    "undef",
    "throw",
];

const CACHE_SLOTS: usize = 512;
const CACHE_SHIFT: u32 = 64 - CACHE_SLOTS.trailing_zeros();

/// One slot of the per-thread decode cache: the atom's bytes as two words (see `key_words`),
/// and `meta` = atom index << 32 | (byte length + 1); 0 = empty slot.
#[derive(Clone, Copy)]
struct CacheEntry {
    lo: u64,
    hi: u64,
    meta: u64,
}

const EMPTY_ENTRY: CacheEntry = CacheEntry {
    lo: 0,
    hi: 0,
    meta: 0,
};

/// The bytes of `b` as two little-endian words: for up to 7 bytes, the bytes zero-padded and 0;
/// for 8..=16, the first and the last 8 bytes. With the length, they identify `b` exactly up
/// to 16 bytes, so a cache hit needs three integer compares, no memcmp; longer atoms are
/// verified against the table's text.
#[inline(always)]
fn key_words(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    if n >= 8 {
        let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        let t = &b[n - 8..];
        let hi = u64::from_le_bytes([t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]]);
        (lo, hi)
    } else if n >= 4 {
        let a = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let t = &b[n - 4..];
        let c = u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as u64;
        (a | c << ((n - 4) * 8), 0)
    } else if n > 0 {
        let m = n / 2;
        (
            b[0] as u64 | (b[m] as u64) << (m * 8) | (b[n - 1] as u64) << ((n - 1) * 8),
            0,
        )
    } else {
        (0, 0)
    }
}

#[inline(always)]
fn cache_slot(lo: u64, hi: u64, n: usize) -> usize {
    ((lo ^ hi.rotate_left(29) ^ n as u64).wrapping_mul(FX_K) >> CACHE_SHIFT) as usize
}

thread_local! {
    /// Per-thread direct-mapped cache of recently decoded atoms (raw UTF-8 bytes -> index).
    /// Thread-local, so a hit costs no atomics, no locks and no shared-memory writes.
    static CACHE: [Cell<CacheEntry>; CACHE_SLOTS] = const { [const { Cell::new(EMPTY_ENTRY) }; CACHE_SLOTS] };
}

/// Probe this thread's cache for the atom whose UTF-8 bytes are `bytes`.
#[inline(always)]
fn cache_probe(bytes: &[u8]) -> (usize, Option<Atom>) {
    let (lo, hi) = key_words(bytes);
    cache_probe_words(bytes, lo, hi)
}

#[inline(always)]
fn cache_probe_words(bytes: &[u8], lo: u64, hi: u64) -> (usize, Option<Atom>) {
    let n = bytes.len();
    let slot = cache_slot(lo, hi, n);
    let e = CACHE.with(|c| c[slot].get());
    if e.lo == lo && e.hi == hi && e.meta as u32 as usize == n + 1 {
        let a = Atom((e.meta >> 32) as u32);
        if n <= 16 || a.as_str().as_bytes() == bytes {
            return (slot, Some(a));
        }
    }
    (slot, None)
}

#[inline]
fn cache_store(slot: usize, bytes: &[u8], a: Atom) {
    let n = bytes.len();
    let (lo, hi) = key_words(bytes);
    let meta = (a.0 as u64) << 32 | (n as u64 + 1);
    CACHE.with(|c| c[slot].set(CacheEntry { lo, hi, meta }));
}

static TABLE: LazyLock<AtomTable> = LazyLock::new(|| {
    let t = AtomTable::new(DEFAULT_ATOM_LIMIT, &GLOBAL_SEGMENTS, false);
    for s in PREDEFINED {
        // Cannot fail: the table is empty and the names are short.
        let _ = t.intern(s, DEFAULT_ATOM_LIMIT);
    }
    t
});

/// The global table (exposed for statistics: `atom_table().len()`).
pub fn atom_table() -> &'static AtomTable {
    &TABLE
}

impl Atom {
    pub const EMPTY: Atom = Atom(0);
    pub const TRUE: Atom = Atom(1);
    pub const FALSE: Atom = Atom(2);
    pub const UNDEFINED: Atom = Atom(3);
    pub const OK: Atom = Atom(4);
    pub const ERROR: Atom = Atom(5);
    pub const NIL: Atom = Atom(6);
    pub const NORMAL: Atom = Atom(7);
    pub const KILL: Atom = Atom(8);
    pub const KILLED: Atom = Atom(9);
    pub const NOPROC: Atom = Atom(10);
    pub const NOCONNECTION: Atom = Atom(11);
    pub const EXIT: Atom = Atom(12);
    pub const DOWN: Atom = Atom(13);
    pub const PROCESS: Atom = Atom(14);
    pub const GEN_CALL: Atom = Atom(15);
    pub const GEN_CAST: Atom = Atom(16);
    pub const NONODE_AT_NOHOST: Atom = Atom(17);
    pub const YES: Atom = Atom(18);
    pub const NO: Atom = Atom(19);
    pub const ALIAS: Atom = Atom(20);
    pub const BADRPC: Atom = Atom(21);
    pub const UNDEF: Atom = Atom(22);
    pub const THROW: Atom = Atom(23);

    /// Intern an atom from local code. Panics only if the table is full or `s` is longer than
    /// 255 characters, both programming errors for local code; use `try_new` for peer input.
    pub fn new(s: &str) -> Atom {
        match Atom::try_new(s) {
            Ok(a) => a,
            Err(e) => panic!("Atom::new({s:?}): {e}"),
        }
    }

    /// Intern an atom from untrusted input.
    pub fn try_new(s: &str) -> Result<Atom, AtomError> {
        TABLE.intern(s, DEFAULT_ATOM_LIMIT).map(Atom)
    }

    /// The decoder's fast path: an atom whose UTF-8 bytes are `bytes`, if this thread's cache
    /// holds it. Compares raw bytes, so the caller need not validate UTF-8 first (equal bytes to
    /// a stored atom are valid UTF-8 by construction).
    #[inline]
    pub fn cached(bytes: &[u8]) -> Option<Atom> {
        cache_probe(bytes).1
    }

    /// The decoder's atom path for a UTF-8 atom body (also a Latin-1 one that is pure ASCII):
    /// the per-thread cache, else validate, intern (bounded by `soft_limit`) and remember.
    #[inline]
    pub(crate) fn from_utf8_bounded(
        bytes: &[u8],
        soft_limit: usize,
    ) -> Result<Atom, DecodeAtomError> {
        let (slot, hit) = cache_probe(bytes);
        match hit {
            Some(a) => Ok(a),
            None => Self::intern_slow(slot, bytes, soft_limit),
        }
    }

    /// The decoder's atom path for an atom body as it came off the wire: UTF-8, or Latin-1
    /// when `latin1` (ATOM_EXT / SMALL_ATOM_EXT, what `term_to_binary` writes). `Ok(None)` for
    /// Latin-1 text with characters above 127, which must be converted first; pure ASCII is
    /// the same in both, and up to 16 bytes the cache's key words already tell.
    #[inline(always)]
    pub(crate) fn from_wire_bounded(
        bytes: &[u8],
        latin1: bool,
        soft_limit: usize,
    ) -> Result<Option<Atom>, DecodeAtomError> {
        let (lo, hi) = key_words(bytes);
        if latin1
            && if bytes.len() <= 16 {
                (lo | hi) & 0x8080_8080_8080_8080 != 0
            } else {
                !bytes.is_ascii()
            }
        {
            return Ok(None);
        }
        let (slot, hit) = cache_probe_words(bytes, lo, hi);
        match hit {
            Some(a) => Ok(Some(a)),
            None => Self::intern_slow(slot, bytes, soft_limit).map(Some),
        }
    }

    #[cold]
    #[inline(never)]
    fn intern_slow(slot: usize, bytes: &[u8], soft_limit: usize) -> Result<Atom, DecodeAtomError> {
        let s = std::str::from_utf8(bytes).map_err(|_| DecodeAtomError::BadUtf8)?;
        let a = Atom(TABLE.intern(s, soft_limit).map_err(DecodeAtomError::Atom)?);
        cache_store(slot, bytes, a);
        Ok(a)
    }

    /// Intern, refusing to grow the global table past `soft_limit` atoms (decoder `Limits`).
    /// This is the decoder's path, so it first tries a small per-thread cache (bytes -> index),
    /// which makes the common "atom already exists" case free of atomics and locks.
    #[inline]
    pub fn try_new_bounded(s: &str, soft_limit: usize) -> Result<Atom, AtomError> {
        match Self::from_utf8_bounded(s.as_bytes(), soft_limit) {
            Ok(a) => Ok(a),
            Err(DecodeAtomError::Atom(e)) => Err(e),
            // Unreachable: `s` is a `&str`.
            Err(DecodeAtomError::BadUtf8) => TABLE.intern(s, soft_limit).map(Atom),
        }
    }

    /// An existing atom, without creating one (like `binary_to_existing_atom`).
    pub fn existing(s: &str) -> Option<Atom> {
        TABLE.lookup(s).map(Atom)
    }

    /// The atom's text. Lock-free; atoms are never freed.
    #[inline]
    pub fn as_str(&self) -> &'static str {
        global_entry(self.0).text
    }

    pub fn index(self) -> u32 {
        self.0
    }

    /// The atom's complete external encoding (tag, length, text): as `term_to_binary/1` writes
    /// it, or with `dist` as a distribution connection does (always UTF-8).
    #[inline]
    pub fn external(self, dist: bool) -> &'static [u8] {
        let e = self.entry();
        if dist {
            e.dist
        } else {
            e.t2b
        }
    }

    /// The table's entry (text and encodings).
    #[inline(always)]
    pub(crate) fn entry(self) -> &'static AtomEntry {
        global_entry(self.0)
    }
}

/// The global table's entry for `idx`, read straight from `GLOBAL_SEGMENTS`: two loads and two
/// null checks, no `LazyLock` check and no bounds check (an index is below the table's limit,
/// and the mask keeps even a forged one in range). An `Atom` constant (`Atom::TRUE`) can be used
/// before anything touched the table: its slot is then still null and the slow path makes the
/// table, which interns the predefined atoms at their fixed indices.
#[inline(always)]
fn global_entry(idx: u32) -> &'static AtomEntry {
    let seg =
        GLOBAL_SEGMENTS[(idx >> SEGMENT_BITS) as usize & (SEGMENTS - 1)].load(Ordering::Acquire);
    if !seg.is_null() {
        // SAFETY: a non-null segment pointer is a live `Box<Segment>` the global table never
        // frees (the table is a static).
        let e = unsafe { &*seg }[(idx as usize) & (SEGMENT_SIZE - 1)].load(Ordering::Acquire);
        if !e.is_null() {
            // SAFETY: a non-null slot points to a leaked (so `'static`), never-mutated entry,
            // fully written before its pointer was published (release store in `intern`).
            return unsafe { &*e };
        }
    }
    global_entry_slow(idx)
}

#[cold]
#[inline(never)]
fn global_entry_slow(idx: u32) -> &'static AtomEntry {
    static EMPTY: AtomEntry = AtomEntry {
        text: "",
        t2b: &[115, 0],
        dist: &[119, 0],
        t2b16: pad16(&[115, 0]),
        dist16: pad16(&[119, 0]),
    };
    // Every `Atom` value came from the table, so after `TABLE` is made the slot is set; the
    // empty atom is a defensive fallback.
    TABLE.entry(idx).unwrap_or(&EMPTY)
}

impl From<&str> for Atom {
    fn from(s: &str) -> Atom {
        Atom::new(s)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atom({:?})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_indices() {
        for (i, s) in PREDEFINED.iter().enumerate() {
            assert_eq!(Atom::new(s).index(), i as u32, "{s}");
        }
        assert_eq!(Atom::GEN_CALL.as_str(), "$gen_call");
        assert_eq!(Atom::THROW.as_str(), "throw");
        assert_eq!(Atom::NONODE_AT_NOHOST.as_str(), "nonode@nohost");
    }

    #[test]
    fn intern_is_stable_and_utf8() {
        let a = Atom::new("héllo_wörld");
        assert_eq!(a, Atom::new("héllo_wörld"));
        assert_eq!(a.as_str(), "héllo_wörld");
        assert_eq!(Atom::existing("héllo_wörld"), Some(a));
    }

    #[test]
    fn too_long() {
        let s: String = "ä".repeat(255);
        assert!(Atom::try_new(&s).is_ok());
        let s: String = "ä".repeat(256);
        assert_eq!(Atom::try_new(&s), Err(AtomError::TooLong));
    }

    #[test]
    fn key_words_identify_short_atoms_exactly() {
        // Every length 0..=16: the words are the zero-padded bytes (below 8) or the first and
        // last 8 bytes, so two different byte strings of one length never share a key.
        let text = b"abcdefghijklmnopq";
        for n in 0..=16 {
            let (lo, hi) = key_words(&text[..n]);
            let mut pad = [0u8; 16];
            pad[..n].copy_from_slice(&text[..n]);
            if n < 8 {
                assert_eq!(lo, u64::from_le_bytes(pad[..8].try_into().unwrap()), "{n}");
                assert_eq!(hi, 0);
            } else {
                assert_eq!(lo, u64::from_le_bytes(text[..8].try_into().unwrap()));
                assert_eq!(hi, u64::from_le_bytes(text[n - 8..n].try_into().unwrap()));
            }
            for i in 0..n {
                let mut other = text[..n].to_vec();
                other[i] ^= 0x20;
                assert_ne!(key_words(&other), (lo, hi), "{n} {i}");
            }
        }
    }

    #[test]
    fn decode_cache_never_aliases() {
        // Long atoms with the same first and last 8 bytes share a key; the cache must check
        // the text. Every length up to 40, each looked up twice (miss, then hit).
        let a = "aaaaaaaa_middle_X_bbbbbbbb";
        let b = "aaaaaaaa_middle_Y_bbbbbbbb";
        for _ in 0..2 {
            let x = Atom::from_utf8_bounded(a.as_bytes(), DEFAULT_ATOM_LIMIT).unwrap();
            let y = Atom::from_utf8_bounded(b.as_bytes(), DEFAULT_ATOM_LIMIT).unwrap();
            assert_eq!(x.as_str(), a);
            assert_eq!(y.as_str(), b);
        }
        let s: String = (0..40).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        for n in 0..=40 {
            for _ in 0..2 {
                let t = &s[..n];
                let x = Atom::from_utf8_bounded(t.as_bytes(), DEFAULT_ATOM_LIMIT).unwrap();
                assert_eq!(x.as_str(), t);
                assert_eq!(Atom::cached(t.as_bytes()).map(|a| a.as_str()), Some(t));
            }
        }
        assert_eq!(
            Atom::from_utf8_bounded(&[0xff, 0xfe], DEFAULT_ATOM_LIMIT),
            Err(DecodeAtomError::BadUtf8)
        );
        // Latin-1 bodies: ASCII ones share the UTF-8 path, others (short or long, the high
        // byte anywhere) are left to the caller's conversion.
        for n in [1, 3, 7, 8, 9, 16, 17, 30] {
            let ascii = vec![b'q'; n];
            let a = Atom::from_wire_bounded(&ascii, true, DEFAULT_ATOM_LIMIT).unwrap();
            assert_eq!(a.map(|a| a.as_str().len()), Some(n));
            for i in 0..n {
                let mut l1 = ascii.clone();
                l1[i] = 0xe9;
                assert_eq!(
                    Atom::from_wire_bounded(&l1, true, DEFAULT_ATOM_LIMIT),
                    Ok(None)
                );
            }
        }
    }

    #[test]
    fn small_table_fills() {
        let t = AtomTable::with_limit(3);
        assert_eq!(t.intern("a", usize::MAX), Ok(0));
        assert_eq!(t.intern("b", usize::MAX), Ok(1));
        assert_eq!(t.intern("a", usize::MAX), Ok(0));
        assert_eq!(t.intern("c", usize::MAX), Ok(2));
        assert_eq!(t.intern("d", usize::MAX), Err(AtomError::TableFull));
        assert_eq!(t.intern("b", usize::MAX), Ok(1));
        assert_eq!(t.get(2), Some("c"));
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn concurrent_interning_agrees() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    (0..500)
                        .map(|i| Atom::new(&format!("conc_{i}")).index())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let results: Vec<Vec<u32>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
    }
}
