//! An `Atom` constant used before anything else touched the atom table (this test binary's only
//! test, so nothing ran before it): the lock-free read path finds the slot empty, makes the
//! table, and returns the predefined atom's text and encodings.

use etf::{Atom, Term};

#[test]
fn predefined_atom_before_the_table_exists() {
    assert_eq!(Atom::GEN_CALL.as_str(), "$gen_call");
    assert_eq!(Atom::TRUE.external(true), &[119, 4, b't', b'r', b'u', b'e']);
    assert_eq!(
        &etf::encode(&Term::Atom(Atom::OK))[..],
        &[131, 100, 0, 2, b'o', b'k']
    );
}
