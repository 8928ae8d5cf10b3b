//! A request whose token is malformed, expired or revoked fails with
//! UNAUTHENTICATED before anything runs: it is never treated as anonymous.
//!
//! The one exception is an operation made only of the session mutations that
//! carry their own credentials in their arguments (`register`, `login`,
//! `refreshSession`, `logout`). A client whose access token has expired
//! must be able to refresh it, even when its HTTP link still attaches the
//! old token to every request.

use async_graphql::{
    ServerResult,
    parser::types::{ExecutableDocument, OperationType, Selection},
};

use super::OperationData;

use crate::{
    auth::Credentials,
    error::{code, request_error},
};

/// The fields of such an operation. `MUTATIONS` in `name_lists.rs` decides
/// for every mutation of the schema, and its test holds this list to it.
pub(super) const OWN_CREDENTIALS: [&str; 5] = [
    "register",
    "login",
    "refreshSession",
    "logout",
    "__typename",
];

/// Every operation in the document is a mutation selecting only fields that
/// carry their own credentials.
fn needs_no_viewer(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().all(|(_, op)| {
        op.node.ty == OperationType::Mutation
            && op
                .node
                .selection_set
                .node
                .items
                .iter()
                .all(|s| match &s.node {
                    Selection::Field(f) => OWN_CREDENTIALS.contains(&f.node.name.node.as_str()),
                    _ => false,
                })
    })
}

/// UNAUTHENTICATED for a rejected token, unless `doc` needs no viewer.
pub(super) fn check(data: OperationData<'_>, doc: &ExecutableDocument) -> ServerResult<()> {
    if let Some(Credentials::Rejected(reason)) = data.get::<Credentials>()
        && !needs_no_viewer(doc)
    {
        return Err(request_error(reason.clone(), code::UNAUTHENTICATED));
    }
    Ok(())
}
