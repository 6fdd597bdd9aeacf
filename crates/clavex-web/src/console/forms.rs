//! Console form posts: parsing `application/x-www-form-urlencoded` bodies (repeated names allowed,
//! for checkboxes and lists) and showing the core's validation errors next to their fields.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header},
    response::Response,
};
use clavex_core::CoreError;

use crate::{
    AppState,
    console::{Console, message_page},
};

/// A posted form, as name/value pairs in order.
#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The value of `name`, trimmed, or None when empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    /// Every value of `name` (checkboxes, multi-selects), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The non-empty lines of a textarea, trimmed.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A checkbox: present and not "false".
    pub fn checked(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, v)| k == name && v != "false")
    }
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(message_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported form",
                "Forms must be sent as application/x-www-form-urlencoded.",
            ));
        }
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            message_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The form is larger than this server accepts.",
            )
        })?;
        if body.len() > state.max_body_bytes {
            return Err(message_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The form is larger than this server accepts.",
            ));
        }
        let pairs = serde_urlencoded::from_bytes(&body).map_err(|_| {
            message_page(
                StatusCode::BAD_REQUEST,
                "Unreadable form",
                "The form could not be read.",
            )
        })?;
        Ok(Form { pairs })
    }
}

/// A form posted by a signed-in console user, with its CSRF token already checked: a handler that
/// takes `Posted` cannot forget the check. Refusals are the page to send (403 for a bad token).
pub struct Posted {
    pub console: Console,
    pub form: Form,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, state).await?;
        let form = Form::from_request(Request::from_parts(parts, body), state).await?;
        console.check_csrf(state, form.get("csrf"))?;
        Ok(Posted { console, form })
    }
}

/// The status of a form shown again with errors: 409 for a taken name, else 400.
pub fn form_status(err: &CoreError) -> StatusCode {
    match err {
        CoreError::Conflict { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Validation errors to show on a form: by field name, plus one for the whole form.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    fields: BTreeMap<String, String>,
    pub general: Option<String>,
}

impl FieldErrors {
    /// The core's answer, placed next to the field it names. `Err` for errors that are not about
    /// the form (forbidden, not found, unavailable): those get a page of their own.
    pub fn from_core(err: CoreError) -> Result<FieldErrors, CoreError> {
        let mut out = FieldErrors::default();
        match err {
            CoreError::Invalid { field, reason } => {
                // Nested API fields (`redirect_uris[1]`) belong to their list's field.
                let key = field.split('[').next().unwrap_or(&field).to_string();
                out.fields.insert(key, format!("{field} {reason}"));
            }
            CoreError::Conflict { field } => {
                out.fields
                    .insert(field.to_string(), format!("this {field} is already taken"));
            }
            other => return Err(other),
        }
        Ok(out)
    }

    pub fn field(field: &str, message: impl Into<String>) -> FieldErrors {
        let mut out = FieldErrors::default();
        out.fields.insert(field.to_string(), message.into());
        out
    }

    /// The message for `field`, if any.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// Errors whose field has no input on the form, so the page can show them at the top.
    pub fn others(&self, shown: &[&str]) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| !shown.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
            .chain(self.general.as_deref())
            .collect()
    }
}
