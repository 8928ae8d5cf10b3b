//! Keyset pagination, for every list the API pages through.
//!
//! A list is a filter and a [`Sort`]: key columns, each ascending or
//! descending, then the row's id, which breaks ties so that the order is
//! total and a page never repeats or skips a row. A page is what a
//! [`Window`] asks for: up to `limit` rows past a cursor, read forwards
//! (`first`/`after`) or backwards from the end (`last`/`before`), fetched
//! as `limit + 1` so that the one more says whether there is another page.
//! A cursor is the [`Key`] of a row, the values the list sorts it by, as
//! base64url JSON: clients treat it as opaque, and one that does not decode,
//! or decodes to a value no row holds, is bad input, never a statement.
//!
//! Nothing here knows GraphQL or HTTP: `graphql::connection` makes a
//! connection of a [`Page`].

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, IntoSimpleExpr, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Value,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, SelectStatement, WindowStatement},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::error::{AppError, AppResult};

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;

/// A page size given as `field` (`first` or `last`), `default` when not
/// given, checked against 1..=[`MAX_PAGE`]; the error names the field.
pub fn page_size(field: &str, size: Option<i32>, default: i32) -> AppResult<u64> {
    let size = size.unwrap_or(default);
    if (1..=MAX_PAGE).contains(&size) {
        Ok(u64::try_from(size).unwrap_or(1))
    } else {
        Err(AppError::bad_input(
            field,
            format!("must be between 1 and {MAX_PAGE}"),
        ))
    }
}

/// What a cursor holds: a row's place in its list, the values the list's
/// [`Sort`] compares, id last. Its JSON is the cursor's: a list keeps the
/// field names it has always had, so cursors clients hold stay good.
pub trait Key: Serialize + DeserializeOwned {
    /// Whether each of its values is one the database stores. A cursor is
    /// only base64 JSON: re-encoded with the year -5000, it decodes, and
    /// PostgreSQL then refuses the statement ("date/timestamp out of
    /// range") where SQLite compares it as text.
    fn is_stored(&self) -> bool;

    /// The values compared with the sort's columns, in the same order, the
    /// id last.
    fn values(&self) -> Vec<Value>;

    /// The cursor of this position.
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// Reads a cursor given as `field`; one that is not one of ours (or
/// belongs to another list), or whose values no row can hold, is bad input
/// on `field`.
pub fn decode<K: Key>(field: &str, cursor: &str) -> AppResult<K> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<K>(&bytes).ok())
        .filter(Key::is_stored)
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                "is not a cursor of this list; pass an endCursor from the same query",
            )
        })
}

/// The instants and dates rows hold: years 1 to 9999, as the API writes
/// them (`Date` is read as YYYY-MM-DD).
const STORED_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Whether the database stores `at` (see [`Key::is_stored`]).
pub fn stored_instant(at: &DateTime<Utc>) -> bool {
    STORED_YEARS.contains(&at.year())
}

/// Whether the database stores `date` (see [`Key::is_stored`]).
pub fn stored_date(date: &NaiveDate) -> bool {
    STORED_YEARS.contains(&date.year())
}

/// The key of a list sorted by an instant, then the id (a host's
/// listings, a wishlist): `{"at": ..., "id": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct At {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Key for At {
    fn is_stored(&self) -> bool {
        stored_instant(&self.at)
    }

    fn values(&self) -> Vec<Value> {
        vec![self.at.into(), self.id.into()]
    }
}

/// Which way a sort takes one of its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    fn reversed(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }

    fn order(self) -> Order {
        match self {
            Self::Asc => Order::Asc,
            Self::Desc => Order::Desc,
        }
    }
}

/// A list's order: its key's columns (or expressions), each with its
/// direction, then the row's id.
#[derive(Debug, Clone)]
pub struct Sort {
    /// The key's parts, then the id; never empty.
    parts: Vec<(Expr, Direction)>,
}

impl Sort {
    /// Rows by `key`, part after part, ties broken by `id` in the direction
    /// of the key's last part (ascending for an empty key).
    pub fn new<C: IntoSimpleExpr>(
        key: impl IntoIterator<Item = (C, Direction)>,
        id: impl IntoSimpleExpr,
    ) -> Self {
        let mut parts: Vec<(Expr, Direction)> = key
            .into_iter()
            .map(|(part, direction)| (part.into_simple_expr(), direction))
            .collect();
        let last = parts.last().map_or(Direction::Asc, |(_, d)| *d);
        parts.push((id.into_simple_expr(), last));
        Self { parts }
    }

    /// The parts as read: reversed when reading backwards.
    fn reading(&self, backwards: bool) -> impl Iterator<Item = (Expr, Direction)> + '_ {
        self.parts.iter().map(move |(part, direction)| {
            let direction = if backwards {
                direction.reversed()
            } else {
                *direction
            };
            (part.clone(), direction)
        })
    }

    /// The rows that come after `values` (a key's) when reading so; `None`
    /// for no values (every row does).
    fn past(&self, values: Vec<Value>, backwards: bool) -> Option<Expr> {
        let parts: Vec<(Expr, Direction, Value)> = self
            .reading(backwards)
            .zip(values)
            .map(|((part, direction), value)| (part, direction, value))
            .collect();
        let (first, rest) = parts.split_first()?;
        Some(past(first, rest))
    }
}

/// The rows after `first` and `rest`'s values: compared as one row value
/// (`(a, b) < (x, y)`, which indexes serve) while the parts go the same
/// way, else part by part (`a > x OR (a = x AND ...)`).
fn past(first: &(Expr, Direction, Value), rest: &[(Expr, Direction, Value)]) -> Expr {
    let (part, direction, value) = first;
    let beyond = |left: Expr, right: Expr| match direction {
        Direction::Asc => left.gt(right),
        Direction::Desc => left.lt(right),
    };
    let same_way = rest.iter().all(|(_, d, _)| d == direction);
    match rest.split_first() {
        None => beyond(part.clone(), Expr::val(value.clone())),
        Some(_) if same_way => {
            let all = || std::iter::once(first).chain(rest);
            beyond(
                Expr::tuple(all().map(|(part, _, _)| part.clone())),
                Expr::tuple(all().map(|(_, _, value)| Expr::val(value.clone()))),
            )
        }
        Some((next, after)) => beyond(part.clone(), Expr::val(value.clone())).or(part
            .clone()
            .eq(Expr::val(value.clone()))
            .and(past(next, after))),
    }
}

/// Which page of a list is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window<K> {
    /// At most this many rows.
    pub limit: u64,
    /// Strictly past this position (in reading order).
    pub cursor: Option<K>,
    /// From the end of the list (`last`/`before`), else from its start
    /// (`first`/`after`).
    pub backwards: bool,
}

/// The alias of the numbered rows in [`Window::per_parent`], for
/// columns a caller adds.
pub const RANKED: &str = "ranked";
/// Each row's place in its parent's page, in [`Window::per_parent`].
pub const PAGE_ROW: &str = "page_row";

impl<K: Key> Window<K> {
    /// `limit` rows from the start, or after `cursor`.
    pub fn after(limit: u64, cursor: Option<K>) -> Self {
        Self {
            limit,
            cursor,
            backwards: false,
        }
    }

    /// `first` (`default` when not given) rows, after the cursor `after`.
    pub fn forwards(first: Option<i32>, default: i32, after: Option<&str>) -> AppResult<Self> {
        Ok(Self::after(
            page_size("first", first, default)?,
            after.map(|c| decode("after", c)).transpose()?,
        ))
    }

    /// All four arguments: `first`/`after` page forwards, `last`/`before`
    /// backwards from the end, and with none of them the last `default`
    /// rows. `first` with `last`, or `before` with `first`/`after`, is bad
    /// input.
    pub fn parse(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
        default: i32,
    ) -> AppResult<Self> {
        if first.is_some() && last.is_some() {
            return Err(AppError::bad_input(
                "last",
                "cannot be given with first: ask for first/after or for last/before",
            ));
        }
        let forwards = first.is_some() || after.is_some();
        if forwards && before.is_some() {
            return Err(AppError::bad_input(
                "before",
                "goes with last; with first, page on with after",
            ));
        }
        if forwards {
            Self::forwards(first, default, after)
        } else {
            Ok(Self {
                limit: page_size("last", last, default)?,
                cursor: before.map(|c| decode("before", c)).transpose()?,
                backwards: true,
            })
        }
    }

    /// The rows of `select` past the cursor, in reading order: `limit + 1`
    /// of them at most.
    pub fn select<E: EntityTrait>(&self, select: Select<E>, sort: &Sort) -> Select<E> {
        let mut select = self.narrow(select, sort);
        for (part, direction) in sort.reading(self.backwards) {
            select = select.order_by(part, direction.order());
        }
        select.limit(self.limit + 1)
    }

    /// The page of every parent at once, in one statement: the rows of
    /// `select` past the cursor, numbered in reading order within each
    /// value of `parent` (`ROW_NUMBER() OVER (PARTITION BY parent ...)`,
    /// which PostgreSQL and SQLite both run), the first `limit + 1` of each
    /// kept; by parent, then in reading order. Each row is `select`'s
    /// columns, then [`PAGE_ROW`]; columns a caller adds come after.
    pub fn per_parent<E: EntityTrait>(
        &self,
        select: Select<E>,
        sort: &Sort,
        parent: E::Column,
    ) -> SelectStatement {
        let mut numbering = WindowStatement::partition_by((E::default(), parent));
        for (part, direction) in sort.reading(self.backwards) {
            numbering.order_by_expr(part, direction.order());
        }
        let mut ranked = self.narrow(select, sort).into_query();
        ranked.expr_window_as(Func::cust("ROW_NUMBER"), numbering, PAGE_ROW);
        let take = i64::try_from(self.limit + 1).unwrap_or(i64::MAX);
        Query::select()
            .column((Alias::new(RANKED), Asterisk))
            .from_subquery(ranked, Alias::new(RANKED))
            .and_where(Expr::col(Alias::new(PAGE_ROW)).lte(take))
            .order_by((Alias::new(RANKED), parent), Order::Asc)
            .order_by(Alias::new(PAGE_ROW), Order::Asc)
            .to_owned()
    }

    /// `select` without the rows up to the cursor.
    fn narrow<E: EntityTrait>(&self, select: Select<E>, sort: &Sort) -> Select<E> {
        match self
            .cursor
            .as_ref()
            .and_then(|cursor| sort.past(cursor.values(), self.backwards))
        {
            Some(past) => select.filter(past),
            None => select,
        }
    }

    /// The page of `rows`, as [`select`](Self::select) or
    /// [`per_parent`](Self::per_parent) read them (up to `limit + 1`, in
    /// reading order): the first `limit`, in the list's order, each with
    /// the cursor of its `key`.
    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> Page<T> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        if self.backwards {
            rows.reverse();
        }
        let (has_next, has_previous) = if self.backwards {
            (self.cursor.is_some(), more)
        } else {
            (more, self.cursor.is_some())
        };
        Page {
            items: rows
                .into_iter()
                .map(|node| Item {
                    cursor: key(&node).encode(),
                    node,
                })
                .collect(),
            has_next,
            has_previous,
            total: None,
        }
    }
}

/// How many rows `select` reads, when `wanted` (counting costs a
/// statement).
pub async fn total<'db, C, S>(select: S, db: &'db C, wanted: bool) -> Result<Option<i64>, DbErr>
where
    C: ConnectionTrait,
    S: PaginatorTrait<'db, C> + Send,
{
    if !wanted {
        return Ok(None);
    }
    Ok(Some(
        i64::try_from(select.count(db).await?).unwrap_or(i64::MAX),
    ))
}

/// One row of a page and its cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    pub cursor: String,
    pub node: T,
}

/// A page of a list, in the list's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<Item<T>>,
    /// Whether rows follow the last one.
    pub has_next: bool,
    /// Whether rows come before the first one.
    pub has_previous: bool,
    /// How many rows the whole list has, when asked for.
    pub total: Option<i64>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            has_next: false,
            has_previous: false,
            total: None,
        }
    }
}

impl<T> Page<T> {
    #[must_use]
    pub fn with_total(self, total: Option<i64>) -> Self {
        Self { total, ..self }
    }

    /// The rows, in order.
    pub fn nodes(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|i| &i.node)
    }

    /// The same page, each row made another thing; rows `f` makes nothing
    /// of (gone since their key was read) are left out, their neighbours'
    /// cursors unchanged.
    pub fn filter_map<U>(self, mut f: impl FnMut(T) -> Option<U>) -> Page<U> {
        Page {
            items: self
                .items
                .into_iter()
                .filter_map(|Item { cursor, node }| f(node).map(|node| Item { cursor, node }))
                .collect(),
            has_next: self.has_next,
            has_previous: self.has_previous,
            total: self.total,
        }
    }

    /// The same page, each row made another thing.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        self.filter_map(|node| Some(f(node)))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use sea_orm::{
        ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, DbBackend, FromQueryResult,
        Schema, Set,
    };

    use super::*;
    use entity::message::{ActiveModel, Column as M, Entity as Messages, Model};

    fn bad_input(result: AppResult<impl std::fmt::Debug>) -> Option<(String, String)> {
        match result {
            Err(AppError::BadUserInput { field, message }) => Some((field, message)),
            _ => None,
        }
    }

    fn forged(json: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    #[test]
    fn page_sizes_are_1_to_100_and_name_their_argument() {
        assert_eq!(page_size("first", None, 20).ok(), Some(20));
        assert_eq!(page_size("first", Some(1), 20).ok(), Some(1));
        assert_eq!(page_size("first", Some(100), 20).ok(), Some(100));
        let refused =
            |field: &str| Some((field.to_owned(), "must be between 1 and 100".to_owned()));
        for size in [0, -1, 101, i32::MIN, i32::MAX] {
            assert_eq!(
                bad_input(page_size("first", Some(size), 20)),
                refused("first"),
                "{size}"
            );
        }
        assert_eq!(bad_input(page_size("last", Some(0), 20)), refused("last"));
        // A default out of range is as wrong as a given size.
        assert_eq!(bad_input(page_size("first", None, 0)), refused("first"));
    }

    /// A key of an instant and a date (bookings sort by a date).
    #[derive(Debug, Serialize, Deserialize)]
    struct Stay {
        at: DateTime<Utc>,
        day: NaiveDate,
        id: Uuid,
    }

    impl Key for Stay {
        fn is_stored(&self) -> bool {
            stored_instant(&self.at) && stored_date(&self.day)
        }

        fn values(&self) -> Vec<Value> {
            vec![self.at.into(), self.day.into(), self.id.into()]
        }
    }

    const NOT_OURS: &str = "is not a cursor of this list; pass an endCursor from the same query";

    #[test]
    fn a_cursor_whose_values_no_row_holds_is_bad_input() {
        let id = "0190a3c5-5c2e-7000-8000-000000000001";
        let decoded = |at: &str, day: &str| {
            decode::<Stay>(
                "after",
                &forged(serde_json::json!({ "at": at, "day": day, "id": id })),
            )
            .is_ok()
        };
        assert!(decoded("2027-03-10T14:00:00Z", "2027-03-10"));
        assert!(decoded("0001-01-01T00:00:00Z", "9999-12-31"));
        assert!(!decoded("-5000-01-01T00:00:00Z", "2027-03-10"));
        assert!(!decoded("+20000-01-01T00:00:00Z", "2027-03-10"));
        assert!(!decoded("2027-03-10T14:00:00Z", "-5000-01-01"));
        assert!(!decoded("2027-03-10T14:00:00Z", "0000-12-31"));
        let forgeries = [
            forged(serde_json::json!({ "at": 1e300, "day": "2027-03-10", "id": id })),
            forged(serde_json::json!({ "at": "2027-03-10T14:00:00Z", "day": "2027-03-10" })),
            forged(serde_json::json!([1, 2, 3])),
            "not base64!".to_owned(),
            URL_SAFE_NO_PAD.encode("not json"),
            String::new(),
        ];
        for cursor in forgeries {
            assert_eq!(
                bad_input(decode::<Stay>("before", &cursor)),
                Some(("before".to_owned(), NOT_OURS.to_owned())),
                "{cursor}"
            );
        }
    }

    #[test]
    fn cursors_are_base64url_json_of_the_key() {
        let key = At {
            at: Utc
                .with_ymd_and_hms(2027, 3, 10, 14, 0, 0)
                .single()
                .expect("instant"),
            id: Uuid::from_u128(1),
        };
        let cursor = key.encode();
        assert_eq!(
            cursor,
            URL_SAFE_NO_PAD.encode(
                r#"{"at":"2027-03-10T14:00:00Z","id":"00000000-0000-0000-0000-000000000001"}"#
            )
        );
        assert_eq!(decode::<At>("after", &cursor).ok(), Some(key));
        // Surrounding blanks (a pasted cursor) are no matter.
        assert_eq!(
            decode::<At>("after", &format!(" {cursor}\n")).ok(),
            Some(key)
        );
    }

    #[test]
    fn the_four_arguments_choose_a_direction() {
        let cursor = At {
            at: Utc
                .with_ymd_and_hms(2027, 3, 10, 14, 0, 0)
                .single()
                .expect("instant"),
            id: Uuid::from_u128(7),
        };
        let c = cursor.encode();
        let parse =
            |first, after, last, before| Window::<At>::parse(first, after, last, before, 20);
        assert_eq!(
            parse(None, None, None, None).ok(),
            Some(Window {
                limit: 20,
                cursor: None,
                backwards: true
            })
        );
        assert_eq!(
            parse(Some(5), Some(&c), None, None).ok(),
            Some(Window {
                limit: 5,
                cursor: Some(cursor),
                backwards: false
            })
        );
        assert_eq!(
            parse(None, Some(&c), None, None).ok(),
            Some(Window {
                limit: 20,
                cursor: Some(cursor),
                backwards: false
            })
        );
        assert_eq!(
            parse(None, None, Some(3), Some(&c)).ok(),
            Some(Window {
                limit: 3,
                cursor: Some(cursor),
                backwards: true
            })
        );
        assert_eq!(
            bad_input(parse(Some(5), None, Some(5), None)),
            Some((
                "last".to_owned(),
                "cannot be given with first: ask for first/after or for last/before".to_owned()
            ))
        );
        assert_eq!(
            bad_input(parse(None, Some(&c), None, Some(&c))),
            Some((
                "before".to_owned(),
                "goes with last; with first, page on with after".to_owned()
            ))
        );
        assert_eq!(
            bad_input(parse(None, None, Some(101), None)),
            Some(("last".to_owned(), "must be between 1 and 100".to_owned()))
        );
        assert_eq!(
            bad_input(parse(None, None, None, Some("forged"))),
            Some(("before".to_owned(), NOT_OURS.to_owned()))
        );
        assert_eq!(
            bad_input(Window::<At>::forwards(Some(0), 20, Some(&c))),
            Some(("first".to_owned(), "must be between 1 and 100".to_owned()))
        );
    }

    /// A message's place by when it was sent.
    fn sent(row: &Model) -> At {
        At {
            at: row.sent_at,
            id: row.id,
        }
    }

    /// A message's place by its body, then when it was sent.
    #[derive(Debug, Serialize, Deserialize)]
    struct Said {
        b: String,
        s: DateTime<Utc>,
        i: Uuid,
    }

    impl Key for Said {
        fn is_stored(&self) -> bool {
            stored_instant(&self.s)
        }

        fn values(&self) -> Vec<Value> {
            vec![self.b.clone().into(), self.s.into(), self.i.into()]
        }
    }

    fn said(row: &Model) -> Said {
        Said {
            b: row.body.clone(),
            s: row.sent_at,
            i: row.id,
        }
    }

    const A: u128 = 100;
    const B: u128 = 200;

    /// Messages `(id, conversation, body, minute sent)`: ids out of the
    /// order they were sent in, three sent in the same minute.
    const ROWS: [(u128, u128, &str, u32); 7] = [
        (5, A, "b", 1),
        (3, A, "a", 2),
        (7, A, "b", 2),
        (1, A, "a", 2),
        (2, A, "b", 3),
        (4, B, "x", 1),
        (6, B, "x", 2),
    ];

    async fn database() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        let schema = Schema::new(DbBackend::Sqlite);
        db.execute(&schema.create_table_from_entity(Messages))
            .await
            .expect("messages");
        for (id, conversation, body, minute) in ROWS {
            ActiveModel {
                id: Set(Uuid::from_u128(id)),
                conversation_id: Set(Uuid::from_u128(conversation)),
                sender_id: Set(Uuid::from_u128(9)),
                body: Set(body.to_owned()),
                sent_at: Set(Utc
                    .with_ymd_and_hms(2027, 3, 10, 14, minute, 0)
                    .single()
                    .expect("instant")),
                read_at: Set(None),
            }
            .insert(&db)
            .await
            .expect("message");
        }
        db
    }

    /// The ids of a page, its hasPreviousPage and hasNextPage.
    type Seen = (Vec<u128>, bool, bool);

    fn seen(page: &Page<Model>) -> Seen {
        (
            page.nodes().map(|r| r.id.as_u128()).collect(),
            page.has_previous,
            page.has_next,
        )
    }

    /// Every page of conversation A, `limit` at a time, following the end
    /// cursor forwards or the start cursor backwards.
    async fn walk<K: Key>(
        db: &DatabaseConnection,
        sort: &Sort,
        key: fn(&Model) -> K,
        limit: u64,
        backwards: bool,
    ) -> Vec<Seen> {
        let mut window = Window {
            limit,
            cursor: None,
            backwards,
        };
        let mut pages = Vec::new();
        loop {
            let of_a = Messages::find().filter(M::ConversationId.eq(Uuid::from_u128(A)));
            let rows = window.select(of_a, sort).all(db).await.expect("page");
            let page = window.page(rows, key);
            pages.push(seen(&page));
            let (more, next) = if backwards {
                (page.has_previous, page.items.first())
            } else {
                (page.has_next, page.items.last())
            };
            match next.filter(|_| more) {
                Some(item) => window.cursor = Some(decode("after", &item.cursor).expect("ours")),
                None => return pages,
            }
        }
    }

    #[tokio::test]
    async fn pages_follow_each_other_both_ways_ties_broken_by_id() {
        let db = database().await;
        let oldest_first = Sort::new([(M::SentAt, Direction::Asc)], M::Id);
        // Minute 1: 5; minute 2: 1, 3, 7 (by id); minute 3: 2.
        assert_eq!(
            walk(&db, &oldest_first, sent, 2, false).await,
            [
                (vec![5, 1], false, true),
                (vec![3, 7], true, true),
                (vec![2], true, false),
            ]
        );
        // Backwards from the end, each page still in the list's order.
        assert_eq!(
            walk(&db, &oldest_first, sent, 2, true).await,
            [
                (vec![7, 2], true, false),
                (vec![1, 3], true, true),
                (vec![5], false, true),
            ]
        );
        let newest_first = Sort::new([(M::SentAt, Direction::Desc)], M::Id);
        assert_eq!(
            walk(&db, &newest_first, sent, 3, false).await,
            [(vec![2, 7, 3], false, true), (vec![1, 5], true, false)]
        );
        assert_eq!(
            walk(&db, &newest_first, sent, 3, true).await,
            [(vec![3, 1, 5], true, false), (vec![2, 7], false, true)]
        );
        // A page as long as the list says there is no other.
        assert_eq!(
            walk(&db, &newest_first, sent, 5, false).await,
            [(vec![2, 7, 3, 1, 5], false, false)]
        );
    }

    #[tokio::test]
    async fn a_sort_may_take_its_columns_each_way() {
        let db = database().await;
        // Bodies A to Z, each body's newest first: a (minute 2: 3, 1), b
        // (minute 3: 2; minute 2: 7; minute 1: 5).
        let sort = Sort::new(
            [(M::Body, Direction::Asc), (M::SentAt, Direction::Desc)],
            M::Id,
        );
        assert_eq!(
            walk(&db, &sort, said, 2, false).await,
            [
                (vec![3, 1], false, true),
                (vec![2, 7], true, true),
                (vec![5], true, false),
            ]
        );
        assert_eq!(
            walk(&db, &sort, said, 2, true).await,
            [
                (vec![7, 5], true, false),
                (vec![1, 2], true, true),
                (vec![3], false, true),
            ]
        );
    }

    #[tokio::test]
    async fn one_statement_reads_the_page_of_every_parent() {
        let db = database().await;
        let sort = Sort::new([(M::SentAt, Direction::Asc)], M::Id);
        let read = |window: Window<At>| {
            let db = &db;
            let sort = &sort;
            async move {
                let both = Messages::find()
                    .filter(M::ConversationId.is_in([Uuid::from_u128(A), Uuid::from_u128(B)]));
                let statement = window.per_parent(both, sort, M::ConversationId);
                let mut by: Vec<(u128, Vec<Model>)> = vec![(A, Vec::new()), (B, Vec::new())];
                for found in db.query_all(&statement).await.expect("pages") {
                    let row = Model::from_query_result(&found, "").expect("message");
                    if let Some((_, rows)) = by
                        .iter_mut()
                        .find(|(c, _)| *c == row.conversation_id.as_u128())
                    {
                        rows.push(row);
                    }
                }
                by.into_iter()
                    .map(|(c, rows)| (c, seen(&window.page(rows, sent))))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            read(Window::after(2, None)).await,
            [
                (A, (vec![5, 1], false, true)),
                (B, (vec![4, 6], false, false))
            ]
        );
        // The same cursor for both: past minute 2 (and id 1) in each.
        let cursor = At {
            at: Utc
                .with_ymd_and_hms(2027, 3, 10, 14, 2, 0)
                .single()
                .expect("instant"),
            id: Uuid::from_u128(1),
        };
        assert_eq!(
            read(Window::after(2, Some(cursor))).await,
            [(A, (vec![3, 7], true, true)), (B, (vec![6], true, false))]
        );
        assert_eq!(
            read(Window {
                limit: 1,
                cursor: None,
                backwards: true
            })
            .await,
            [(A, (vec![2], true, false)), (B, (vec![6], true, false))]
        );
    }
}
