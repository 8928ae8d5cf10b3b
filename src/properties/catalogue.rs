//! The amenity catalogue, read once at start-up: it changes only with a
//! migration, so names and categories never cost a query.

use std::{collections::HashMap, sync::Arc};

use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use super::types::Amenity;
use crate::error::{AppError, AppResult};

#[derive(Clone, Default)]
pub struct Catalogue {
    ordered: Arc<Vec<Amenity>>,
    by_code: Arc<HashMap<String, usize>>,
}

impl Catalogue {
    pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Self> {
        let rows = entity::amenity::Entity::find()
            .order_by_asc(entity::amenity::Column::Position)
            .all(db)
            .await?;
        let ordered: Vec<Amenity> = rows.into_iter().map(Amenity::from).collect();
        let by_code = ordered
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect();
        Ok(Self {
            ordered: Arc::new(ordered),
            by_code: Arc::new(by_code),
        })
    }

    pub fn all(&self) -> &[Amenity] {
        &self.ordered
    }

    /// Where a code stands in the catalogue's display order.
    pub fn position(&self, code: &str) -> usize {
        self.by_code.get(code).copied().unwrap_or(usize::MAX)
    }

    pub fn get(&self, code: &str) -> Option<&Amenity> {
        self.by_code.get(code).and_then(|i| self.ordered.get(*i))
    }

    /// Known codes, without repeats, in catalogue order; an unknown code is
    /// bad input on `field`.
    pub fn codes(&self, field: &str, codes: &[String]) -> AppResult<Vec<String>> {
        let mut positions = Vec::with_capacity(codes.len());
        for code in codes {
            let code = code.trim();
            match self.by_code.get(code) {
                Some(i) => positions.push(*i),
                None => {
                    return Err(AppError::bad_input(
                        field,
                        format!(
                            "has an unknown amenity code {code:?}; the `amenities` query lists them"
                        ),
                    ));
                }
            }
        }
        positions.sort_unstable();
        positions.dedup();
        Ok(positions
            .into_iter()
            .filter_map(|i| self.ordered.get(i).map(|a| a.code.clone()))
            .collect())
    }
}
