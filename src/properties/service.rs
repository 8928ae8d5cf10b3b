//! Listing rules: who may create, see, change and delete a listing.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{
    catalogue::Catalogue,
    location::PublicPoints,
    types::{ListingStatus, Property},
    validation::{NewProperty, PropertyPatch, search_key},
};
use crate::error::{AppError, AppResult};
use domain::{
    config::Fees,
    infra::db::begin_write,
    kernel::{actor::Actor, money::Currency},
};

pub const NOT_FOUND: &str = "Property not found";
const LISTED: entity::property::ListingStatus = entity::property::ListingStatus::Listed;

#[derive(Clone)]
pub struct PropertyService {
    pub(super) db: DatabaseConnection,
    pub catalogue: Catalogue,
    pub fees: Fees,
    /// Places each listing's public point.
    pub points: PublicPoints,
}

/// Whether `actor` may read this listing: anyone when it is listed, its host
/// and admins always.
pub fn may_see(row: &entity::property::Model, actor: Option<Actor>) -> bool {
    row.deleted_at.is_none()
        && (row.status == entity::property::ListingStatus::Listed
            || actor.is_some_and(|a| a.owns_or_admin(row.host_id)))
}

impl PropertyService {
    pub fn new(
        db: DatabaseConnection,
        catalogue: Catalogue,
        fees: Fees,
        points: PublicPoints,
    ) -> Self {
        Self {
            db,
            catalogue,
            fees,
            points,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A listing that is not deleted, with its host.
    pub async fn row_with_host(
        &self,
        id: Uuid,
    ) -> AppResult<Option<(entity::property::Model, Option<entity::user::Model>)>> {
        let layout = super::search::Layout {
            columns: entity::position::Columns::ALL,
            hosts: true,
            distance: false,
        };
        let query = entity::property::Entity::find_by_id(id)
            .filter(entity::property::Column::DeletedAt.is_null());
        let statement =
            sea_orm::QueryTrait::build(&layout.select(query), self.db.get_database_backend());
        match self.db.query_one_raw(statement).await? {
            Some(found) => {
                let r = layout.read(&found)?;
                Ok(Some((r.row, r.host)))
            }
            None => Ok(None),
        }
    }

    pub async fn row(&self, id: Uuid) -> AppResult<Option<entity::property::Model>> {
        Ok(entity::property::Entity::find_by_id(id)
            .filter(entity::property::Column::DeletedAt.is_null())
            .one(&self.db)
            .await?)
    }

    /// The listing, for a mutation by `actor` on it: NOT_FOUND when they
    /// may not even see it, FORBIDDEN when they see it but do not own it.
    pub async fn editable(&self, actor: Actor, id: Uuid) -> AppResult<entity::property::Model> {
        let row = self
            .row(id)
            .await?
            .filter(|r| may_see(r, Some(actor)))
            .ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
        if actor.owns_or_admin(row.host_id) {
            Ok(row)
        } else {
            Err(AppError::Forbidden(
                "Only the listing's host or an admin may change it".into(),
            ))
        }
    }

    pub async fn create(&self, actor: Actor, new: NewProperty) -> AppResult<Property> {
        if !actor.can_host() {
            return Err(AppError::Forbidden(
                "Only hosts may create listings; call becomeHost first".into(),
            ));
        }
        let now = Utc::now();
        let id = Uuid::now_v7();
        let public = self.points.of(id, new.latitude, new.longitude);
        let txn = begin_write(&self.db).await?;
        let row = entity::property::ActiveModel {
            id: Set(id),
            host_id: Set(actor.user_id),
            search_city: Set(search_key(&new.city)),
            search_country: Set(search_key(&new.country)),
            title: Set(new.title),
            description: Set(new.description),
            property_type: Set(new.property_type.into()),
            status: Set(new.status.into()),
            address: Set(new.address),
            city: Set(new.city),
            country: Set(new.country),
            latitude: Set(new.latitude),
            longitude: Set(new.longitude),
            public_latitude: Set(Some(public.0)),
            public_longitude: Set(Some(public.1)),
            currency: Set(new.currency.code().to_owned()),
            price_minor: Set(new.price_minor),
            cleaning_fee_minor: Set(new.cleaning_fee_minor),
            weekly_discount_percent: Set(new.weekly_discount_percent),
            monthly_discount_percent: Set(new.monthly_discount_percent),
            max_guests: Set(new.max_guests),
            bedrooms: Set(new.bedrooms),
            beds: Set(new.beds),
            bathrooms: Set(new.bathrooms),
            instant_book: Set(new.instant_book),
            cancellation_policy: Set(new.cancellation_policy.into()),
            min_nights: Set(new.min_nights),
            max_nights: Set(new.max_nights),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
            amenity_codes: Set(new.amenities.join(",")),
            // The review summary starts at its column defaults (no reviews).
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        set_amenities(&txn, id, &new.amenities).await?;
        count_listings(&txn, actor.user_id, i32::from(row.status == LISTED)).await?;
        txn.commit().await?;
        tracing::info!(property_id = %id, host_id = %actor.user_id, "listing created");
        Ok(row.into())
    }

    pub async fn update(
        &self,
        actor: Actor,
        id: Uuid,
        input: super::inputs::UpdatePropertyInput,
    ) -> AppResult<Property> {
        let row = self.editable(actor, id).await?;
        let patch = PropertyPatch::parse(
            input,
            &self.catalogue,
            (row.min_nights, row.max_nights),
            Currency::of_stored(&row.currency),
        )
        .map_err(|e| e.under("input"))?;
        let amenities = patch.amenities.clone();
        let moved = (patch.latitude.is_some() || patch.longitude.is_some()).then(|| {
            self.points.of(
                id,
                patch.latitude.unwrap_or(row.latitude),
                patch.longitude.unwrap_or(row.longitude),
            )
        });
        let mut m: entity::property::ActiveModel = row.into();
        if let Some((lat, lng)) = moved {
            m.public_latitude = Set(Some(lat));
            m.public_longitude = Set(Some(lng));
        }
        macro_rules! set {
            ($($field:ident),+) => { $(if let Some(v) = patch.$field { m.$field = Set(v.into()); })+ };
        }
        set!(
            title,
            description,
            property_type,
            address,
            latitude,
            longitude,
            price_minor,
            cleaning_fee_minor,
            weekly_discount_percent,
            monthly_discount_percent,
            max_guests,
            bedrooms,
            beds,
            bathrooms,
            instant_book,
            cancellation_policy,
            min_nights,
            max_nights,
            status
        );
        if let Some(city) = patch.city {
            m.search_city = Set(search_key(&city));
            m.city = Set(city);
        }
        if let Some(country) = patch.country {
            m.search_country = Set(search_key(&country));
            m.country = Set(country);
        }
        if let Some(codes) = &amenities {
            m.amenity_codes = Set(codes.join(","));
        }
        m.updated_at = Set(Utc::now());
        let txn = begin_write(&self.db).await?;
        // The status as it is now, under the row's lock: a delete that
        // committed since the read above wins, and the host's listing count
        // moves by what this update really changes.
        let was_listed = listed_now(&txn, id).await?;
        let row = m.update(&txn).await?;
        count_listings(
            &txn,
            row.host_id,
            i32::from(row.status == LISTED) - i32::from(was_listed),
        )
        .await?;
        if let Some(codes) = amenities {
            entity::property_amenity::Entity::delete_many()
                .filter(entity::property_amenity::Column::PropertyId.eq(id))
                .exec(&txn)
                .await?;
            set_amenities(&txn, id, &codes).await?;
        }
        txn.commit().await?;
        Ok(row.into())
    }

    /// Takes the listing down for good. Past bookings keep pointing at it,
    /// so the row stays, marked deleted; its photos, calendar and wishlist
    /// entries go.
    pub async fn delete(
        &self,
        actor: Actor,
        id: Uuid,
        storage: &crate::storage::Storage,
    ) -> AppResult<bool> {
        let row = self.editable(actor, id).await?;
        let photos = entity::property_photo::Entity::find()
            .filter(entity::property_photo::Column::PropertyId.eq(id))
            .all(&self.db)
            .await?;
        let txn = begin_write(&self.db).await?;
        // Exclusive with bookings being made (they share-lock the row), so
        // none slips in between the check and the delete.
        let was_listed = listed_now(&txn, row.id).await?;
        let upcoming = entity::booking::Entity::find()
            .filter(entity::booking::Column::PropertyId.eq(row.id))
            .filter(entity::booking::Column::Status.is_in(entity::booking::BookingStatus::ACTIVE))
            .filter(entity::booking::Column::CheckOut.gt(domain::kernel::stay::today()))
            .count(&txn)
            .await?;
        if upcoming > 0 {
            return Err(AppError::Conflict(format!(
                "The listing has {upcoming} upcoming booking(s); cancel them before deleting it"
            )));
        }
        entity::property::Entity::update_many()
            .col_expr(entity::property::Column::DeletedAt, Expr::value(Utc::now()))
            .col_expr(
                entity::property::Column::Status,
                Expr::value(entity::property::ListingStatus::Unlisted),
            )
            .col_expr(entity::property::Column::AmenityCodes, Expr::value(""))
            .filter(entity::property::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
        count_listings(&txn, row.host_id, -i32::from(was_listed)).await?;
        entity::property_photo::Entity::delete_many()
            .filter(entity::property_photo::Column::PropertyId.eq(id))
            .exec(&txn)
            .await?;
        entity::calendar_day::Entity::delete_many()
            .filter(entity::calendar_day::Column::PropertyId.eq(id))
            .exec(&txn)
            .await?;
        entity::saved_property::Entity::delete_many()
            .filter(entity::saved_property::Column::PropertyId.eq(id))
            .exec(&txn)
            .await?;
        entity::property_amenity::Entity::delete_many()
            .filter(entity::property_amenity::Column::PropertyId.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        for photo in photos {
            storage.delete(&photo.storage_key).await;
        }
        tracing::info!(property_id = %id, "listing deleted");
        Ok(true)
    }

    /// Whether a listing may be seen by `actor`, from its id.
    pub async fn visible(&self, id: Uuid, actor: Option<Actor>) -> AppResult<Option<Property>> {
        Ok(self
            .row(id)
            .await?
            .filter(|r| may_see(r, actor))
            .map(Property::from))
    }
}

/// Locks a listing's row for the rest of the transaction and tells whether
/// it is listed; NOT_FOUND when it has been deleted meanwhile.
async fn listed_now(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<bool> {
    use entity::property::Column as P;
    let now: Option<(
        entity::property::ListingStatus,
        Option<chrono::DateTime<Utc>>,
    )> = entity::property::Entity::find_by_id(id)
        .select_only()
        .columns([P::Status, P::DeletedAt])
        .lock_exclusive()
        .into_tuple()
        .one(conn)
        .await?;
    match now {
        Some((status, None)) => Ok(status == LISTED),
        _ => Err(AppError::NotFound(NOT_FOUND.into())),
    }
}

/// Moves the host's `listings_count` (their LISTED, not deleted listings)
/// by `delta`, after the listing's own row in the same transaction: the
/// same order as a review's writes (listing, then host), and an increment,
/// so concurrent changes of one host's listings add up.
async fn count_listings(conn: &impl ConnectionTrait, host: Uuid, delta: i32) -> AppResult<()> {
    use entity::user::Column as U;
    if delta != 0 {
        entity::user::Entity::update_many()
            .col_expr(U::ListingsCount, Expr::col(U::ListingsCount).add(delta))
            .filter(U::Id.eq(host))
            .exec(conn)
            .await?;
    }
    Ok(())
}

async fn set_amenities(conn: &impl ConnectionTrait, id: Uuid, codes: &[String]) -> AppResult<()> {
    if codes.is_empty() {
        return Ok(());
    }
    entity::property_amenity::Entity::insert_many(codes.iter().map(|code| {
        entity::property_amenity::ActiveModel {
            property_id: Set(id),
            amenity_code: Set(code.clone()),
        }
    }))
    .exec(conn)
    .await?;
    Ok(())
}

impl ListingStatus {
    pub fn is_listed(self) -> bool {
        self == ListingStatus::Listed
    }
}
