//! Interoperability with a real, strict relying-party library: the `openidconnect` crate (v4).
//!
//! For an RS256 org and an ES256 org the crate discovers the provider (metadata and JWKS), builds
//! the authorization URL with PKCE (S256) and a nonce, the user signs in through the real form,
//! the crate exchanges the code (client_secret_basic for one org, client_secret_post for the
//! other), verifies the ID token (signature against the JWKS, allowed algorithm, issuer,
//! audience, expiry, nonce) and its `at_hash`, calls userinfo, and refreshes. Everything goes over
//! HTTP to the real server; nothing here reads the provider's internals.

use clavex_testkit::TestServer;
use openidconnect::{
    AccessTokenHash, Audience, AuthType, AuthenticationFlow, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RequestTokenError,
    Scope, StandardErrorResponse, StandardTokenResponse, SubjectIdentifier, TokenResponse,
    UserInfoClaims,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
        CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreTokenIntrospectionResponse, CoreTokenType,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::support::*;

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const CLIENT_ID: &str = "rust-rp";

/// Clavex's claims beyond the standard ones, typed so that the crate checks their shape too.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct ClavexClaims {
    groups: Vec<String>,
    org_id: Vec<String>,
}
impl openidconnect::AdditionalClaims for ClavexClaims {}

type IdFields = IdTokenFields<
    ClavexClaims,
    openidconnect::EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;

/// `CoreClient` with Clavex's claims, as `from_provider_metadata` sets its endpoints.
type RpClient = Client<
    ClavexClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The HTTP client the crate uses: its own reqwest integration, following no redirects (as the
/// crate's documentation asks, against SSRF).
fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Org `slug` signing with `alg`, a confidential client for the RP with `auth_method`, and users
/// alice (in `rp-admins`) and carol (in no group). Returns the client secret and alice's id.
async fn seed(server: &TestServer, slug: &str, alg: &str, auth_method: &str) -> (String, String) {
    let r = server
        .admin(
            "POST",
            "/api/v1/organizations",
            Some(json!({ "slug": slug, "name": format!("{slug} ({alg})"), "signing_alg": alg })),
        )
        .await;
    assert_eq!(r.status, 201, "create org: {}", r.text);
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{slug}/clients"),
            Some(json!({
                "client_id": CLIENT_ID,
                "client_name": "openidconnect-rs",
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [REDIRECT],
                "scopes": ["openid", "profile", "email", "groups"],
                "token_endpoint_auth_method": auth_method,
            })),
        )
        .await;
    assert_eq!(r.status, 201, "create client: {}", r.text);
    let secret = r.json()["client_secret"].as_str().unwrap().to_string();
    let r = server
        .admin(
            "POST",
            &format!("/api/v1/organizations/{slug}/groups"),
            Some(json!({ "name": "rp-admins" })),
        )
        .await;
    assert_eq!(r.status, 201, "create group: {}", r.text);
    let alice = create_user(server, slug, "alice", Some("rp-admins")).await;
    create_user(server, slug, "carol", None).await;
    (secret, alice)
}

/// Checks an ID token with the crate's verifier (signature against the discovered JWKS, only
/// `alg` allowed, issuer, audience, expiry, nonce) and its `at_hash` against the access token.
fn verify_id_token<N: openidconnect::NonceVerifier>(
    client: &RpClient,
    tokens: &Tokens,
    alg: &CoreJwsSigningAlgorithm,
    nonce: N,
) -> openidconnect::IdTokenClaims<ClavexClaims, CoreGenderClaim> {
    let id_token = tokens
        .id_token()
        .expect("the token response carries an ID token");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![alg.clone()]);
    let claims = id_token
        .claims(&verifier, nonce)
        .unwrap_or_else(|e| panic!("the ID token does not verify: {e:?}"))
        .clone();
    assert_eq!(id_token.signing_alg().unwrap(), alg);
    let expected = claims
        .access_token_hash()
        .expect("the ID token carries at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected, "at_hash matches the access token");
    claims
}

async fn interop(alg: CoreJwsSigningAlgorithm, alg_name: &str, auth_method: &str) {
    let server = TestServer::start().await;
    let slug = "acme";
    let (secret, alice_id) = seed(&server, slug, alg_name, auth_method).await;
    let http = rp_http();

    // Discovery: metadata (the crate checks that `issuer` is exactly the URL asked) and JWKS.
    let issuer = IssuerUrl::new(server.url(&format!("/{slug}"))).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &http)
        .await
        .unwrap_or_else(|e| panic!("discovery fails: {e:?}"));
    assert_eq!(metadata.issuer(), &issuer);
    assert!(
        metadata
            .id_token_signing_alg_values_supported()
            .contains(&alg),
        "{alg_name} is advertised"
    );
    assert!(
        !metadata.jwks().keys().is_empty(),
        "the JWKS has the org's keys"
    );
    let client: RpClient = Client::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_auth_type(match auth_method {
        "client_secret_post" => AuthType::RequestBody,
        _ => AuthType::BasicAuth,
    });

    // The authorization URL with PKCE S256 and a nonce.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert_eq!(
        param(auth_url.as_str(), "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(
        auth_url
            .as_str()
            .starts_with(&server.url("/acme/authorize?"))
    );

    // The user signs in through the real form; the provider redirects back to the RP.
    let browser = Browser::new();
    let back = sign_in(&browser, auth_url.as_str(), "alice", "alice-password-1").await;
    assert!(back.starts_with(&format!("{REDIRECT}?")), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(param(&back, "iss").as_deref(), Some(issuer.as_str()));
    let code = param(&back, "code").expect("a code");

    // The code exchange with the PKCE verifier.
    let tokens: Tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange fails: {e:?}"));
    assert_eq!(tokens.token_type(), &CoreTokenType::Bearer);
    assert!(tokens.expires_in().is_some_and(|d| d.as_secs() > 0));
    let mut scopes: Vec<String> = tokens
        .scopes()
        .expect("the granted scope is returned")
        .iter()
        .map(|s| s.to_string())
        .collect();
    scopes.sort();
    assert_eq!(scopes, ["email", "groups", "openid", "profile"]);
    let refresh_token = tokens
        .refresh_token()
        .expect("a refresh token without offline_access")
        .clone();

    // The ID token, verified by the crate.
    let claims = verify_id_token(&client, &tokens, &alg, &nonce);
    assert_eq!(claims.issuer(), &issuer);
    assert_eq!(claims.audiences(), &[Audience::new(CLIENT_ID.into())]);
    assert_eq!(claims.subject().as_str(), alice_id);
    assert_eq!(
        claims.nonce().map(|n| n.secret().as_str()),
        Some(nonce.secret().as_str())
    );
    assert!(claims.auth_time().is_some(), "auth_time is present");
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@acme.test"));
    assert_eq!(claims.email_verified(), Some(true));
    assert_eq!(
        claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("ALICE Example")
    );
    assert!(claims.updated_at().is_some(), "updated_at is a timestamp");
    // The verifier really checks the signature: the same token with one claim changed fails.
    let id_token = tokens.id_token().unwrap().to_string();
    let mut parts: Vec<String> = id_token.split('.').map(str::to_string).collect();
    let mut payload = jwt_claims(&id_token);
    payload["sub"] = json!("someone-else");
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload.to_string(),
    );
    let forged: openidconnect::IdToken<
        ClavexClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    > = parts.join(".").parse().unwrap();
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![alg.clone()]);
    assert!(
        forged.claims(&verifier, &nonce).is_err(),
        "a forged ID token is refused"
    );
    assert_eq!(claims.additional_claims().groups, ["rp-admins"]);
    assert_eq!(claims.additional_claims().org_id, [slug]);

    // Userinfo through the crate, which checks `sub` against the ID token's.
    let subject = SubjectIdentifier::new(alice_id.clone());
    let info: UserInfoClaims<ClavexClaims, CoreGenderClaim> = client
        .user_info(tokens.access_token().clone(), Some(subject.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("userinfo fails: {e:?}"));
    assert_eq!(info.subject(), &subject);
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@acme.test"));
    assert_eq!(info.email_verified(), Some(true));
    assert_eq!(info.additional_claims().groups, ["rp-admins"]);
    assert_eq!(info.additional_claims().org_id, [slug]);

    // A refresh: a new refresh token, a new access token and a fresh ID token, verified again.
    // OIDC Core 12.2: the refreshed ID token keeps iss, sub, aud and auth_time; a nonce, if
    // present, is the original one.
    let refreshed: Tokens = client
        .exchange_refresh_token(&refresh_token)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("refresh fails: {e:?}"));
    let new_refresh = refreshed
        .refresh_token()
        .expect("rotation returns a new refresh token")
        .clone();
    assert_ne!(new_refresh.secret(), refresh_token.secret());
    let original_nonce = nonce.clone();
    let again = verify_id_token(&client, &refreshed, &alg, |n: Option<&Nonce>| match n {
        None => Ok(()),
        Some(n) if n.secret() == original_nonce.secret() => Ok(()),
        Some(_) => Err("the refreshed ID token has another nonce".to_string()),
    });
    assert_eq!(again.subject(), claims.subject());
    assert_eq!(again.issuer(), claims.issuer());
    assert_eq!(again.audiences(), claims.audiences());
    assert_eq!(again.auth_time(), claims.auth_time());
    assert_eq!(again.additional_claims().groups, ["rp-admins"]);

    let info: UserInfoClaims<ClavexClaims, CoreGenderClaim> = client
        .user_info(refreshed.access_token().clone(), Some(subject.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("userinfo after refresh fails: {e:?}"));
    assert_eq!(info.subject(), &subject);

    // The old refresh token replayed after the race window: invalid_grant, and its family (the
    // new one too) is revoked.
    server
        .clock
        .advance(clavex_core::oidc::token::REFRESH_RACE_SECONDS + 1);
    let replay = client
        .exchange_refresh_token(&refresh_token)
        .unwrap()
        .request_async(&http)
        .await;
    match replay {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error(), &CoreErrorResponseType::InvalidGrant, "{e:?}")
        }
        other => panic!("a replayed refresh token must fail with invalid_grant: {other:?}"),
    }
    let after = client
        .exchange_refresh_token(&new_refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        matches!(after, Err(RequestTokenError::ServerResponse(_))),
        "the family is revoked: {after:?}"
    );

    // A second user with no group: `groups` is an empty array, which the typed claims accept.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = sign_in(
        &Browser::new(),
        auth_url.as_str(),
        "carol",
        "carol-password-1",
    )
    .await;
    let code = param(&back, "code").expect("a code");
    let tokens: Tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange (carol) fails: {e:?}"));
    let claims = verify_id_token(&client, &tokens, &alg, &nonce);
    assert!(claims.additional_claims().groups.is_empty());
    assert_eq!(claims.preferred_username(), None, "no profile scope asked");
    let carol = claims.subject().clone();
    let info: UserInfoClaims<ClavexClaims, CoreGenderClaim> = client
        .user_info(tokens.access_token().clone(), Some(carol.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("userinfo (carol) fails: {e:?}"));
    assert!(info.additional_claims().groups.is_empty());

    // Carol's code a second time: invalid_grant, and what it issued is revoked.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await;
    match replay {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error(), &CoreErrorResponseType::InvalidGrant, "{e:?}")
        }
        other => panic!("a replayed code must fail with invalid_grant: {other:?}"),
    }
    let cut_off: Result<UserInfoClaims<ClavexClaims, CoreGenderClaim>, _> = client
        .user_info(tokens.access_token().clone(), Some(carol))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        matches!(&cut_off, Err(openidconnect::UserInfoError::Response(s, _, _)) if s.as_u16() == 401),
        "the access token from a replayed code is revoked: {cut_off:?}"
    );
}

#[tokio::test]
async fn openidconnect_crate_rs256_client_secret_basic() {
    interop(
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "RS256",
        "client_secret_basic",
    )
    .await;
}

#[tokio::test]
async fn openidconnect_crate_es256_client_secret_post() {
    interop(
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "ES256",
        "client_secret_post",
    )
    .await;
}
