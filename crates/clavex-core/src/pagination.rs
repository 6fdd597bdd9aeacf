//! Opaque list cursors and page sizes. A cursor only encodes a position in the list it came from;
//! lists are always filtered by org, so a forged cursor cannot reach another org's rows.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clavex_store::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{CoreError, CoreResult};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// `?limit=&cursor=` as the API receives them.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn request(&self) -> CoreResult<PageRequest> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(CoreError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest { after, limit })
    }
}

/// A page of results as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    pub fn from_page(page: Page<T>) -> Self {
        Listing {
            items: page.items,
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
}

pub fn encode_cursor(after: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{after}"))
}

pub fn decode_cursor(cursor: &str) -> CoreResult<i64> {
    let bad = || CoreError::invalid("cursor", "not a cursor returned by this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("v1:")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)).ok(), Some(42));
        assert!(decode_cursor("not-a-cursor!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("v1:-5")).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        let p = PageParams {
            limit: Some(0),
            cursor: None,
        };
        assert!(p.request().is_err());
        let p = PageParams {
            limit: Some(201),
            cursor: None,
        };
        assert!(p.request().is_err());
        assert_eq!(
            PageParams::default().request().ok().map(|r| r.limit),
            Some(50)
        );
    }
}
