//! Generators of JSON text for differential tests of the fast readers.
//!
//! A fast reader (`tollgate_core::json::Reader` behind a provider's or the gateway's
//! decoder) must read whatever it accepts exactly as the serde implementation does. The
//! tests that check it write bodies as *text*, not through serde, so that they can hold
//! what serde never writes: repeated keys, odd whitespace, values of the wrong type,
//! damage at one place. These are the pieces they share; what values a field takes is
//! each test's own business.
//!
//! ```
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//! use tollgate_testkit::json_text::{field, lit};
//!
//! let strategy = field("model", lit(&["\"a\"", "null"]));
//! let text = strategy.new_tree(&mut TestRunner::deterministic()).unwrap().current();
//! assert!(text.contains("\"model\""));
//! ```

use proptest::prelude::*;
use proptest::sample::Index;

/// One of `values`, as it is.
pub fn lit(values: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(values).prop_map(str::to_owned).boxed()
}

/// Whitespace between tokens: mostly none, at times a space, a tab or an indented line.
pub fn ws() -> BoxedStrategy<String> {
    lit(&["", "", " ", "\n    ", "\t"])
}

/// `"key": value`, with whitespace around the key and the value.
pub fn field(key: &'static str, value: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (ws(), value, ws())
        .prop_map(move |(before, value, after)| {
            format!("{before}\"{key}\"{after}:{before}{value}{after}")
        })
        .boxed()
}

/// Texts from `text`, each damaged at one place: one of `inserts` put in at a character
/// boundary anywhere (the start and the end included).
pub fn damaged(
    text: BoxedStrategy<String>,
    inserts: &'static [&'static str],
) -> BoxedStrategy<String> {
    (text, any::<Index>(), prop::sample::select(inserts))
        .prop_map(|(mut text, cut, insert)| {
            let mut at = cut.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, insert);
            text
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    #[test]
    fn damage_is_one_insert_at_a_character_boundary() {
        let strategy = damaged(lit(&["aé🙂x"]), &["|"]);
        let mut runner = TestRunner::deterministic();
        let mut places = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let text = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(text.replace('|', ""), "aé🙂x");
            places.insert(text.find('|').unwrap());
        }
        // Every boundary is reached: before a, é, 🙂, x, and at the end.
        assert_eq!(places.into_iter().collect::<Vec<_>>(), [0, 1, 3, 7, 8]);
    }
}
