//! Short attribute names for the aggregate items. A day's item holds every metric under every
//! group (~340 counters with four dimensions), and DynamoDB bills an update on the item's whole
//! size, twice inside a transaction: spelled out (`resolutionSeconds@assigned_user=arn:…`) a day
//! reached ~14 KB. Stored, a name is one character per metric plus a 10-character code per
//! group (`s` + code(`assigned_user=arn:…`)); each code's text is kept once per domain in a
//! `CODE#<code>` item, so a report can spell the names out again. Pure.

use std::collections::{BTreeMap, HashMap};

use super::aggregate::{
    CONTACTS, CREATED, FIRST_CONTACT_RESOLVED, GROUP_SEPARATOR, REOPENED, RESOLUTION_SECONDS,
    RESOLVED,
};

/// Code → text, as stored in the `CODE#` items.
pub type Codes = HashMap<String, String>;

const CODE_LEN: usize = 10;
/// A metric that is not one of the six (a current-cases `status=…` count) is itself coded.
const CODED_METRIC: char = 'n';
const METRICS: [(char, &str); 6] = [
    ('c', CREATED),
    ('r', RESOLVED),
    ('o', REOPENED),
    ('s', RESOLUTION_SECONDS),
    ('k', CONTACTS),
    ('f', FIRST_CONTACT_RESOLVED),
];
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The first 60 bits of the text's SHA-256, in base64url: stable across builds and platforms,
/// and a value colliding with a given group's code cannot be crafted (a second preimage of 60
/// bits), so nobody can choose a value that jams another group. Chance collisions (about 4 in
/// 10^9 among 10^5 groups) are caught when the `CODE#` item is written and fail the commit.
pub fn code(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let hash = u64::from_be_bytes(first);
    (0..CODE_LEN)
        .map(|i| char::from(ALPHABET[((hash >> (58 - 6 * i)) & 63) as usize]))
        .collect()
}

/// The stored name of the spelled-out `name` (`metric` or `metric@group`), and the texts its
/// codes stand for (code → text).
pub fn compact(name: &str) -> (String, BTreeMap<String, String>) {
    let (metric, group) = match name.split_once(GROUP_SEPARATOR) {
        Some((m, g)) => (m, Some(g)),
        None => (name, None),
    };
    let mut texts = BTreeMap::new();
    let mut coded = |text: &str| {
        let c = code(text);
        texts.insert(c.clone(), text.to_owned());
        c
    };
    let mut out = match METRICS.iter().find(|(_, m)| *m == metric) {
        Some((short, _)) => short.to_string(),
        None => format!("{CODED_METRIC}{}", coded(metric)),
    };
    if let Some(g) = group {
        out.push_str(&coded(g));
    }
    (out, texts)
}

/// The spelled-out name of a stored one; `None` when it is not a compact name or a code is
/// unknown.
pub fn expand(stored: &str, codes: &Codes) -> Option<String> {
    let mut chars = stored.chars();
    let first = chars.next()?;
    let rest = chars.as_str();
    let text = |c: &str| codes.get(c).map(String::as_str);
    let (metric, group) = if first == CODED_METRIC {
        let (m, g) = rest.split_at_checked(CODE_LEN)?;
        (text(m)?, g)
    } else {
        (METRICS.iter().find(|(s, _)| *s == first)?.1, rest)
    };
    match group {
        "" => Some(metric.to_owned()),
        g if g.len() == CODE_LEN => Some(format!("{metric}{GROUP_SEPARATOR}{}", text(g)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(name: &str) -> Option<String> {
        let (stored, texts) = compact(name);
        expand(&stored, &texts.into_iter().collect())
    }

    #[test]
    fn every_aggregate_name_comes_back_spelled_out() {
        for name in [
            "created",
            "resolutionSeconds@assigned_user=arn:aws:connect:::agent/17",
            "status=open",
            "status=open@case_reason=",
            "contacts@status=closed",
            "created@note=with@at and = signs",
        ] {
            assert_eq!(round_trip(name).as_deref(), Some(name));
        }
    }

    #[test]
    fn stored_names_are_short_whatever_the_group() {
        let long = format!("created@case_reason={}", "x".repeat(2000));
        assert_eq!(compact(&long).0.len(), 1 + CODE_LEN);
        assert_eq!(compact("status=open@priority=2").0.len(), 1 + 2 * CODE_LEN);
    }

    #[test]
    fn codes_are_stable_and_tell_texts_apart() {
        // Stored codes must not change between builds: a pinned value (computed apart).
        assert_eq!(code("template=t1"), "AD2-49xxu-");
        let codes: std::collections::HashSet<String> = (0..100_000)
            .map(|i| code(&format!("assigned_user=agent/{i}")))
            .collect();
        assert_eq!(codes.len(), 100_000);
    }

    #[test]
    fn names_that_are_not_compact_or_whose_code_is_unknown_do_not_expand() {
        let (stored, _) = compact("created@priority=1");
        assert_eq!(expand(&stored, &Codes::new()), None);
        assert_eq!(expand("created", &Codes::new()), None);
        assert_eq!(expand("", &Codes::new()), None);
    }
}
