//! Short attribute names for the aggregate items. A day's item holds every metric under every
//! group (hundreds of counters with four dimensions), and DynamoDB bills an update on the
//! item's whole size, twice inside a transaction. Stored, a counter's name is one or two
//! characters for the metric plus a 10-character code per group or status; each code's meaning
//! is kept once per domain in a `CODE#<code>` item, as separate attributes (a grouping field and
//! its value are never joined into one string and split again). Pure.

use std::collections::{BTreeMap, HashMap};

use crate::event::RelatedItemType;
use crate::projection::contribution::{Counter, Group, Metric};

/// What a code stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CodeText {
    /// A group: grouping field and value.
    Group(Group),
    /// A status (current-cases counts).
    Status(String),
    /// A related-item type this version has no letter for.
    RelatedItemType(String),
}

impl CodeText {
    /// An unambiguous serialisation (lengths before texts): what the code hashes, and what the
    /// `CODE#` item's condition compares.
    pub fn canonical(&self) -> String {
        match self {
            CodeText::Group(g) => format!("g{}:{}{}", g.field.len(), g.field, g.value),
            CodeText::Status(s) => format!("s{s}"),
            CodeText::RelatedItemType(t) => format!("t{t}"),
        }
    }
}

/// Code → meaning, as stored in the `CODE#` items.
pub type Codes = HashMap<String, CodeText>;

pub const CODE_LEN: usize = 10;
const STATUS_METRIC: char = 'n';
const RELATED_TYPE_METRIC: char = 'y';
const METRICS: [(char, Metric); 7] = [
    ('c', Metric::Created),
    ('r', Metric::Resolved),
    ('o', Metric::Reopened),
    ('s', Metric::ResolutionSeconds),
    ('k', Metric::Contacts),
    ('f', Metric::FirstContactResolved),
    ('d', Metric::Deleted),
];
const RELATED_TYPES: [(char, RelatedItemType); 6] = [
    ('C', RelatedItemType::Contact),
    ('M', RelatedItemType::Comment),
    ('F', RelatedItemType::File),
    ('S', RelatedItemType::Sla),
    ('L', RelatedItemType::ConnectCase),
    ('U', RelatedItemType::Custom),
];
/// After `y`: the type is coded (a type without a letter).
const CODED_TYPE: char = '~';
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The first 60 bits of the SHA-256 of the canonical text, in base64url: stable across builds
/// and platforms, and a value colliding with a given group's code cannot be crafted (a second
/// preimage of 60 bits). Chance collisions (about 4 in 10^9 among 10^5 groups) are caught when
/// the `CODE#` item is written and fail the commit.
pub fn code(text: &CodeText) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.canonical().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let hash = u64::from_be_bytes(first);
    (0..CODE_LEN)
        .map(|i| char::from(ALPHABET[((hash >> (58 - 6 * i)) & 63) as usize]))
        .collect()
}

/// The stored name of `counter`, and the meanings of the codes it uses (code → meaning).
pub fn compact(counter: &Counter) -> (String, BTreeMap<String, CodeText>) {
    let mut texts = BTreeMap::new();
    let mut coded = |text: CodeText| {
        let c = code(&text);
        texts.insert(c.clone(), text);
        c
    };
    let mut out = match &counter.metric {
        Metric::CurrentStatus(s) => {
            format!("{STATUS_METRIC}{}", coded(CodeText::Status(s.clone())))
        }
        Metric::RelatedItemsCreatedOf(t) => match RELATED_TYPES.iter().find(|(_, k)| k == t) {
            Some((letter, _)) => format!("{RELATED_TYPE_METRIC}{letter}"),
            None => format!(
                "{RELATED_TYPE_METRIC}{CODED_TYPE}{}",
                coded(CodeText::RelatedItemType(t.as_str().to_owned()))
            ),
        },
        metric => METRICS
            .iter()
            .find(|(_, m)| m == metric)
            .map(|(c, _)| c.to_string())
            .expect("every other metric has a letter"),
    };
    if let Some(g) = &counter.group {
        out.push_str(&coded(CodeText::Group(g.clone())));
    }
    (out, texts)
}

/// The counter a stored name stands for; `None` when it is no compact name or a code is unknown.
pub fn expand(stored: &str, codes: &Codes) -> Option<Counter> {
    let mut chars = stored.chars();
    let first = chars.next()?;
    let rest = chars.as_str();
    let (metric, group) = match first {
        STATUS_METRIC => {
            let (c, g) = rest.split_at_checked(CODE_LEN)?;
            match codes.get(c)? {
                CodeText::Status(s) => (Metric::CurrentStatus(s.clone()), g),
                _ => return None,
            }
        }
        RELATED_TYPE_METRIC => {
            let mut chars = rest.chars();
            let letter = chars.next()?;
            let rest = chars.as_str();
            if letter == CODED_TYPE {
                let (c, g) = rest.split_at_checked(CODE_LEN)?;
                match codes.get(c)? {
                    CodeText::RelatedItemType(t) => {
                        (Metric::RelatedItemsCreatedOf(RelatedItemType::parse(t)), g)
                    }
                    _ => return None,
                }
            } else {
                let (_, t) = RELATED_TYPES.iter().find(|(l, _)| *l == letter)?;
                (Metric::RelatedItemsCreatedOf(t.clone()), rest)
            }
        }
        letter => (METRICS.iter().find(|(l, _)| *l == letter)?.1.clone(), rest),
    };
    let group = match group {
        "" => None,
        g if g.len() == CODE_LEN => match codes.get(g)? {
            CodeText::Group(g) => Some(g.clone()),
            _ => return None,
        },
        _ => return None,
    };
    Some(Counter { metric, group })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(field: &str, value: &str) -> Option<Group> {
        Some(Group {
            field: field.into(),
            value: value.into(),
        })
    }

    fn round_trip(counter: &Counter) -> Option<Counter> {
        let (stored, texts) = compact(counter);
        expand(&stored, &texts.into_iter().collect())
    }

    #[test]
    fn every_counter_comes_back_whatever_its_texts_hold() {
        let counters = [
            Counter {
                metric: Metric::Created,
                group: None,
            },
            Counter {
                metric: Metric::ResolutionSeconds,
                group: group("assigned_user", "arn:aws:connect:::agent/17"),
            },
            // A status holding the characters older layouts split on.
            Counter {
                metric: Metric::CurrentStatus("waiting@customer=1".into()),
                group: group("case_reason", ""),
            },
            Counter {
                metric: Metric::RelatedItemsCreatedOf(RelatedItemType::Sla),
                group: group("status", "closed"),
            },
            Counter {
                metric: Metric::RelatedItemsCreatedOf(RelatedItemType::Unknown("Task".into())),
                group: None,
            },
            Counter {
                metric: Metric::Deleted,
                group: group("note", "with@at and = signs"),
            },
        ];
        for counter in counters {
            assert_eq!(round_trip(&counter), Some(counter));
        }
    }

    #[test]
    fn a_field_and_value_never_read_as_another_split_of_the_same_characters() {
        let a = CodeText::Group(Group {
            field: "a=b".into(),
            value: "c".into(),
        });
        let b = CodeText::Group(Group {
            field: "a".into(),
            value: "b=c".into(),
        });
        assert_ne!(code(&a), code(&b));
        assert_ne!(
            code(&CodeText::Status("open".into())),
            code(&CodeText::RelatedItemType("open".into()))
        );
    }

    #[test]
    fn stored_names_are_short_whatever_the_group() {
        let long = Counter {
            metric: Metric::Created,
            group: group("case_reason", &"x".repeat(2000)),
        };
        assert_eq!(compact(&long).0.len(), 1 + CODE_LEN);
        let status = Counter {
            metric: Metric::CurrentStatus("open".into()),
            group: group("priority", "2"),
        };
        assert_eq!(compact(&status).0.len(), 1 + 2 * CODE_LEN);
    }

    #[test]
    fn codes_are_stable_and_tell_texts_apart() {
        // Stored codes must not change between builds: a pinned value.
        let t1 = CodeText::Group(Group {
            field: "template".into(),
            value: "t1".into(),
        });
        // Computed apart (Python hashlib) from the canonical text.
        assert_eq!(code(&t1), "2H__Rg9a4o");
        assert_eq!(t1.canonical(), "g8:templatet1");
        let codes: std::collections::HashSet<String> = (0..100_000)
            .map(|i| {
                code(&CodeText::Group(Group {
                    field: "assigned_user".into(),
                    value: format!("agent/{i}"),
                }))
            })
            .collect();
        assert_eq!(codes.len(), 100_000);
    }

    #[test]
    fn names_that_are_not_compact_or_whose_code_is_unknown_do_not_expand() {
        let (stored, _) = compact(&Counter {
            metric: Metric::Created,
            group: group("priority", "1"),
        });
        assert_eq!(expand(&stored, &Codes::new()), None);
        assert_eq!(expand("created", &Codes::new()), None);
        assert_eq!(expand("", &Codes::new()), None);
        assert_eq!(expand("yZ", &Codes::new()), None);
    }
}
