//! The GraphiQL playground served at `GET /graphql` to browsers.
//!
//! Its scripts come from a public CDN, pinned and checked with subresource
//! integrity; with `ROOST_PLAYGROUND_ASSETS_DIR` set they are served from that
//! folder instead (at `/graphql/assets/`), for machines without internet.
//! `scripts/fetch-playground-assets` fills such a folder.
//!
//! When a file cannot load (no internet, a blocked CDN, a file missing from
//! the folder), the page says so, names the files, and says how to serve
//! them from this server, instead of staying blank.
//!
//! Subscriptions go over graphql-transport-ws; the `Authorization` header
//! typed in GraphiQL's headers pane is sent in `connection_init` too, so a
//! signed-in user's subscriptions work exactly as their queries do.

use axum::response::Html;

pub const ASSETS_PATH: &str = "/graphql/assets";

/// A file the page loads: its name in the local folder, its CDN address and
/// the SHA-384 of its bytes.
struct Asset {
    file: &'static str,
    cdn: &'static str,
    integrity: &'static str,
}

const REACT: Asset = Asset {
    file: "react.production.min.js",
    cdn: "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
    integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
};
const REACT_DOM: Asset = Asset {
    file: "react-dom.production.min.js",
    cdn: "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
    integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
};
const GRAPHIQL_JS: Asset = Asset {
    file: "graphiql.min.js",
    cdn: "https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
    integrity: "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
};
const GRAPHIQL_CSS: Asset = Asset {
    file: "graphiql.min.css",
    cdn: "https://unpkg.com/graphiql@3.8.3/graphiql.min.css",
    integrity: "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
};
const GRAPHQL_WS: Asset = Asset {
    file: "graphql-ws.min.js",
    cdn: "https://unpkg.com/graphql-ws@5.16.2/umd/graphql-ws.min.js",
    integrity: "sha384-+EVxFEOpy8LWPRQcpntm0FKN2O+BzrMNSL0G3HIgVWFmeb6xqZqjuLivrQUTXZKi",
};

/// The assets' files: `config::PLAYGROUND_FILES` must name the same.
#[cfg(test)]
const LOCAL_FILES: [&str; 5] = [
    REACT.file,
    REACT_DOM.file,
    GRAPHIQL_JS.file,
    GRAPHIQL_CSS.file,
    GRAPHQL_WS.file,
];

/// Each file reports its own failure to load (see [`FALLBACK`]).
const ON_ERROR: &str = r#"onerror="roostAssetFailed(this)""#;

fn script(asset: &Asset, local: bool) -> String {
    if local {
        format!(
            r#"<script src="{ASSETS_PATH}/{}" {ON_ERROR}></script>"#,
            asset.file
        )
    } else {
        format!(
            r#"<script src="{}" integrity="{}" crossorigin="anonymous" {ON_ERROR}></script>"#,
            asset.cdn, asset.integrity
        )
    }
}

fn stylesheet(asset: &Asset, local: bool) -> String {
    if local {
        format!(
            r#"<link rel="stylesheet" href="{ASSETS_PATH}/{}" {ON_ERROR} />"#,
            asset.file
        )
    } else {
        format!(
            r#"<link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous" {ON_ERROR} />"#,
            asset.cdn, asset.integrity
        )
    }
}

/// Runs before the files load: collects the ones that fail.
const COLLECT_FAILURES: &str = r#"<script>
  window.roostFailedAssets = [];
  function roostAssetFailed(el) { window.roostFailedAssets.push(el.src || el.href); }
</script>"#;

/// Shown instead of the playground when a file did not load.
fn fallback(local: bool) -> String {
    let how = if local {
        format!(
            "<p>They are served from this server's <code>ROOST_PLAYGROUND_ASSETS_DIR</code> \
             (at <code>{ASSETS_PATH}/</code>), which lacks them or could not be read. \
             Fill that folder again with <code>scripts/fetch-playground-assets DIR</code> \
             and restart Roost.</p>"
        )
    } else {
        "<p>They come from a public CDN (unpkg.com), which this browser could not reach: \
         no internet access, a proxy or a firewall. To serve them from Roost itself, run \
         <code>scripts/fetch-playground-assets roost-playground</code> (it takes them from \
         the npm registry) on a machine that can, and start Roost with \
         <code>ROOST_PLAYGROUND_ASSETS_DIR=roost-playground</code>.</p>"
            .to_owned()
    };
    format!(
        r#"<div id="roost-playground-unavailable" hidden>
<h1>The playground could not load</h1>
<p>These files did not load:</p>
<ul id="roost-failed-assets"></ul>
{how}
<p>The API itself is unaffected: send GraphQL requests to <code>POST /graphql</code>.</p>
</div>"#
    )
}

/// Whether everything loaded: the page's script renders GraphiQL only then.
const SHOW_FALLBACK: &str = r#"
  function roostPlaygroundMissing() {
    const failed = window.roostFailedAssets.slice();
    const globals = { React: 'react', ReactDOM: 'react-dom', GraphiQL: 'graphiql', graphqlWs: 'graphql-ws' };
    for (const name of Object.keys(globals)) {
      if (typeof window[name] === 'undefined' && !failed.some((u) => u.includes(globals[name]))) {
        failed.push(globals[name]);
      }
    }
    if (failed.length === 0) return false;
    const list = document.getElementById('roost-failed-assets');
    for (const url of failed) {
      const item = document.createElement('li');
      item.textContent = url;
      list.appendChild(item);
    }
    document.getElementById('graphiql').remove();
    document.getElementById('roost-playground-unavailable').hidden = false;
    return true;
  }
"#;

const BODY: &str = r#"<div id="graphiql">Loading the Roost playground…</div>
<script>
  // At `load`, when every file has loaded or reported its failure (a
  // stylesheet's comes late).
  window.addEventListener('load', function () {
    if (!roostPlaygroundMissing()) startPlayground();
  });
  function startPlayground() {
  const httpUrl = new URL('/graphql', window.location.href).toString();
  const wsUrl = httpUrl.replace(/^http/, 'ws');
  // One WebSocket client per Authorization value, so signing in (pasting a
  // token into the headers pane) reconnects with the new credentials.
  let ws = null, wsAuth = null;
  function wsClient(auth) {
    if (!ws || wsAuth !== auth) {
      if (ws) ws.dispose();
      ws = graphqlWs.createClient({
        url: wsUrl,
        lazy: true,
        connectionParams: auth ? { authorization: auth } : {},
      });
      wsAuth = auth;
    }
    return ws;
  }
  function fetcher(params, opts) {
    const headers = (opts && opts.headers) || {};
    const auth = Object.keys(headers)
      .filter((k) => k.toLowerCase() === 'authorization')
      .map((k) => headers[k])[0] || null;
    return GraphiQL.createFetcher({ url: httpUrl, wsClient: wsClient(auth) })(params, opts);
  }
  const defaultQuery = __WELCOME__;
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: true,
    }),
  );
  }
</script>"#;

/// The document the playground opens with: the README's walkthrough, from
/// registering to a confirmed booking. Its operations share one set of
/// variables (`checkIn`, `checkOut`, then the `propertyId` and `bookingId`
/// that Search and Book answer); a test runs them in order on the demo data.
pub const WELCOME: &str = r#"# Welcome to Roost.
#
# 1. Run Register (or Login), then put its accessToken in the Headers pane:
#      { "Authorization": "Bearer <accessToken>" }
#    and run Me to see who you are.
# 2. Set the Variables pane to two dates within the next year, e.g.
#      { "checkIn": "2027-03-10", "checkOut": "2027-03-13" }
#    and run Search (start the server with --demo for listings to find):
#    every listing it finds takes instant bookings for those nights and two
#    guests.
# 3. Add "propertyId": "<an id Search found>" to the variables, run Book,
#    then add "bookingId": "<the booking's id>" and run Pay. A moment later
#    Booking shows it CONFIRMED and its payment SUCCEEDED.

mutation Register {
  register(input: {
    email: "ann@example.com"
    password: "a long password"
    firstName: "Ann"
    lastName: "Lee"
  }) {
    accessToken
    refreshToken
    user { id firstName }
  }
}

mutation Login {
  login(input: { email: "ann@example.com", password: "a long password" }) {
    accessToken
    refreshToken
  }
}

query Me {
  me { id firstName lastName email role }
}

query Search($checkIn: Date!, $checkOut: Date!) {
  properties(
    filter: { checkIn: $checkIn, checkOut: $checkOut, guests: 2, instantBook: true }
    orderBy: PRICE_ASC
    first: 10
  ) {
    totalCount
    nodes {
      id
      title
      instantBook
      location { city country }
      pricePerNight { amount currency }
      quote(checkIn: $checkIn, checkOut: $checkOut, guests: 2) { total { amount currency } }
      rating { average count }
      photos { url caption }
      host { firstName }
    }
  }
}

mutation Book($propertyId: ID!, $checkIn: Date!, $checkOut: Date!) {
  createBooking(input: { propertyId: $propertyId, checkIn: $checkIn, checkOut: $checkOut, guests: 2 }) {
    id status total { amount currency } expiresAt
  }
}

# An idempotency key stands for one payment: sending it again answers the
# same payment. After a declined card, pay again with a new key.
mutation Pay($bookingId: ID!) {
  payBooking(input: { bookingId: $bookingId, paymentMethod: "pm_card_visa", idempotencyKey: "my-first-booking" }) {
    id status
  }
}

query Booking($bookingId: ID!) {
  booking(id: $bookingId) { status payment { status failureReason } }
}
"#;

pub fn page(local_assets: bool) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Roost GraphQL playground</title>
<style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}
#roost-playground-unavailable {{ font-family: sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }}</style>
{COLLECT_FAILURES}
{css}
{react}
{react_dom}
{graphiql}
{graphql_ws}
</head>
<body>
{fallback}
<script>{SHOW_FALLBACK}</script>
{body}
</body>
</html>
"#,
        css = stylesheet(&GRAPHIQL_CSS, local_assets),
        react = script(&REACT, local_assets),
        react_dom = script(&REACT_DOM, local_assets),
        graphiql = script(&GRAPHIQL_JS, local_assets),
        graphql_ws = script(&GRAPHQL_WS, local_assets),
        fallback = fallback(local_assets),
        body = BODY.replace(
            "__WELCOME__",
            &serde_json::to_string(WELCOME).unwrap_or_else(|_| "''".to_owned())
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script that fills a local folder checks each file against the
    /// page's pins: the two must name the same files and hashes.
    #[test]
    fn the_fetch_script_pins_what_the_page_pins() {
        let script = include_str!("../../scripts/fetch-playground-assets");
        for asset in [REACT, REACT_DOM, GRAPHIQL_JS, GRAPHIQL_CSS, GRAPHQL_WS] {
            let sha = asset.integrity.trim_start_matches("sha384-");
            let line = script
                .lines()
                .find(|l| l.contains(&format!(" {} {sha}", asset.file)))
                .unwrap_or_else(|| panic!("{} with {sha} is not in the script", asset.file));
            // "package@version path": the CDN address is unpkg's for that file.
            let mut words = line.trim().trim_matches('"').split(' ');
            let (package, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            assert_eq!(asset.cdn, format!("https://unpkg.com/{package}/{path}"));
        }
    }

    #[test]
    fn every_file_reports_its_failure() {
        for local in [false, true] {
            let Html(page) = page(local);
            assert_eq!(page.matches(ON_ERROR).count(), LOCAL_FILES.len());
            assert_eq!(LOCAL_FILES, domain::config::PLAYGROUND_FILES);
            assert!(page.contains(r#"<div id="roost-playground-unavailable" hidden>"#));
        }
    }
}
