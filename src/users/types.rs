//! The `User` type as clients see it.

use async_graphql::{Context, Enum, ID, Object};
use chrono::Utc;
use uuid::Uuid;

use super::loader::viewer_is_admin;
use crate::graphql::context::loader;
use crate::graphql::context::wants_total;
use crate::{
    auth::viewer::ViewerExt,
    error::{AppError, GraphqlResult as _},
    graphql::{
        ServicesExt,
        connection::primed,
        ids::{self, NodeType},
        scalars::DateTime,
    },
    properties::{PropertyConnection, loaders::ListingsCountLoader, queries::prime},
};
use domain::kernel::{
    actor::Role,
    page::{Page, page_size},
};

/// What a user may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Role", remote = "domain::kernel::actor::Role")]
pub enum RoleValue {
    Guest,
    Host,
    Admin,
}

/// The fields of a `PropertyConnection` that need the page's rows; a
/// selection of none of them (only `totalCount`) reads none. A test holds
/// it to the schema.
const PAGE_FIELDS: [&str; 3] = ["edges", "nodes", "pageInfo"];

/// A user as the API shows it; the password hash never leaves the database
/// layer.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    pub role: Role,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    /// Sum and count of the overall ratings of this host's reviews.
    pub host_rating_sum: i64,
    pub host_rating_count: i32,
    /// How many listings the public sees (LISTED, not deleted).
    pub listings_count: i32,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
    /// Set when the user is shown to themself by a mutation that has no
    /// viewer yet (register, login): their own contact details are theirs.
    pub shown_to_self: bool,
}

impl From<entity::user::Model> for User {
    fn from(m: entity::user::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            first_name: m.first_name,
            last_name: m.last_name,
            phone_number: m.phone_number,
            role: m.role.into(),
            bio: m.bio,
            avatar_url: m.avatar_url,
            host_rating_sum: m.host_rating_sum,
            host_rating_count: m.host_rating_count,
            listings_count: m.listings_count,
            created_at: m.created_at,
            updated_at: m.updated_at,
            shown_to_self: false,
        }
    }
}

impl User {
    /// Contact details are for the user themself and admins.
    async fn may_see_private(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if self.shown_to_self {
            return Ok(true);
        }
        match ctx.viewer() {
            Some(v) if v.user_id == self.id => Ok(true),
            Some(_) => viewer_is_admin(ctx).await,
            None => Ok(false),
        }
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::User, self.id)
    }

    async fn first_name(&self) -> &str {
        &self.first_name
    }

    async fn last_name(&self) -> &str {
        &self.last_name
    }

    /// Only the user themself and admins see it; null for everyone else.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .may_see_private(ctx)
            .await?
            .then_some(self.email.as_str()))
    }

    /// Only the user themself and admins see it; null for everyone else.
    async fn phone_number(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(if self.may_see_private(ctx).await? {
            self.phone_number.as_deref()
        } else {
            None
        })
    }

    async fn role(&self) -> RoleValue {
        self.role.into()
    }

    async fn bio(&self) -> Option<&str> {
        self.bio.as_deref()
    }

    async fn avatar_url(&self) -> Option<&str> {
        self.avatar_url.as_deref()
    }

    async fn created_at(&self) -> DateTime {
        self.created_at.into()
    }

    /// Listed properties of this host (all statuses when the viewer is this host or an admin).
    async fn listings(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PropertyConnection> {
        page_size("first", first, 20).extend()?;
        let all_statuses = self.may_see_private(ctx).await?;
        // A page asked only for its count (a host card's "12 listings")
        // needs no listing rows: the count is batched across hosts.
        let selection = ctx.look_ahead();
        let page = if PAGE_FIELDS.iter().any(|f| selection.field(f).exists()) {
            ctx.services()?
                .properties
                .listings(self.id, all_statuses, first, after)
                .await
                .extend()?
        } else {
            Page::default()
        };
        let total = if !wants_total(ctx) {
            None
        } else if !all_statuses {
            // What the public sees is kept on the user row.
            Some(i64::from(self.listings_count))
        } else {
            let count = loader::<ListingsCountLoader>(ctx)?
                .load_one(self.id)
                .await
                .map_err(AppError::from)
                .extend()?;
            Some(count.unwrap_or(0))
        };
        primed(page.with_total(total), async |rows| prime(ctx, rows).await).await
    }

    /// Average overall rating across this host's properties; null when none is reviewed.
    async fn host_rating(&self) -> Option<f64> {
        crate::reviews::queries::host_rating(self.host_rating_sum, self.host_rating_count)
    }

    async fn reviews_written(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<crate::reviews::ReviewConnection> {
        crate::reviews::queries::written_by(ctx, self.id, first, after).await
    }
}

#[cfg(test)]
mod tests {
    use super::PAGE_FIELDS;
    use crate::graphql::schema_names::{SchemaNames, assert_none};

    /// The fields of a `PropertyConnection` answered without the page's
    /// rows.
    const NO_ROWS: [&str; 1] = ["totalCount"];

    #[test]
    fn every_field_of_a_page_of_listings_says_whether_it_needs_the_rows() {
        let names = SchemaNames::served();
        let file = "src/users/types.rs";
        let mut problems = Vec::new();
        for name in PAGE_FIELDS.iter().chain(&NO_ROWS) {
            if names.field("PropertyConnection", name).is_none() {
                problems.push(format!(
                    "{file} names PropertyConnection.{name}, which is no field: correct or \
                     remove it"
                ));
            }
        }
        for (field, _) in names.fields("PropertyConnection") {
            if !PAGE_FIELDS.contains(&field) && !NO_ROWS.contains(&field) {
                problems.push(format!(
                    "PropertyConnection.{field} is new: add it to PAGE_FIELDS ({file}) if it \
                     is answered from the page's listings (else `User.listings` answers it \
                     from an empty page when nothing else needs them), or to NO_ROWS in the \
                     same file's test if not"
                ));
            }
        }
        assert_none(&problems);
    }
}
