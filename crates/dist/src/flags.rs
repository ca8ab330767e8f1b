//! Distribution capability flags (`DFLAG_*`, names as in OTP's `lib/kernel/include/dist.hrl`),
//! the set ferl advertises, the OTP 25 mandatory-flag check and flag negotiation.

/// One distribution flag set: a plain `u64` bit set, as on the wire in the `'N'` messages.
pub type DistFlags = u64;

pub const DFLAG_PUBLISHED: u64 = 0x1;
pub const DFLAG_ATOM_CACHE: u64 = 0x2;
pub const DFLAG_EXTENDED_REFERENCES: u64 = 0x4;
pub const DFLAG_DIST_MONITOR: u64 = 0x8;
pub const DFLAG_FUN_TAGS: u64 = 0x10;
pub const DFLAG_DIST_MONITOR_NAME: u64 = 0x20;
pub const DFLAG_HIDDEN_ATOM_CACHE: u64 = 0x40;
pub const DFLAG_NEW_FUN_TAGS: u64 = 0x80;
pub const DFLAG_EXTENDED_PIDS_PORTS: u64 = 0x100;
pub const DFLAG_EXPORT_PTR_TAG: u64 = 0x200;
pub const DFLAG_BIT_BINARIES: u64 = 0x400;
pub const DFLAG_NEW_FLOATS: u64 = 0x800;
pub const DFLAG_UNICODE_IO: u64 = 0x1000;
pub const DFLAG_DIST_HDR_ATOM_CACHE: u64 = 0x2000;
pub const DFLAG_SMALL_ATOM_TAGS: u64 = 0x4000;
pub const DFLAG_UTF8_ATOMS: u64 = 0x10000;
pub const DFLAG_MAP_TAG: u64 = 0x20000;
pub const DFLAG_BIG_CREATION: u64 = 0x40000;
pub const DFLAG_SEND_SENDER: u64 = 0x80000;
pub const DFLAG_BIG_SEQTRACE_LABELS: u64 = 0x100000;
pub const DFLAG_EXIT_PAYLOAD: u64 = 0x400000;
pub const DFLAG_FRAGMENTS: u64 = 0x800000;
pub const DFLAG_HANDSHAKE_23: u64 = 0x1000000;
pub const DFLAG_UNLINK_ID: u64 = 0x2000000;
/// Shorthand for all of `MANDATORY_25` (bit 26; the newer docs' `1 bsl 36` is a doc bug).
pub const DFLAG_MANDATORY_25_DIGEST: u64 = 0x4000000;
pub const DFLAG_SPAWN: u64 = 1 << 32;
pub const DFLAG_NAME_ME: u64 = 1 << 33;
pub const DFLAG_V4_NC: u64 = 1 << 34;
pub const DFLAG_ALIAS: u64 = 1 << 35;

/// `?MANDATORY_DFLAGS_25`: an OTP 25 node refuses a peer lacking any of these.
pub const MANDATORY_25: u64 = DFLAG_EXTENDED_REFERENCES
    | DFLAG_FUN_TAGS
    | DFLAG_NEW_FUN_TAGS
    | DFLAG_EXTENDED_PIDS_PORTS
    | DFLAG_EXPORT_PTR_TAG
    | DFLAG_BIT_BINARIES
    | DFLAG_NEW_FLOATS
    | DFLAG_UTF8_ATOMS
    | DFLAG_MAP_TAG
    | DFLAG_BIG_CREATION
    | DFLAG_HANDSHAKE_23;

/// What a visible ferl node advertises: the mandatory set (spelled out *and* as the digest bit,
/// which OTP 27 requires), PUBLISHED, monitors, SEND_SENDER, payload exits, UNLINK_ID, SPAWN,
/// V4 node containers and ALIAS, and DIST_HDR_ATOM_CACHE: a BEAM peer then sends distribution
/// headers with its atom cache (ferl reads them; it sends pass-through 112 frames, which BEAM
/// accepts either way), which is how BEAM talks to BEAM and costs the sender less. Never
/// FRAGMENTS, the old ATOM_CACHE, nor NAME_ME.
pub const DEFAULT: u64 = 0xd_075f_5fbd | DFLAG_DIST_HDR_ATOM_CACHE;

/// The same for a hidden node: PUBLISHED cleared, so the peer lists us in `nodes(hidden)`.
pub const DEFAULT_HIDDEN: u64 = DEFAULT & !DFLAG_PUBLISHED;

/// The mandatory-flag names OTP prints in `...rejected since it cannot handle [...]`.
const MANDATORY_NAMES: [(u64, &str); 11] = [
    (DFLAG_EXTENDED_REFERENCES, "EXTENDED_REFERENCES"),
    (DFLAG_FUN_TAGS, "FUN_TAGS"),
    (DFLAG_NEW_FUN_TAGS, "NEW_FUN_TAGS"),
    (DFLAG_EXTENDED_PIDS_PORTS, "EXTENDED_PIDS_PORTS"),
    (DFLAG_EXPORT_PTR_TAG, "EXPORT_PTR_TAG"),
    (DFLAG_BIT_BINARIES, "BIT_BINARIES"),
    (DFLAG_NEW_FLOATS, "NEW_FLOATS"),
    (DFLAG_UTF8_ATOMS, "UTF8_ATOMS"),
    (DFLAG_MAP_TAG, "MAP_TAG"),
    (DFLAG_BIG_CREATION, "BIG_CREATION"),
    (DFLAG_HANDSHAKE_23, "HANDSHAKE_23"),
];

/// `expand_mandatory_25_flag/1`: the digest bit stands for the whole mandatory set.
pub fn expand(flags: u64) -> u64 {
    if flags & DFLAG_MANDATORY_25_DIGEST != 0 {
        flags | MANDATORY_25
    } else {
        flags
    }
}

/// `check_dflags/2`: the names of the mandatory flags the peer lacks (empty when it is fine).
pub fn missing_mandatory(peer_flags: u64) -> Vec<&'static str> {
    let f = expand(peer_flags);
    MANDATORY_NAMES
        .iter()
        .filter(|(bit, _)| f & bit == 0)
        .map(|(_, name)| *name)
        .collect()
}

/// `adjust_flags/2`: what both sides can do. The digest bit is expanded first, so a peer that
/// sent only the digest bit still negotiates the mandatory features.
pub fn negotiate(ours: u64, theirs: u64) -> u64 {
    expand(ours) & expand(theirs)
}

/// Whether the connection is visible (`publish_type/1`): both sides must publish.
pub fn is_published(negotiated: u64) -> bool {
    negotiated & DFLAG_PUBLISHED != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mandatory_set_matches_otp() {
        const {
            assert!(MANDATORY_25 == 0x107_0F94);
            assert!(DEFAULT & MANDATORY_25 == MANDATORY_25);
            assert!(DEFAULT & DFLAG_MANDATORY_25_DIGEST != 0);
            assert!(DEFAULT_HIDDEN & DFLAG_PUBLISHED == 0);
        }
        for f in [DFLAG_ATOM_CACHE, DFLAG_FRAGMENTS, DFLAG_NAME_ME] {
            assert_eq!(DEFAULT & f, 0);
        }
        for f in [
            DFLAG_PUBLISHED,
            DFLAG_SPAWN,
            DFLAG_ALIAS,
            DFLAG_V4_NC,
            DFLAG_UNLINK_ID,
            DFLAG_DIST_HDR_ATOM_CACHE,
        ] {
            assert_ne!(DEFAULT & f, 0);
        }
    }

    #[test]
    fn digest_bit_alone_is_enough() {
        assert!(missing_mandatory(DFLAG_MANDATORY_25_DIGEST).is_empty());
        assert!(missing_mandatory(MANDATORY_25).is_empty());
        assert_eq!(
            missing_mandatory(MANDATORY_25 & !DFLAG_MAP_TAG),
            vec!["MAP_TAG"]
        );
        assert_eq!(missing_mandatory(0).len(), 11);
    }

    #[test]
    fn negotiation_is_intersection() {
        let n = negotiate(DEFAULT, DFLAG_MANDATORY_25_DIGEST | DFLAG_PUBLISHED);
        assert!(is_published(n));
        assert_eq!(n & DFLAG_SPAWN, 0);
        assert!(!is_published(negotiate(DEFAULT, DEFAULT_HIDDEN)));
    }
}
