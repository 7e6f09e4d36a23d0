//! Where things are in a scenario file. The serde types hold plain values
//! (so they serialize back as the file's shape, and the steps can be one
//! serde-tagged enum, which buffers its content and so loses toml's spans);
//! places come from this index instead: the same text parsed by `toml_edit`,
//! which keeps the span of every key and value, looked up by path
//! (`["steps", 3, "server"]`).

use std::ops::Range;

use toml_edit::{ImDocument, Item, Key, Table, Value};

use crate::error::Place;

/// One step of a path into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> From<&'a str> for Seg<'a> {
    fn from(k: &'a str) -> Self {
        Seg::Key(k)
    }
}

impl From<usize> for Seg<'_> {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A path, written `path!["steps", i, "server"]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => { [$($crate::format::locate::Seg::from($seg)),*] };
}

/// The span index of one file.
#[derive(Debug)]
pub struct Locator {
    file: String,
    doc: Option<ImDocument<String>>,
    text: String,
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a Table),
    Value(&'a Value),
}

impl<'a> Node<'a> {
    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Table(t) => t.span(),
            Node::Value(v) => v.span(),
        }
    }

    /// The child at `seg`, with its key.
    fn child(self, seg: Seg<'_>) -> Option<(Option<&'a Key>, Node<'a>)> {
        let keyed = |kv: Option<(&'a Key, &'a Item)>| kv.map(|(k, v)| (Some(k), Node::Item(v)));
        match (self, seg) {
            (Node::Table(t), Seg::Key(k)) => keyed(t.get_key_value(k)),
            (Node::Item(Item::Table(t)), Seg::Key(k)) => keyed(t.get_key_value(k)),
            (Node::Item(Item::Value(v)), s) | (Node::Value(v), s) => match (v, s) {
                (Value::InlineTable(t), Seg::Key(k)) => keyed(t.get_key_value(k)),
                (Value::Array(a), Seg::Index(i)) => a.get(i).map(|v| (None, Node::Value(v))),
                _ => None,
            },
            (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => a.get(i).map(|t| (None, Node::Table(t))),
            _ => None,
        }
    }
}

impl Locator {
    /// Indexes `text`; a text that does not parse gives places at its start.
    pub fn new(file: &str, text: &str) -> Self {
        Self { file: file.to_owned(), doc: ImDocument::parse(text.to_owned()).ok(), text: text.to_owned() }
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The place of a byte offset.
    pub fn at_offset(&self, offset: usize) -> Place {
        let mut end = offset.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &self.text[..end];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
        Place { file: self.file.clone(), line, col }
    }

    /// The start of the file.
    pub fn top(&self) -> Place {
        self.at_offset(0)
    }

    /// Walks `path`; the deepest node reached, and its key.
    fn walk(&self, path: &[Seg<'_>]) -> (Option<Range<usize>>, Option<Range<usize>>) {
        let Some(doc) = &self.doc else { return (None, None) };
        let mut node = Node::Table(doc.as_table());
        let (mut span, mut key_span) = (None, None);
        for seg in path {
            let Some((key, next)) = node.child(*seg) else { break };
            node = next;
            key_span = key.and_then(Key::span).or(key_span);
            span = next.span().or_else(|| key_span.clone()).or(span);
        }
        (span, key_span)
    }

    /// The place of the value at `path`, or of the nearest part of it that
    /// exists (a missing field is reported at its table).
    pub fn place(&self, path: &[Seg<'_>]) -> Place {
        self.walk(path).0.map_or_else(|| self.top(), |s| self.at_offset(s.start))
    }

    /// The place of the key at the end of `path` (for a key that should
    /// not be there), else of its value.
    pub fn key_place(&self, path: &[Seg<'_>]) -> Place {
        let (span, key) = self.walk(path);
        key.or(span).map_or_else(|| self.top(), |s| self.at_offset(s.start))
    }

    /// The first key named `name` inside `within` (a parser error's span),
    /// for errors that name a key but point at its whole table.
    pub fn find_key(&self, within: Range<usize>, name: &str) -> Option<Place> {
        let doc = self.doc.as_ref()?;
        let mut found = None;
        find_in_table(doc.as_table(), &within, name, &mut found);
        found.map(|s| self.at_offset(s))
    }
}

fn inside(span: Option<Range<usize>>, within: &Range<usize>) -> Option<usize> {
    span.filter(|s| s.start >= within.start && s.end <= within.end).map(|s| s.start)
}

fn find_in_table(t: &Table, within: &Range<usize>, name: &str, found: &mut Option<usize>) {
    for (k, item) in t.iter() {
        if found.is_some() {
            return;
        }
        if k == name {
            if let Some(at) = t.key(k).and_then(|key| inside(key.span(), within)) {
                *found = Some(at);
                return;
            }
        }
        find_in_item(item, within, name, found);
    }
}

fn find_in_item(item: &Item, within: &Range<usize>, name: &str, found: &mut Option<usize>) {
    match item {
        Item::Table(t) => find_in_table(t, within, name, found),
        Item::ArrayOfTables(a) => a.iter().for_each(|t| find_in_table(t, within, name, found)),
        Item::Value(v) => find_in_value(v, within, name, found),
        Item::None => {}
    }
}

fn find_in_value(v: &Value, within: &Range<usize>, name: &str, found: &mut Option<usize>) {
    match v {
        Value::InlineTable(t) => {
            for (k, v) in t.iter() {
                if found.is_some() {
                    return;
                }
                if k == name {
                    if let Some(at) = t.key(k).and_then(|key| inside(key.span(), within)) {
                        *found = Some(at);
                        return;
                    }
                }
                find_in_value(v, within, name, found);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| find_in_value(v, within, name, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[[steps]]\naction = \"kill\"\nserver = \"ds-9\"\n\n[[steps]]\naction = \"wait\"\nuntil = { logged = 1, servr = \"a\" }\n";

    #[test]
    fn values_keys_and_missing_parts() {
        let l = Locator::new("x.toml", TEXT);
        assert_eq!(l.place(&path!["steps", 0, "server"]).to_string(), "x.toml:4:10");
        assert_eq!(l.key_place(&path!["steps", 0, "server"]).to_string(), "x.toml:4:1");
        assert_eq!(l.place(&path!["steps", 1, "until", "servr"]).to_string(), "x.toml:8:31");
        assert_eq!(l.key_place(&path!["steps", 1, "until", "servr"]).to_string(), "x.toml:8:23");
        // A missing field: its table.
        assert_eq!(l.place(&path!["steps", 1, "timeout"]).line, 6);
        assert_eq!(l.place(&path!["nothing"]).to_string(), "x.toml:1:1");
        let second = TEXT.find("[[steps]]\naction = \"wait\"").expect("second step");
        assert_eq!(l.find_key(second..TEXT.len(), "servr").map(|p| p.to_string()), Some("x.toml:8:23".into()));
        assert_eq!(l.find_key(0..second, "servr"), None);
    }

    #[test]
    fn places_count_characters_not_bytes() {
        let l = Locator::new("é.toml", "# été\nname = \"é\"\n");
        assert_eq!(l.place(&path!["name"]).to_string(), "é.toml:2:8");
        assert_eq!(l.at_offset(10_000).line, 3);
    }
}
