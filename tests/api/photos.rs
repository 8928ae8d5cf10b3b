//! Listing photos: uploads checked by their bytes, order, files served and deleted.
//!
//! Uploads go through real multipart requests (the GraphQL multipart request
//! spec), files are fetched back over HTTP, and the S3 backend is exercised
//! against a small in-memory fake bucket served by the test itself.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use reqwest::multipart::{Form, Part};
use roost::graphql::ids::{NodeType, decode_as};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_bad_input, code, count_rows, spawn_app, spawn_with};

pub(crate) const ADD: &str = "mutation($p: ID!, $f: Upload!, $c: String) { addPropertyPhoto(propertyId: $p, file: $f, caption: $c) { id url caption position } }";
const REMOVE: &str = "mutation($id: ID!) { removePropertyPhoto(photoId: $id) }";
const PHOTOS: &str = "query($id: ID!) { property(id: $id) { photos { id url caption position } } }";
const NODE: &str =
    "query($id: ID!) { node(id: $id) { __typename id ... on Photo { url caption position } } }";
const DELETE_PROPERTY: &str = "mutation($id: ID!) { deleteProperty(id: $id) }";

/// Tiny images of one pixel: the server reads their format from their first
/// bytes and their size from their header, and nothing else.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0:~\x9bU\0\0\0\nIDATx\x9cch\0\0\0\x82\0\x81w\xcdr\xb6\0\0\0\0IEND\xaeB`\x82";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xC0\0\x0b\x08\0\x01\0\x01\x01\x01\x11\0\xFF\xD9";
const WEBP: &[u8] = b"RIFF\x12\0\0\0WEBPVP8L\x05\0\0\0\x2f\0\0\0\0\0";

const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// One file part of a multipart request.
struct File {
    name: &'static str,
    mime: &'static str,
    bytes: Vec<u8>,
}

fn file(name: &'static str, mime: &'static str, bytes: &[u8]) -> File {
    File {
        name,
        mime,
        bytes: bytes.to_vec(),
    }
}

/// A PNG sent the way a careless client would: no useful name or type.
fn png() -> File {
    file("upload", "application/octet-stream", PNG)
}

/// Sends `addPropertyPhoto` as a multipart request; the raw response.
async fn upload_response(
    app: &TestApp,
    token: Option<&str>,
    property: &str,
    file: File,
    caption: Option<&str>,
) -> reqwest::Response {
    let operations = json!({
        "query": ADD,
        "variables": { "p": property, "f": null, "c": caption },
    });
    let part = Part::bytes(file.bytes)
        .file_name(file.name)
        .mime_str(file.mime)
        .expect("a valid content type");
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", part);
    let mut req = app.http.post(app.url("/graphql")).multipart(form);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("request sent")
}

/// Sends `addPropertyPhoto`; the JSON answer (always HTTP 200: errors of a
/// field are not request errors).
async fn add_photo(
    app: &TestApp,
    token: Option<&str>,
    property: &str,
    file: File,
    caption: Option<&str>,
) -> Value {
    let resp = upload_response(app, token, property, file, caption).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("JSON response")
}

/// The Photo a successful `addPropertyPhoto` returned.
#[track_caller]
fn added(resp: &Value) -> Value {
    let photo = &resp["data"]["addPropertyPhoto"];
    assert!(photo.is_object(), "addPropertyPhoto failed: {resp}");
    photo.clone()
}

/// `Property.photos` as `token` sees it.
async fn listed(app: &TestApp, token: Option<&str>, property: &str) -> Value {
    let resp = app.gql_as(token, PHOTOS, json!({ "id": property })).await;
    assert!(resp.get("errors").is_none(), "{resp}");
    resp["data"]["property"]["photos"].clone()
}

async fn remove(app: &TestApp, token: Option<&str>, photo: &str) -> Value {
    app.gql_as(token, REMOVE, json!({ "id": photo })).await
}

async fn node(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    let resp = app.gql_as(token, NODE, json!({ "id": id })).await;
    assert!(resp.get("errors").is_none(), "{resp}");
    resp["data"]["node"].clone()
}

fn uuid_of(kind: NodeType, id: &str) -> Uuid {
    decode_as(kind, id).unwrap_or_else(|| panic!("{id} is not a {} id", kind.name()))
}

/// The storage key of a photo: `properties/<listing uuid>/<photo uuid>.<ext>`.
fn storage_key(property: &str, photo: &str, ext: &str) -> String {
    format!(
        "properties/{}/{}.{ext}",
        uuid_of(NodeType::Property, property),
        uuid_of(NodeType::Photo, photo)
    )
}

fn id_of(photo: &Value) -> String {
    photo["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {photo}"))
        .to_owned()
}

/// A plain GET: status, content type, cache control, body.
async fn fetch(app: &TestApp, url: &str) -> (u16, String, String, Vec<u8>) {
    let resp = app.http.get(url).send().await.expect("request sent");
    let header = |name: header::HeaderName| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII header").to_owned())
            .unwrap_or_default()
    };
    let content_type = header(header::CONTENT_TYPE);
    let cache = header(header::CACHE_CONTROL);
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, content_type, cache, body)
}

async fn status_of(app: &TestApp, url: &str) -> u16 {
    fetch(app, url).await.0
}

/// Every file below `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn png_jpeg_and_webp_are_stored_served_and_listed_in_order() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    let mut photos = Vec::new();
    for (position, (file, ext, content_type, caption, stored_caption)) in [
        (
            file("living.png", "image/png", PNG),
            "png",
            "image/png",
            Some("Living room"),
            json!("Living room"),
        ),
        (
            file("kitchen.jpg", "image/jpeg", JPEG),
            "jpg",
            "image/jpeg",
            Some("  Kitchen  "),
            json!("Kitchen"),
        ),
        (
            file("balcony.webp", "image/webp", WEBP),
            "webp",
            "image/webp",
            None,
            Value::Null,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = file.bytes.clone();
        let photo = added(&add_photo(&app, t, &property, file, caption).await);
        let id = id_of(&photo);
        let url = app.url(&format!("/photos/{}", storage_key(&property, &id, ext)));
        assert_eq!(
            photo,
            json!({ "id": id, "url": url, "caption": stored_caption, "position": position })
        );

        let (status, served_type, cache, body) = fetch(&app, &url).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(served_type, content_type);
        assert_eq!(cache, CACHE_FOREVER);
        assert_eq!(body, bytes, "the file comes back byte for byte");
        photos.push(photo);
    }

    let ids: std::collections::HashSet<String> = photos.iter().map(id_of).collect();
    assert_eq!(ids.len(), 3, "every photo has its own id");
    // In upload order, for the host and for anyone on a LISTED listing.
    assert_eq!(
        listed(&app, t, &property).await,
        Value::Array(photos.clone())
    );
    assert_eq!(
        listed(&app, None, &property).await,
        Value::Array(photos.clone())
    );
    // And each is a node.
    for photo in &photos {
        let mut expected = photo.clone();
        expected["__typename"] = json!("Photo");
        assert_eq!(node(&app, None, &id_of(photo)).await, expected);
    }
    assert_eq!(count_rows(&app.db, "property_photos").await, 3);
    assert_eq!(files_under(&app.config.storage.photos_dir).len(), 3);
}

#[tokio::test]
async fn the_bytes_decide_the_type_not_the_name_or_content_type() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    // A JPEG that calls itself a PNG is stored and served as a JPEG.
    let photo = added(
        &add_photo(
            &app,
            t,
            &property,
            file("disguised.png", "image/png", JPEG),
            None,
        )
        .await,
    );
    let url = photo["url"].as_str().expect("url").to_owned();
    assert_eq!(
        url,
        app.url(&format!(
            "/photos/{}",
            storage_key(&property, &id_of(&photo), "jpg")
        ))
    );
    let (status, content_type, _, body) = fetch(&app, &url).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    assert_eq!(body, JPEG);
}

#[tokio::test]
async fn files_that_are_not_jpeg_png_or_webp_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    for (name, mime, bytes) in [
        (
            "notes.png",
            "image/png",
            &b"just some text, honestly a png"[..],
        ),
        ("anim.gif", "image/gif", b"GIF89a\x01\0\x01\0\x80\0\0"),
        (
            "logo.svg",
            "image/svg+xml",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        ),
        ("sound.webp", "image/webp", b"RIFF\x24\0\0\0WAVEfmt "),
        ("short.jpg", "image/jpeg", b"\xFF\xD8"),
        ("empty.png", "image/png", b""),
    ] {
        let resp = add_photo(&app, t, &property, file(name, mime, bytes), Some("Nice")).await;
        assert_bad_input(&resp, "file");
        assert_eq!(resp["data"], Value::Null, "{name}: {resp}");
    }
    assert_eq!(listed(&app, t, &property).await, json!([]));
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
    assert_eq!(
        files_under(&app.config.storage.photos_dir),
        Vec::<PathBuf>::new()
    );
}

#[tokio::test]
async fn captions_are_trimmed_and_at_most_300_characters() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    let too_long = "a".repeat(301);
    let resp = add_photo(&app, t, &property, png(), Some(&too_long)).await;
    assert_bad_input(&resp, "caption");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("300")),
        "the message says the limit: {resp}"
    );
    assert_eq!(listed(&app, t, &property).await, json!([]));
    assert_eq!(
        files_under(&app.config.storage.photos_dir),
        Vec::<PathBuf>::new()
    );

    // 300 characters (not bytes) is fine; blank means no caption.
    let longest = "é".repeat(300);
    let photo = added(&add_photo(&app, t, &property, png(), Some(&longest)).await);
    assert_eq!(photo["caption"], json!(longest));
    assert_eq!(photo["position"], 0);
    let photo = added(&add_photo(&app, t, &property, png(), Some("   ")).await);
    assert_eq!(photo["caption"], Value::Null);
    assert_eq!(photo["position"], 1);
}

#[tokio::test]
async fn only_the_host_or_an_admin_may_add_photos() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let other = app.host("otto@example.com").await;
    let guest = app.register("gus@example.com").await;
    let admin = app.host("ada@example.com").await;
    app.make_admin("ada@example.com").await;
    let listed_id = app.create_property(&host, json!({})).await;
    let draft = app
        .create_property(&host, json!({ "status": "DRAFT" }))
        .await;

    for (token, expected) in [
        (Some(guest.access_token.as_str()), "FORBIDDEN"),
        (Some(other.access_token.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let resp = add_photo(&app, token, &listed_id, png(), None).await;
        assert_eq!(code(&resp), expected, "{resp}");
        assert_eq!(resp["data"], Value::Null);
    }
    // Nobody but its host and admins may even see a draft.
    for token in [&other.access_token, &guest.access_token] {
        let resp = add_photo(&app, Some(token), &draft, png(), None).await;
        assert_eq!(code(&resp), "NOT_FOUND", "{resp}");
    }
    assert_eq!(
        code(&add_photo(&app, None, &draft, png(), None).await),
        "UNAUTHENTICATED"
    );
    // Ids that name no listing.
    let user_id = guest.user_id.clone();
    for bad in ["garbage", "", user_id.as_str()] {
        let resp = add_photo(&app, Some(&host.access_token), bad, png(), None).await;
        assert_eq!(code(&resp), "NOT_FOUND", "{bad:?}: {resp}");
    }
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
    assert_eq!(
        files_under(&app.config.storage.photos_dir),
        Vec::<PathBuf>::new()
    );

    // The host and an admin may, on either listing.
    let a = added(&add_photo(&app, Some(&host.access_token), &listed_id, png(), None).await);
    let b = added(&add_photo(&app, Some(&admin.access_token), &listed_id, png(), None).await);
    assert_eq!((&a["position"], &b["position"]), (&json!(0), &json!(1)));
    let d = added(&add_photo(&app, Some(&admin.access_token), &draft, png(), None).await);
    assert_eq!(d["position"], 0);
    assert_eq!(
        listed(&app, Some(&host.access_token), &draft).await,
        json!([d])
    );
    // A draft's photo is no one else's node.
    assert_eq!(node(&app, None, &id_of(&d)).await, Value::Null);
    assert_eq!(
        node(&app, Some(&other.access_token), &id_of(&d)).await,
        Value::Null
    );
    assert_eq!(
        node(&app, Some(&host.access_token), &id_of(&d)).await["id"],
        d["id"]
    );
}

#[tokio::test]
async fn removing_a_photo_closes_the_gap_and_deletes_its_file() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let other = app.host("otto@example.com").await;
    let guest = app.register("gus@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;
    let mut photos = Vec::new();
    for (caption, bytes) in [("first", PNG), ("second", JPEG), ("third", WEBP)] {
        photos.push(added(
            &add_photo(
                &app,
                t,
                &property,
                file("f", "application/octet-stream", bytes),
                Some(caption),
            )
            .await,
        ));
    }
    let [first, second, third] = [&photos[0], &photos[1], &photos[2]];
    let url = |p: &Value| p["url"].as_str().expect("url").to_owned();

    // Others may not.
    for (token, expected) in [
        (Some(other.access_token.as_str()), "FORBIDDEN"),
        (Some(guest.access_token.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let resp = remove(&app, token, &id_of(second)).await;
        assert_eq!(code(&resp), expected, "{resp}");
        assert_eq!(resp["data"], Value::Null);
    }
    assert_eq!(listed(&app, t, &property).await, json!(photos));
    assert_eq!(status_of(&app, &url(second)).await, 200);

    let resp = remove(&app, t, &id_of(second)).await;
    assert_eq!(resp, json!({ "data": { "removePropertyPhoto": true } }));
    let mut moved_up = third.clone();
    moved_up["position"] = json!(1);
    assert_eq!(
        listed(&app, t, &property).await,
        json!([first, moved_up]),
        "the third photo takes the second's place"
    );
    assert_eq!(status_of(&app, &url(second)).await, 404);
    assert_eq!(status_of(&app, &url(first)).await, 200);
    assert_eq!(status_of(&app, &url(third)).await, 200);
    assert_eq!(node(&app, t, &id_of(second)).await, Value::Null);
    assert_eq!(node(&app, t, &id_of(third)).await["position"], 1);
    assert_eq!(files_under(&app.config.storage.photos_dir).len(), 2);

    // Gone is gone.
    assert_eq!(code(&remove(&app, t, &id_of(second)).await), "NOT_FOUND");
    for bad in ["garbage", property.as_str()] {
        assert_eq!(code(&remove(&app, t, bad).await), "NOT_FOUND", "{bad}");
    }

    // A new photo goes to the end, with no gap.
    let fourth = added(&add_photo(&app, t, &property, png(), None).await);
    assert_eq!(fourth["position"], 2);
    // Removing the first moves everything up.
    assert_eq!(
        remove(&app, t, &id_of(first)).await["data"]["removePropertyPhoto"],
        true
    );
    let positions: Vec<(String, i64)> = listed(&app, t, &property)
        .await
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| (id_of(p), p["position"].as_i64().expect("position")))
        .collect();
    assert_eq!(positions, vec![(id_of(third), 0), (id_of(&fourth), 1)]);
}

#[tokio::test]
async fn an_admin_may_remove_a_hosts_photo() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let admin = app.register("ada@example.com").await;
    app.make_admin("ada@example.com").await;
    let property = app.create_property(&host, json!({})).await;
    let photo = added(&add_photo(&app, Some(&host.access_token), &property, png(), None).await);
    let resp = remove(&app, Some(&admin.access_token), &id_of(&photo)).await;
    assert_eq!(resp, json!({ "data": { "removePropertyPhoto": true } }));
    assert_eq!(listed(&app, None, &property).await, json!([]));
}

#[tokio::test]
async fn a_file_over_ten_mebibytes_is_refused() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;
    let ten_mib = 10 * 1024 * 1024;

    let mut big = PNG.to_vec();
    big.resize(ten_mib + 1, 0);
    let resp = upload_response(
        &app,
        t,
        &property,
        File {
            name: "big.png",
            mime: "image/png",
            bytes: big,
        },
        None,
    )
    .await;
    // Refused while the multipart body is read, before anything runs:
    // HTTP 413, a request error naming the limit.
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.expect("JSON response");
    assert_eq!(code(&body), "BAD_REQUEST", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "Each uploaded file may be at most 10 MiB"
    );
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
    assert_eq!(
        files_under(&app.config.storage.photos_dir),
        Vec::<PathBuf>::new()
    );

    // Exactly 10 MiB is allowed, and the server still answers normally.
    let mut limit = PNG.to_vec();
    limit.resize(ten_mib, 7);
    let photo = added(
        &add_photo(
            &app,
            t,
            &property,
            File {
                name: "limit.png",
                mime: "image/png",
                bytes: limit.clone(),
            },
            None,
        )
        .await,
    );
    assert_eq!(photo["position"], 0);
    let (status, _, _, body) = fetch(&app, photo["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert!(body == limit, "the 10 MiB file comes back intact");
}

/// A PNG whose header declares `width` x `height` pixels (its one chunk of
/// pixel data is a single pixel's: a decoder bomb sends no more).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).expect("small").to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", b"x\x9cch\0\0\0\x82\0\x81");
    chunk(&mut out, b"IEND", b"");
    out
}

/// PNG's CRC-32 (ISO 3309), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A baseline JPEG header (JFIF, then a frame header of `width` x `height`).
fn jpeg_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut out = JPEG[..20].to_vec();
    out.extend_from_slice(b"\xFF\xC0\0\x0b\x08");
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(b"\x01\x01\x11\0\xFF\xD9");
    out
}

/// An extended WebP (VP8X) whose canvas is `width` x `height` (up to 2^24).
fn webp_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    out.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    out.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    out
}

#[tokio::test]
async fn photos_declaring_more_than_8000_pixels_a_side_are_refused() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    // Decoder bombs: a few hundred bytes that would take gigabytes to show.
    for (name, bytes, size) in [
        (
            "bomb.png",
            png_declaring(100_000, 100_000),
            "100000 x 100000",
        ),
        ("wide.png", png_declaring(8001, 1), "8001 x 1"),
        ("tall.png", png_declaring(1, 8001), "1 x 8001"),
        ("bomb.jpg", jpeg_declaring(65_535, 65_535), "65535 x 65535"),
        ("big.jpg", jpeg_declaring(9000, 6000), "9000 x 6000"),
        (
            "bomb.webp",
            webp_declaring(100_000, 100_000),
            "100000 x 100000",
        ),
    ] {
        let resp = add_photo(&app, t, &property, file(name, "image/png", &bytes), None).await;
        assert_bad_input(&resp, "file");
        assert_eq!(
            resp["errors"][0]["message"],
            format!("must be at most 8000 x 8000 pixels; this one is {size}"),
            "{name}"
        );
    }
    // Headers that do not give a size at all.
    let mut no_ihdr = png_declaring(10, 10);
    no_ihdr[12..16].copy_from_slice(b"tEXt");
    let no_frame = [&JPEG[..20], b"\xFF\xD9"].concat();
    let unknown_chunk = b"RIFF\x16\0\0\0WEBPVP8Z\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    for (name, bytes) in [
        ("no-ihdr.png", no_ihdr),
        ("no-frame.jpg", no_frame),
        ("unknown.webp", unknown_chunk),
        ("zero.png", png_declaring(0, 10)),
    ] {
        let resp = add_photo(&app, t, &property, file(name, "image/png", &bytes), None).await;
        assert_bad_input(&resp, "file");
        assert_eq!(
            resp["errors"][0]["message"], "must be an image whose header gives its size",
            "{name}"
        );
    }
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
    assert_eq!(
        files_under(&app.config.storage.photos_dir),
        Vec::<PathBuf>::new()
    );

    // 8000 pixels a side is allowed, in each format.
    for bytes in [
        png_declaring(8000, 8000),
        jpeg_declaring(8000, 1),
        webp_declaring(1, 8000),
    ] {
        added(&add_photo(&app, t, &property, file("edge", "image/png", &bytes), None).await);
    }
    assert_eq!(count_rows(&app.db, "property_photos").await, 3);
}

#[tokio::test]
async fn a_listing_holds_at_most_fifty_photos() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;
    let mut ids = Vec::new();
    for position in 0..50 {
        let photo = added(&add_photo(&app, t, &property, png(), None).await);
        assert_eq!(photo["position"], position);
        ids.push(id_of(&photo));
    }
    let resp = add_photo(&app, t, &property, png(), None).await;
    assert_eq!(code(&resp), "CONFLICT", "{resp}");
    assert_eq!(resp["data"], Value::Null);
    assert_eq!(count_rows(&app.db, "property_photos").await, 50);
    assert_eq!(files_under(&app.config.storage.photos_dir).len(), 50);
    let positions: Vec<i64> = listed(&app, t, &property)
        .await
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| p["position"].as_i64().expect("position"))
        .collect();
    assert_eq!(positions, (0..50).collect::<Vec<i64>>());

    // Making room lets one more in, at the end.
    assert_eq!(
        remove(&app, t, &ids[10]).await["data"]["removePropertyPhoto"],
        true
    );
    let photo = added(&add_photo(&app, t, &property, png(), None).await);
    assert_eq!(photo["position"], 49);
    assert_eq!(
        code(&add_photo(&app, t, &property, png(), None).await),
        "CONFLICT"
    );
}

/// The limit holds when uploads race: the count must be taken under the
/// listing's lock, not before it.
#[tokio::test]
async fn racing_uploads_never_take_a_listing_past_fifty_photos() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;
    for _ in 0..48 {
        added(&add_photo(&app, t, &property, png(), None).await);
    }
    let results =
        futures_util::future::join_all((0..6).map(|_| add_photo(&app, t, &property, png(), None)))
            .await;
    let mut outcomes: Vec<&str> = results
        .iter()
        .map(|r| {
            if r.get("errors").is_some() {
                code(r)
            } else {
                "ok"
            }
        })
        .collect();
    outcomes.sort_unstable();
    assert_eq!(
        outcomes,
        ["CONFLICT", "CONFLICT", "CONFLICT", "CONFLICT", "ok", "ok"],
        "two of six racing uploads fit: {results:?}"
    );
    assert_eq!(count_rows(&app.db, "property_photos").await, 50);
    assert_eq!(files_under(&app.config.storage.photos_dir).len(), 50);
}

/// Positions stay 0..n-1 when removals race: each removal must read the
/// removed photo's position under the listing's lock.
#[tokio::test]
async fn racing_removals_leave_no_gaps() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(id_of(&added(
            &add_photo(&app, t, &property, png(), None).await,
        )));
    }
    // Remove the first four at once.
    let results =
        futures_util::future::join_all(ids[..4].iter().map(|id| remove(&app, t, id))).await;
    for r in &results {
        assert_eq!(*r, json!({ "data": { "removePropertyPhoto": true } }));
    }
    let positions: Vec<(String, i64)> = listed(&app, t, &property)
        .await
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| (id_of(p), p["position"].as_i64().expect("position")))
        .collect();
    let expected: Vec<(String, i64)> = ids[4..].iter().cloned().zip(0..).collect();
    assert_eq!(positions, expected);
}

#[tokio::test]
async fn deleting_a_listing_deletes_its_photo_files() {
    let app = spawn_app().await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;
    let kept = app.create_property(&host, json!({})).await;
    let mut urls = Vec::new();
    for bytes in [PNG, JPEG] {
        let photo = added(
            &add_photo(
                &app,
                t,
                &property,
                file("f", "application/octet-stream", bytes),
                None,
            )
            .await,
        );
        urls.push(photo["url"].as_str().expect("url").to_owned());
    }
    let other = added(&add_photo(&app, t, &kept, png(), None).await);
    for url in &urls {
        assert_eq!(status_of(&app, url).await, 200);
    }

    let resp = app
        .gql_as(t, DELETE_PROPERTY, json!({ "id": property }))
        .await;
    assert_eq!(resp, json!({ "data": { "deleteProperty": true } }));
    for url in &urls {
        assert_eq!(status_of(&app, url).await, 404, "{url}");
    }
    assert_eq!(count_rows(&app.db, "property_photos").await, 1);
    assert_eq!(files_under(&app.config.storage.photos_dir).len(), 1);
    // Another listing's photos are untouched; the deleted one takes no more.
    assert_eq!(
        status_of(&app, other["url"].as_str().expect("url")).await,
        200
    );
    assert_eq!(
        code(&add_photo(&app, t, &property, png(), None).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn photo_urls_serve_only_stored_photos() {
    let app = spawn_app().await;
    // The database file sits next to the photos folder: a key that climbs
    // out of it must not reach it.
    for path in [
        "/photos/..%2ftest.db",
        "/photos/%2e%2e%2ftest.db",
        "/photos/properties/..%2f..%2ftest.db",
        "/photos/properties/nope/missing.png",
        "/photos/",
    ] {
        let (status, _, _, body) = fetch(&app, &app.url(path)).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.starts_with(b"SQLite format"), "{path}");
    }
}

// ------------------------------------------------------------------ S3

/// One request the fake bucket received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct S3Call {
    method: String,
    /// Path and query, e.g. `/roost-test/properties/...png` or `/roost-test?delete`.
    target: String,
    /// An `Authorization: AWS4-HMAC-SHA256 ...` header was present.
    signed: bool,
    /// The keys a DeleteObjects request (`POST /<bucket>?delete`) named.
    deleted_keys: Vec<String>,
}

fn call(method: &str, target: &str) -> S3Call {
    S3Call {
        method: method.to_owned(),
        target: target.to_owned(),
        signed: true,
        deleted_keys: Vec::new(),
    }
}

/// A signed DeleteObjects request for these keys: how `object_store`
/// 0.14 deletes (`ObjectStore::delete` goes through `delete_stream`).
fn bulk_delete(keys: &[&str]) -> S3Call {
    S3Call {
        deleted_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        ..call("POST", "/roost-test?delete")
    }
}

/// An S3-compatible bucket in memory, enough for `object_store`: PUT, GET,
/// HEAD and DELETE of an object, and DeleteObjects.
#[derive(Clone, Default)]
struct FakeS3 {
    /// By request path, `/<bucket>/<key>`.
    objects: Arc<Mutex<HashMap<String, Bytes>>>,
    calls: Arc<Mutex<Vec<S3Call>>>,
    /// Answer PUTs with 403 AccessDenied.
    refuse_puts: Arc<AtomicBool>,
}

impl FakeS3 {
    async fn start() -> (Self, SocketAddr) {
        let fake = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake S3");
        let addr = listener.local_addr().expect("local addr");
        let router = axum::Router::new()
            .fallback(s3_handler)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (fake, addr)
    }

    fn calls(&self) -> Vec<S3Call> {
        self.calls.lock().expect("lock").clone()
    }

    fn object(&self, path: &str) -> Option<Bytes> {
        self.objects.lock().expect("lock").get(path).cloned()
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
    )
        .into_response()
}

fn s3_error(status: StatusCode, code: &str) -> Response {
    xml(
        status,
        format!("<Error><Code>{code}</Code><Message>{code}</Message></Error>"),
    )
}

/// The `<Key>` elements of a DeleteObjects body.
fn keys_in(body: &str) -> Vec<String> {
    body.split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(k, _)| k.to_owned()))
        .collect()
}

async fn s3_handler(
    State(s3): State<FakeS3>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let target = uri
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let signed = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    let bulk_delete = method == Method::POST && uri.query() == Some("delete");
    let deleted_keys = if bulk_delete {
        keys_in(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    s3.calls.lock().expect("lock").push(S3Call {
        method: method.to_string(),
        target,
        signed,
        deleted_keys: deleted_keys.clone(),
    });
    let etag = |bytes: &Bytes| format!("\"{:x}-{}\"", bytes.len(), bytes.first().unwrap_or(&0));
    match method {
        Method::PUT if s3.refuse_puts.load(Ordering::SeqCst) => {
            s3_error(StatusCode::FORBIDDEN, "AccessDenied")
        }
        Method::PUT => {
            let tag = etag(&body);
            s3.objects.lock().expect("lock").insert(path, body);
            (StatusCode::OK, [(header::ETAG, tag)]).into_response()
        }
        Method::GET | Method::HEAD => match s3.object(&path) {
            Some(bytes) => (
                StatusCode::OK,
                [
                    (header::ETAG, etag(&bytes)),
                    (
                        header::LAST_MODIFIED,
                        "Tue, 15 Nov 1994 08:12:31 GMT".to_owned(),
                    ),
                    (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                ],
                bytes,
            )
                .into_response(),
            None => s3_error(StatusCode::NOT_FOUND, "NoSuchKey"),
        },
        Method::DELETE => {
            s3.objects.lock().expect("lock").remove(&path);
            StatusCode::NO_CONTENT.into_response()
        }
        Method::POST if bulk_delete => {
            let mut objects = s3.objects.lock().expect("lock");
            let mut deleted = String::new();
            for key in &deleted_keys {
                objects.remove(&format!("{path}/{key}"));
                deleted.push_str(&format!("<Deleted><Key>{key}</Key></Deleted>"));
            }
            xml(
                StatusCode::OK,
                format!(
                    "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{deleted}</DeleteResult>"
                ),
            )
        }
        _ => s3_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
    }
}

async fn spawn_with_s3(addr: SocketAddr, public_url: Option<&str>) -> TestApp {
    let public_url = public_url.map(str::to_owned);
    spawn_with(move |f| {
        let f = f
            .merge(("s3_bucket", "roost-test"))
            .merge(("s3_endpoint", format!("http://{addr}")))
            .merge(("s3_access_key_id", "test"))
            .merge(("s3_secret_access_key", "test-secret"));
        match public_url {
            Some(url) => f.merge(("s3_public_url", url)),
            None => f,
        }
    })
    .await
}

#[tokio::test]
async fn photos_go_to_the_s3_bucket_when_one_is_configured() {
    let (s3, addr) = FakeS3::start().await;
    let app = spawn_with_s3(addr, None).await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    let photo = added(&add_photo(&app, t, &property, png(), Some("Front door")).await);
    let key = storage_key(&property, &id_of(&photo), "png");
    let object = format!("/roost-test/{key}");
    assert_eq!(photo["url"], app.url(&format!("/photos/{key}")));
    assert_eq!(photo["caption"], "Front door");
    assert_eq!(s3.calls(), vec![call("PUT", &object)]);
    assert_eq!(s3.object(&object).as_deref(), Some(PNG));
    assert_eq!(
        files_under(&app.config.storage.photos_dir),
        Vec::<PathBuf>::new(),
        "nothing is written to the local folder"
    );

    // Served through Roost, which reads the bucket.
    let (status, content_type, cache, body) =
        fetch(&app, photo["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "image/png");
    assert_eq!(cache, CACHE_FOREVER);
    assert_eq!(body, PNG);
    let calls = s3.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1], call("GET", &object));

    // Removing it deletes the object.
    let resp = remove(&app, t, &id_of(&photo)).await;
    assert_eq!(resp, json!({ "data": { "removePropertyPhoto": true } }));
    let calls = s3.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[2], bulk_delete(&[&key]));
    assert_eq!(s3.object(&object), None);
    // The bucket answers NoSuchKey; Roost answers 404.
    assert_eq!(
        status_of(&app, photo["url"].as_str().expect("url")).await,
        404
    );
    assert_eq!(s3.calls()[3], call("GET", &object));

    // Deleting the listing deletes its objects from the bucket.
    let mut objects = Vec::new();
    for bytes in [JPEG, WEBP] {
        let photo = added(
            &add_photo(
                &app,
                t,
                &property,
                file("f", "application/octet-stream", bytes),
                None,
            )
            .await,
        );
        let ext = if bytes == JPEG { "jpg" } else { "webp" };
        objects.push(storage_key(&property, &id_of(&photo), ext));
    }
    for key in &objects {
        assert!(s3.object(&format!("/roost-test/{key}")).is_some(), "{key}");
    }
    let resp = app
        .gql_as(t, DELETE_PROPERTY, json!({ "id": property }))
        .await;
    assert_eq!(resp, json!({ "data": { "deleteProperty": true } }));
    let mut expected: Vec<S3Call> = objects
        .iter()
        .map(|k| call("PUT", &format!("/roost-test/{k}")))
        .collect();
    expected.extend(objects.iter().map(|k| bulk_delete(&[k])));
    let calls = s3.calls();
    assert_eq!(calls[4..], expected[..], "{calls:?}");
    for key in &objects {
        assert_eq!(s3.object(&format!("/roost-test/{key}")), None, "{key}");
    }
}

#[tokio::test]
async fn a_bucket_that_refuses_the_file_fails_the_upload_cleanly() {
    let (s3, addr) = FakeS3::start().await;
    let app = spawn_with_s3(addr, None).await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    s3.refuse_puts.store(true, Ordering::SeqCst);
    let resp = add_photo(&app, t, &property, png(), None).await;
    assert_eq!(code(&resp), "INTERNAL_SERVER_ERROR", "{resp}");
    let message = resp["errors"][0]["message"].as_str().expect("message");
    assert_eq!(message, "Internal server error", "no driver text: {resp}");
    assert_eq!(resp["data"], Value::Null);
    assert_eq!(count_rows(&app.db, "property_photos").await, 0);
    assert_eq!(listed(&app, t, &property).await, json!([]));

    // Once the bucket takes files again, uploads work from position 0.
    s3.refuse_puts.store(false, Ordering::SeqCst);
    let photo = added(&add_photo(&app, t, &property, png(), None).await);
    assert_eq!(photo["position"], 0);
}

#[tokio::test]
async fn photo_urls_use_the_buckets_public_url_when_configured() {
    let (s3, addr) = FakeS3::start().await;
    let app = spawn_with_s3(addr, Some("https://cdn.example.com/photos/")).await;
    let host = app.host("hana@example.com").await;
    let t = Some(host.access_token.as_str());
    let property = app.create_property(&host, json!({})).await;

    let photo = added(&add_photo(&app, t, &property, file("w", "image/webp", WEBP), None).await);
    let key = storage_key(&property, &id_of(&photo), "webp");
    assert_eq!(
        photo["url"],
        format!("https://cdn.example.com/photos/{key}")
    );
    assert_eq!(listed(&app, t, &property).await, json!([photo]));
    assert_eq!(s3.calls(), vec![call("PUT", &format!("/roost-test/{key}"))]);
    assert_eq!(
        s3.object(&format!("/roost-test/{key}")).as_deref(),
        Some(WEBP)
    );
}
