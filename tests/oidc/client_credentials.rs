//! The client_credentials grant: only for confidential clients registered with it; an RFC 9068
//! access token naming the client, and nothing else.

use clavex_testkit::TestServer;
use serde_json::json;

use super::{rp::*, support::*};

#[tokio::test]
async fn client_credentials_gives_an_access_token_only() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let secret = add_machine(&server).await;
    let r = token(
        &server,
        "acme",
        Auth::Basic(MACHINE, &secret),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let tokens = Tokens::from_response(&r);
    assert_eq!(tokens.id_token, None, "{}", tokens.body);
    assert_eq!(tokens.refresh_token, None, "{}", tokens.body);
    assert_eq!(jwt_header(&tokens.access_token)["typ"], "at+jwt");
    let claims = verify_with_jwks(&server, "acme", &tokens.access_token).await;
    assert_eq!(claims["sub"], MACHINE);
    assert_eq!(claims["client_id"], MACHINE);
    assert_eq!(claims["iss"], json!(server.url("/acme")));
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());

    let info = introspect(
        &server,
        "acme",
        Auth::Basic(MACHINE, &secret),
        &tokens.access_token,
    )
    .await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], MACHINE);
    assert_eq!(info["sub"], MACHINE);

    // It names no user: userinfo refuses it.
    assert_invalid_token(&userinfo(&server, "acme", &tokens.access_token).await);
}

#[tokio::test]
async fn client_credentials_scopes() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let secret = add_machine(&server).await;
    let r = token(
        &server,
        "acme",
        Auth::Post(MACHINE, &secret),
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
    )
    .await;
    let tokens = Tokens::from_response(&r);
    assert_eq!(tokens.scope, "api.read");
    assert_eq!(jwt_claims(&tokens.access_token)["scope"], "api.read");
    let r = token(
        &server,
        "acme",
        Auth::Post(MACHINE, &secret),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "api.read admin"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

#[tokio::test]
async fn client_without_the_grant_is_unauthorized_client() {
    let server = TestServer::start().await;
    let secret = seed_acme(&server).await;
    let r = token(
        &server,
        "acme",
        Auth::Basic("grafana", &secret),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    // And the machine client may not use the code or refresh grants.
    let machine = add_machine(&server).await;
    for grant in [
        [("grant_type", "authorization_code"), ("code", "x")],
        [("grant_type", "refresh_token"), ("refresh_token", "x")],
    ] {
        let r = token(&server, "acme", Auth::Basic(MACHINE, &machine), &grant).await;
        assert_oauth_error(&r, 400, "unauthorized_client");
    }
}

#[tokio::test]
async fn public_client_cannot_use_client_credentials() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    add_spa(&server).await;
    let r = token(
        &server,
        "acme",
        Auth::Public(SPA),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert!(
        matches!(
            (r.status, r.json()["error"].as_str()),
            (400, Some("unauthorized_client")) | (401, Some("invalid_client"))
        ),
        "{}",
        r.text
    );
    // Nor can one be registered with it.
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations/acme/clients",
            Some(json!({
                "client_id": "public-machine",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "none",
            })),
        )
        .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.text);
}

#[tokio::test]
async fn deleted_client_loses_its_tokens() {
    let server = TestServer::start().await;
    seed_acme(&server).await;
    let secret = add_machine(&server).await;
    let tokens = Tokens::from_response(
        &token(
            &server,
            "acme",
            Auth::Basic(MACHINE, &secret),
            &[("grant_type", "client_credentials")],
        )
        .await,
    );
    let r = server
        .admin("DELETE", "/api/v1/organizations/acme/clients/machine", None)
        .await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    let r = token(
        &server,
        "acme",
        Auth::Basic(MACHINE, &secret),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    // A new client under the same id (a second later: creation times have one-second
    // resolution) does not inherit them.
    server.clock.advance(1);
    let again = add_machine(&server).await;
    let info = introspect(
        &server,
        "acme",
        Auth::Basic(MACHINE, &again),
        &tokens.access_token,
    )
    .await;
    assert_eq!(info, json!({ "active": false }), "{info}");
}
