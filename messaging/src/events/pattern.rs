//! Topic names and topic patterns, as in RabbitMQ's topic exchange.
//!
//! A topic name is a list of words separated by dots (`user.registered`).
//! A pattern is the same, where a word may also be `*` (exactly one word)
//! or `#` (zero or more words): `user.*` matches `user.registered` but not
//! `user` or `user.email.changed`; `order.#` matches `order`, `order.paid`
//! and `order.line.added`.

use super::error::InvalidName;
use std::fmt;

/// The longest topic name or pattern, in bytes (AMQP's routing key limit).
pub(crate) const MAX_NAME_LEN: usize = 255;

/// A parsed topic pattern: `user.*`, `order.#`, or a plain topic name.
///
/// # Examples
///
/// ```
/// use weft::events::Pattern;
///
/// let pattern = Pattern::parse("order.#").unwrap();
/// assert!(pattern.matches("order"));
/// assert!(pattern.matches("order.line.added"));
/// assert!(!pattern.matches("orders.paid"));
///
/// let one = Pattern::parse("user.*").unwrap();
/// assert!(one.matches("user.registered"));
/// assert!(!one.matches("user.email.changed"));
/// assert!(Pattern::parse("user..x").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    words: Vec<Word>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Word {
    /// `*`: exactly one word.
    One,
    /// `#`: zero or more words.
    Any,
    Literal(String),
}

impl Pattern {
    /// Parses `pattern`.
    ///
    /// # Errors
    ///
    /// [`InvalidName`] if it is empty, longer than 255 bytes, has an empty
    /// word (`a..b`, `.a`, `a.`), or a word that mixes `*` or `#` with
    /// other characters.
    pub fn parse(pattern: &str) -> Result<Pattern, InvalidName> {
        let words = split(pattern)?
            .map(|word| match word {
                "*" => Ok(Word::One),
                "#" => Ok(Word::Any),
                w if w.contains(['*', '#']) => {
                    Err(InvalidName::new(pattern, "`*` and `#` must be whole words"))
                }
                w => Ok(Word::Literal(w.to_owned())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pattern {
            source: pattern.to_owned(),
            words,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern is a plain topic name (no `*` or `#`), which
    /// matches that one topic.
    pub fn is_literal(&self) -> bool {
        self.words.iter().all(|w| matches!(w, Word::Literal(_)))
    }

    /// Whether `topic` matches. Runs in time proportional to the product
    /// of the two word counts, whatever the pattern.
    pub fn matches(&self, topic: &str) -> bool {
        let topic: Vec<&str> = topic.split('.').collect();
        // reach[j]: the words matched so far can end just before topic
        // word j. One row per pattern word.
        let mut reach = vec![false; topic.len() + 1];
        reach[0] = true;
        for word in &self.words {
            let mut next = vec![false; topic.len() + 1];
            for j in 0..=topic.len() {
                next[j] = match word {
                    // Zero words (reach[j]) or one more (next[j - 1]).
                    Word::Any => reach[j] || (j > 0 && next[j - 1]),
                    Word::One => j > 0 && reach[j - 1],
                    Word::Literal(w) => j > 0 && reach[j - 1] && topic[j - 1] == w,
                };
            }
            reach = next;
        }
        reach[topic.len()]
    }
}

/// Checks a topic name: words separated by dots, no wildcards.
pub(crate) fn validate_topic(name: &str) -> Result<(), InvalidName> {
    for word in split(name)? {
        if word.contains(['*', '#']) {
            return Err(InvalidName::new(
                name,
                "a topic name cannot hold `*` or `#` (those are for patterns)",
            ));
        }
    }
    Ok(())
}

fn split(name: &str) -> Result<std::str::Split<'_, char>, InvalidName> {
    if name.is_empty() {
        return Err(InvalidName::new(name, "empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(InvalidName::new(name, "longer than 255 bytes"));
    }
    if name.split('.').any(str::is_empty) {
        return Err(InvalidName::new(
            name,
            "empty word (two dots, or a dot at an end)",
        ));
    }
    Ok(name.split('.'))
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, topic: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(topic)
    }

    #[test]
    fn star_is_exactly_one_word() {
        assert!(m("user.*", "user.registered"));
        assert!(!m("user.*", "user"));
        assert!(!m("user.*", "user.email.changed"));
        assert!(m("*.paid", "order.paid"));
        assert!(m("*.*", "a.b"));
        assert!(!m("*.*", "a"));
    }

    #[test]
    fn hash_is_zero_or_more_words() {
        assert!(m("order.#", "order"));
        assert!(m("order.#", "order.paid"));
        assert!(m("order.#", "order.line.added"));
        assert!(!m("order.#", "orders"));
        assert!(m("#", "anything.at.all"));
        assert!(m("#.failed", "failed"));
        assert!(m("#.failed", "mail.send.failed"));
        assert!(m("a.#.z", "a.z"));
        assert!(m("a.#.z", "a.b.c.z"));
        assert!(!m("a.#.z", "a.b.c"));
        assert!(m("#.#", "x"));
        assert!(m("*.#", "x.y.z"));
        assert!(!m("*.#.*", "x"));
    }

    #[test]
    fn literal_matches_itself_only() {
        assert!(m("user.registered", "user.registered"));
        assert!(!m("user.registered", "user.registered.v2"));
        assert!(!m("user.registered", "user"));
        assert!(Pattern::parse("a.b").unwrap().is_literal());
        assert!(!Pattern::parse("a.*").unwrap().is_literal());
    }

    #[test]
    fn many_hashes_stay_polynomial() {
        let pattern = Pattern::parse(&["#"; 40].join(".")).unwrap();
        let topic = ["w"; 200].join(".");
        assert!(pattern.matches(&topic));
        let pattern = Pattern::parse(&format!("{}.x", ["#"; 40].join("."))).unwrap();
        assert!(!pattern.matches(&topic));
    }

    #[test]
    fn bad_names_are_errors() {
        for bad in ["", ".", "a.", ".a", "a..b", "a*", "a.b#", "*x"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "a..b", "a.*", "#", "x.y#"] {
            assert!(validate_topic(bad).is_err(), "{bad:?}");
        }
        assert!(validate_topic(&"a".repeat(256)).is_err());
        assert!(validate_topic(&"a".repeat(255)).is_ok());
        let err = Pattern::parse("a..b").unwrap_err();
        assert_eq!(err.name(), "a..b");
    }
}
