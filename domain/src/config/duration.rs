//! Durations in configuration: `"15m"`, `"30d"`, `"1h 30m"` (humantime), or a
//! bare number of seconds, which is what an environment variable such as
//! `ROOST_ACCESS_TOKEN_TTL=900` arrives as.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer, de::Error};

pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&humantime_serde::re::humantime::format_duration(*value).to_string())
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Seconds(u64),
        Text(String),
    }
    match Written::deserialize(deserializer)? {
        Written::Seconds(s) => Ok(Duration::from_secs(s)),
        Written::Text(t) => match t.trim().parse::<u64>() {
            Ok(s) => Ok(Duration::from_secs(s)),
            Err(_) => humantime_serde::re::humantime::parse_duration(t.trim())
                .map_err(|e| D::Error::custom(format!("{t:?} is not a duration: {e}"))),
        },
    }
}
