//! Valid input, mutated: the strategy the property tests of bad input share (the parsers'
//! in `app/tests/bad_input.rs`, the importer's writes in the server's tests).
use proptest::prelude::*;

/// `valid` after one to five random edits: a cut, an insertion of arbitrary characters, a
/// duplicated stretch, two characters swapped.
pub fn mutated(valid: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec((0u8..4, any::<usize>(), any::<usize>(), "\\PC{0,6}|[\\x00-\\x1f\"'&<>:#\\[\\]{}*!|-]{1,4}"), 1..6).prop_map(move |edits| {
        let mut s: Vec<char> = valid.chars().collect();
        for (op, a, b, text) in edits {
            let n = s.len() + 1; // an edit may fall after the last character
            let (i, j) = (a % n, b % n);
            let (lo, hi) = (i.min(j).min(s.len()), i.max(j).min(s.len()));
            match op {
                0 => {
                    s.drain(lo..hi);
                }
                1 => {
                    s.splice(lo..lo, text.chars());
                }
                2 => {
                    let part: Vec<char> = s[lo..hi].to_vec();
                    s.splice(hi..hi, part);
                }
                _ => {
                    if i < s.len() && j < s.len() {
                        s.swap(i, j);
                    }
                }
            }
        }
        s.into_iter().collect()
    })
}

