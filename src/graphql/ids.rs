//! Relay global ids: opaque to clients, `base64url("<Type>:<key>")` inside,
//! so `node(id)` knows where to look. Keys are UUIDs, except amenities,
//! whose key is their stable code.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

/// The types that have global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    User,
    Property,
    Amenity,
    Photo,
    Booking,
    Payment,
    Notification,
    Conversation,
    Message,
    Review,
}

impl NodeType {
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Property => "Property",
            Self::Amenity => "Amenity",
            Self::Photo => "Photo",
            Self::Booking => "Booking",
            Self::Payment => "Payment",
            Self::Notification => "Notification",
            Self::Conversation => "Conversation",
            Self::Message => "Message",
            Self::Review => "Review",
        }
    }

    /// Every type with global ids.
    const ALL: [Self; 10] = [
        Self::User,
        Self::Property,
        Self::Amenity,
        Self::Photo,
        Self::Booking,
        Self::Payment,
        Self::Notification,
        Self::Conversation,
        Self::Message,
        Self::Review,
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

pub fn encode(kind: NodeType, key: impl std::fmt::Display) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{key}", kind.name())))
}

/// The type and key an id names, or `None` when it is not one of ours.
pub fn decode(id: &str) -> Option<(NodeType, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, key) = text.split_once(':')?;
    if key.is_empty() {
        return None;
    }
    Some((NodeType::from_name(kind)?, key.to_owned()))
}

/// The row id, when `id` is a global id of `kind` keyed by a UUID.
pub fn decode_as(kind: NodeType, id: &str) -> Option<Uuid> {
    decode(id)
        .filter(|(k, _)| *k == kind)
        .and_then(|(_, key)| Uuid::parse_str(&key).ok())
}

/// The key, when `id` is a global id of `kind`.
pub fn decode_key(kind: NodeType, id: &str) -> Option<String> {
    decode(id).filter(|(k, _)| *k == kind).map(|(_, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_garbage_is_none() {
        let uuid = Uuid::now_v7();
        let id = encode(NodeType::User, uuid);
        assert_eq!(decode_as(NodeType::User, &id), Some(uuid));
        assert_eq!(decode_as(NodeType::Property, &id), None, "another type");
        let amenity = encode(NodeType::Amenity, "wifi");
        assert_eq!(
            decode_key(NodeType::Amenity, &amenity).as_deref(),
            Some("wifi")
        );
        assert_eq!(decode_as(NodeType::Amenity, &amenity), None);
        for bad in [
            "",
            "garbage",
            "VXNlcjo",
            "!!!!",
            &URL_SAFE_NO_PAD.encode("Nope:1"),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    /// Each type with global ids is named as the schema names it, and every
    /// type implementing `Node` has global ids.
    #[test]
    fn node_types_are_the_schema_types_implementing_node() {
        let names = crate::graphql::schema_names::SchemaNames::served();
        let implementors = &names.implementors["Node"];
        let mut problems = Vec::new();
        for kind in NodeType::ALL {
            if !implementors.contains(kind.name()) {
                problems.push(format!(
                    "NodeType::{kind:?} (src/graphql/ids.rs) is named \"{}\", which is no \
                     type implementing Node: correct its name",
                    kind.name()
                ));
            }
        }
        for ty in implementors {
            if NodeType::from_name(ty).is_none() {
                problems.push(format!(
                    "{ty} implements Node and is new: add it to NodeType (src/graphql/ids.rs), \
                     to NodeType::ALL and to `node(id)` (src/graphql/node.rs)"
                ));
            }
        }
        crate::graphql::schema_names::assert_none(&problems);
    }
}
