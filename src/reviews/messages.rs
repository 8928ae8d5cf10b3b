//! What a host is told about a new review, and an author about the host's
//! response.

use crate::bookings::messages::Text;
use crate::notifications::Kind;

fn stars(rating: i32) -> String {
    if rating == 1 {
        "1 star".to_owned()
    } else {
        format!("{rating} stars")
    }
}

pub fn review_received(author: &str, listing: &str, rating: i32) -> Text {
    Text {
        kind: Kind::ReviewReceived,
        title: "You have a new review".to_owned(),
        body: format!(
            "{author} rated their stay at {listing} {}. Read the review and respond to it.",
            stars(rating)
        ),
    }
}

pub fn response_received(listing: &str) -> Text {
    Text {
        kind: Kind::ReviewReceived,
        title: "The host responded to your review".to_owned(),
        body: format!("The host of {listing} responded to your review."),
    }
}
