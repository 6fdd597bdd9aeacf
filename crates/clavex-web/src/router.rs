//! The route table: every path Clavex serves, in one place. Read it as the index of the server.

use crate::{
    AppState, api, console, error::ApiError, health, metrics, oidc, openapi, pages, request_log,
};
use axum::{
    Router,
    routing::{get, post, put},
};

pub fn router(state: AppState) -> Router {
    let admin_api = Router::new()
        .route("/openapi.json", get(openapi::openapi_json))
        .route(
            "/organizations",
            post(api::orgs::create).get(api::orgs::list),
        )
        .route(
            "/organizations/{org}",
            get(api::orgs::get)
                .patch(api::orgs::update)
                .delete(api::orgs::delete),
        )
        .route(
            "/organizations/{org}/clients",
            post(api::clients::create).get(api::clients::list),
        )
        .route(
            "/organizations/{org}/clients/{client_id}",
            get(api::clients::get)
                .patch(api::clients::update)
                .delete(api::clients::delete),
        )
        .route(
            "/organizations/{org}/clients/{client_id}/secret",
            post(api::clients::rotate_secret),
        )
        .route(
            "/organizations/{org}/users",
            post(api::users::create).get(api::users::list),
        )
        .route(
            "/organizations/{org}/users/{id}",
            get(api::users::get)
                .patch(api::users::update)
                .delete(api::users::delete),
        )
        .route(
            "/organizations/{org}/groups",
            post(api::groups::create).get(api::groups::list),
        )
        .route(
            "/organizations/{org}/groups/{name}",
            get(api::groups::get).delete(api::groups::delete),
        )
        .route(
            "/organizations/{org}/groups/{name}/members",
            get(api::groups::members),
        )
        .route(
            "/organizations/{org}/groups/{name}/members/{user_id}",
            put(api::groups::add_member).delete(api::groups::remove_member),
        )
        .route("/organizations/{org}/keys", get(api::keys::list))
        .route("/organizations/{org}/keys/rotate", post(api::keys::rotate))
        .route("/organizations/{org}/events", get(api::events::list))
        .route("/events", get(api::events::list_all))
        .route("/organizations/{org}/admins", get(api::admins::org_list))
        .route(
            "/organizations/{org}/admins/{id}",
            put(api::admins::grant).delete(api::admins::revoke),
        )
        .route("/admins", post(api::admins::create).get(api::admins::list))
        .route(
            "/admins/{id}",
            get(api::admins::get)
                .patch(api::admins::update)
                .delete(api::admins::delete),
        );

    // Every org is an OpenID Provider at P/{org}.
    let provider = Router::new()
        .route(
            "/{org}/.well-known/openid-configuration",
            get(oidc::discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server/{org}",
            get(oidc::discovery::openid_configuration),
        )
        .route("/{org}/jwks", get(oidc::discovery::jwks))
        .route(
            "/{org}/authorize",
            get(oidc::authorize::get).post(oidc::authorize::post),
        )
        .route(
            "/{org}/login",
            get(oidc::login::get).post(oidc::login::post),
        )
        .route("/{org}/token", post(oidc::token::token))
        .route(
            "/{org}/userinfo",
            get(oidc::userinfo::userinfo).post(oidc::userinfo::userinfo),
        )
        .route("/{org}/revoke", post(oidc::token::revoke))
        .route("/{org}/introspect", post(oidc::token::introspect))
        .route(
            "/{org}/logout",
            get(oidc::logout::logout).post(oidc::logout::logout),
        );

    // With metrics off (`CLAVEX_METRICS=off`) there is no `/metrics` and nothing is recorded.
    let metrics_on = state.core.metrics.enabled();
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/static/clavex.css", get(pages::stylesheet))
        .route("/readyz", get(health::readyz));
    let app = if metrics_on {
        app.route("/metrics", get(metrics::render))
    } else {
        app
    };
    let app = app
        .nest("/api/v1", admin_api)
        .merge(console::routes())
        .merge(provider)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let app = if metrics_on {
        app.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
    } else {
        app
    };
    app.layer(axum::middleware::map_response_with_state(
        state.clone(),
        strict_transport_security,
    ))
    .with_state(state.clone())
    .layer(axum::middleware::from_fn(request_log::layer))
    // Outermost: the request log already needs to know whether the peer is a trusted proxy.
    .layer(axum::middleware::from_fn_with_state(
        state,
        crate::client_addr::layer,
    ))
}

/// HSTS on every response when the public URL is https: browsers then never try plain HTTP for
/// this host again, even where a proxy in front still listens on port 80. Off for http, where it
/// would be ignored anyway and where a test or lab installation lives.
async fn strict_transport_security(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    if state.core.settings.public_url.starts_with("https://") {
        response.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}
