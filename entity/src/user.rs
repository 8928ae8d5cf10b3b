use sea_orm::entity::prelude::*;

/// What a user may do; stored as its upper-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    #[sea_orm(string_value = "GUEST")]
    Guest,
    #[sea_orm(string_value = "HOST")]
    Host,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Trimmed and lower-cased; unique.
    #[sea_orm(unique)]
    pub email: String,
    /// An argon2id PHC string.
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub phone_number: Option<String>,
    pub role: Role,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    /// Sum and count of the overall ratings of reviews of all this user's
    /// listings, kept with each review.
    pub host_rating_sum: i64,
    pub host_rating_count: i32,
    /// How many of this user's properties are LISTED and not deleted; kept
    /// by the transactions that create, edit and delete listings.
    pub listings_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// Every column but the password hash: how the rows of other users are
/// read when they come with something else (a listing's host, a review's
/// author), so that hashes stay where they are checked.
pub const PUBLIC: crate::position::Columns =
    crate::position::Columns::ALL.without(Column::PasswordHash as usize);

by_position!(
    FIELDS,
    Model {
        id,
        email,
        password_hash,
        first_name,
        last_name,
        phone_number,
        role,
        bio,
        avatar_url,
        host_rating_sum,
        host_rating_count,
        listings_count,
        created_at,
        updated_at,
    }
);
