//! `/admin/setup`: the first-run page that creates the first superadmin with the link
//! `clavex serve` prints while the installation has no console account. The link's token is the
//! credential (a cross-site form cannot know it), and it stops working once any account exists.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use clavex_core::{CoreError, first_run::SETUP_PATH};
use serde::Deserialize;

use crate::{
    AppState,
    console::{FieldErrors, Form, core_error_page, message_page, render},
    oidc::PeerIp,
};

pub fn routes() -> Router<AppState> {
    Router::new().route(SETUP_PATH, get(show).post(create))
}

#[derive(Template)]
#[template(path = "console/setup.html")]
struct SetupPage {
    token: String,
    username: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

fn closed() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Set-up is complete",
        "This installation already has an administrator, or the link is wrong. Sign in to the console, or create an account with `clavex admin create`.",
    )
}

async fn show(State(state): State<AppState>, Query(q): Query<SetupQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    match state.core.first_run_open(&token).await {
        Ok(true) => render(
            StatusCode::OK,
            &SetupPage {
                token,
                username: "admin".into(),
                errors: FieldErrors::default(),
            },
        ),
        Ok(false) => closed(),
        Err(e) => core_error_page(&e),
    }
}

async fn create(State(state): State<AppState>, PeerIp(ip): PeerIp, form: Form) -> Response {
    let token = form.get("token").to_string();
    let username = form.get("username").trim().to_string();
    let again = |errors: FieldErrors| {
        render(
            StatusCode::BAD_REQUEST,
            &SetupPage {
                token: token.clone(),
                username: username.clone(),
                errors,
            },
        )
    };
    if form.get("password") != form.get("password_confirm") {
        return again(FieldErrors::field(
            "password_confirm",
            "the two passwords differ",
        ));
    }
    match state
        .core
        .first_run_create(
            &token,
            username.clone(),
            form.get("password").to_string(),
            ip,
        )
        .await
    {
        Ok(created) => message_page(
            StatusCode::CREATED,
            "Administrator created",
            &format!(
                "The superadmin '{}' can now sign in to the Admin Console. This set-up link no longer works.",
                created.admin.username
            ),
        ),
        Err(CoreError::Forbidden(_)) => closed(),
        Err(e) => match FieldErrors::from_core(e) {
            Ok(errors) => again(errors),
            Err(e) => core_error_page(&e),
        },
    }
}
