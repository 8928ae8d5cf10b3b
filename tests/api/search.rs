//! Search: every filter and order on a small fixed dataset, and pagination.
