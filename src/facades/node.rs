//! JSON built in the order it is written, borrowing the provider's text.
//!
//! `serde_json::Value` sorts object keys (the crate is built without
//! `preserve_order`), which would put FHIR's `resourceType` among the
//! other keys, and it owns every string. A [`Node`] keeps its keys in
//! insertion order and borrows from the [`crate::search::Hit`] it maps, so
//! building a page of resources is a walk over the hits and serialising
//! it a second walk. [`Object::list`] and [`Object::maybe`] leave out empty
//! lists and missing values: FHIR forbids empty arrays and `null`s, and
//! HSDS is clearer without them.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// One JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    List(Vec<Node<'a>>),
    Object(Vec<(&'static str, Node<'a>)>),
}

/// A JSON object under construction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a>(Vec<(&'static str, Node<'a>)>);

impl<'a> Object<'a> {
    pub fn new() -> Self {
        Object(Vec::with_capacity(8))
    }

    /// Adds a member.
    pub fn with(mut self, key: &'static str, value: impl Into<Node<'a>>) -> Self {
        self.0.push((key, value.into()));
        self
    }

    /// Adds a member when there is a value.
    pub fn maybe(self, key: &'static str, value: Option<impl Into<Node<'a>>>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    /// Adds a list when it is not empty.
    pub fn list(self, key: &'static str, items: Vec<Node<'a>>) -> Self {
        if items.is_empty() {
            self
        } else {
            self.with(key, Node::List(items))
        }
    }

    /// True when the object has a member of that name.
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| *k == key)
    }
}

impl<'a> From<Object<'a>> for Node<'a> {
    fn from(object: Object<'a>) -> Self {
        Node::Object(object.0)
    }
}

impl<'a> From<&'a str> for Node<'a> {
    fn from(text: &'a str) -> Self {
        Node::Str(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a String> for Node<'a> {
    fn from(text: &'a String) -> Self {
        Node::Str(Cow::Borrowed(text))
    }
}

impl From<String> for Node<'_> {
    fn from(text: String) -> Self {
        Node::Str(Cow::Owned(text))
    }
}

impl<'a> From<Cow<'a, str>> for Node<'a> {
    fn from(text: Cow<'a, str>) -> Self {
        Node::Str(text)
    }
}

impl From<bool> for Node<'_> {
    fn from(value: bool) -> Self {
        Node::Bool(value)
    }
}

impl From<f64> for Node<'_> {
    fn from(value: f64) -> Self {
        Node::Float(value)
    }
}

impl From<u32> for Node<'_> {
    fn from(value: u32) -> Self {
        Node::Int(i64::from(value))
    }
}

impl From<u64> for Node<'_> {
    fn from(value: u64) -> Self {
        Node::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl<'a> From<Vec<Node<'a>>> for Node<'a> {
    fn from(items: Vec<Node<'a>>) -> Self {
        Node::List(items)
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Bool(value) => serializer.serialize_bool(*value),
            Node::Int(value) => serializer.serialize_i64(*value),
            // Non-finite numbers never reach here (coordinates, distances
            // and prices are finite), but JSON has no NaN: write null.
            Node::Float(value) if !value.is_finite() => serializer.serialize_unit(),
            Node::Float(value) => serializer.serialize_f64(*value),
            Node::Str(text) => serializer.serialize_str(text),
            Node::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for Object<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_leaves_out_empty_members() {
        let object = Object::new()
            .with("resourceType", "Location")
            .with("id", String::from("p-1"))
            .list("telecom", Vec::new())
            .maybe("description", None::<&str>)
            .with("active", true)
            .with("n", 3u32)
            .with("x", 1.5);
        assert_eq!(
            serde_json::to_string(&object).expect("serialises"),
            r#"{"resourceType":"Location","id":"p-1","active":true,"n":3,"x":1.5}"#
        );
    }
}
