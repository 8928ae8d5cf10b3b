//! Relay global ids: opaque to clients, `base64url("<Type>:<uuid>")` inside,
//! so `node(id)` knows which table to look in.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

/// The types that have global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    User,
}

impl NodeType {
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "User" => Some(Self::User),
            _ => None,
        }
    }
}

pub fn encode(kind: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// The type and row id an id names, or `None` when it is not one of ours.
pub fn decode(id: &str) -> Option<(NodeType, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (kind, uuid) = text.split_once(':')?;
    Some((NodeType::from_name(kind)?, Uuid::parse_str(uuid).ok()?))
}

/// The row id, when `id` is a global id of `kind`.
pub fn decode_as(kind: NodeType, id: &str) -> Option<Uuid> {
    decode(id).filter(|(k, _)| *k == kind).map(|(_, uuid)| uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_garbage_is_none() {
        let uuid = Uuid::now_v7();
        let id = encode(NodeType::User, uuid);
        assert_eq!(decode(&id), Some((NodeType::User, uuid)));
        assert_eq!(decode_as(NodeType::User, &id), Some(uuid));
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
}
