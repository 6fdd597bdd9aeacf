//! Console pages for OAuth clients: registering (the secret shown once, in a readonly input), the
//! client page's edit form, secret rotation with and without a grace period, deleting; who may do
//! it, CSRF refusals, and validation errors next to their fields. Effects are checked through the
//! Admin API and the org's introspection endpoint.

use clavex_testkit::{TestResponse, TestServer};
use serde_json::{Value, json};

use super::support::{
    ConsoleUser, api_get, create_account, error_text, input_value, marked_invalid,
};
use crate::oidc::{
    rp::{Auth, client_call},
    support::location,
};

const CLIENTS: &str = "/admin/orgs/acme/clients";
const GRAFANA: &str = "/admin/orgs/acme/clients/grafana";
const GRAFANA_API: &str = "/api/v1/organizations/acme/clients/grafana";
const REDIRECT: &str = "https://grafana.acme.eu/login/generic_oauth";

/// The seed's Grafana client, as the register form posts it (the hidden empty `grant_types` comes
/// first, as in the page).
fn grafana_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", "grafana"),
        ("client_name", "Grafana"),
        ("grant_types", ""),
        ("grant_types", "authorization_code"),
        ("grant_types", "refresh_token"),
        ("redirect_uris", REDIRECT),
        ("post_logout_redirect_uris", ""),
        ("scopes", "openid profile email groups"),
        ("token_endpoint_auth_method", "client_secret_basic"),
    ]
}

/// The secret shown on a registration or rotation page, checking how it is shown.
fn shown_secret(page: &TestResponse) -> String {
    let secret = input_value(&page.text, "client-secret")
        .unwrap_or_else(|| panic!("no client-secret input: {}", page.text));
    assert!(secret.starts_with("cs_"), "{secret}");
    let at = page.text.find("id=\"client-secret\"").unwrap();
    let tag_start = page.text[..at].rfind('<').unwrap();
    let tag = &page.text[tag_start..at + page.text[at..].find('>').unwrap()];
    assert!(tag.contains(" readonly"), "{tag}");
    let box_start = page.text.find("class=\"secret-box\"").unwrap();
    assert!(box_start < at, "the secret is inside the .secret-box");
    assert!(page.text.contains("data-copy=\"client-secret\""));
    assert!(
        page.text.contains("will not be shown again"),
        "{}",
        page.text
    );
    secret
}

/// Introspection at `/acme/introspect` with Basic `grafana:secret`: the status (200 when the
/// secret is accepted, 401 when not).
async fn grafana_auth_status(server: &TestServer, secret: &str) -> u16 {
    let r = client_call(
        server,
        "acme",
        "introspect",
        Auth::Basic("grafana", secret),
        &[("token", "anything")],
    )
    .await;
    if r.status == 200 {
        assert_eq!(r.json(), json!({ "active": false }));
    }
    r.status
}

async fn register_grafana(user: &ConsoleUser<'_>) -> String {
    let page = user.post(CLIENTS, &grafana_form()).await;
    assert!(
        page.status == 201 || page.status == 200,
        "{}: {}",
        page.status,
        page.text
    );
    shown_secret(&page)
}

async fn grafana(server: &TestServer) -> Value {
    api_get(server, GRAFANA_API).await
}

#[tokio::test]
async fn registering_the_grafana_seed_shows_the_secret_once_and_it_works() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;

    let list = root.get(CLIENTS).await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains("No clients yet"), "{}", list.text);
    assert!(list.text.contains("href=\"/admin/orgs/acme/clients/_new\""));
    let form = root.get("/admin/orgs/acme/clients/_new").await;
    assert_eq!(form.status, 200, "{}", form.text);
    for field in [
        "client_id",
        "client_name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "scopes",
        "token_endpoint_auth_method",
        "grant_types-authorization_code",
        "grant_types-refresh_token",
        "grant_types-client_credentials",
    ] {
        assert!(
            form.text.contains(&format!("<label for=\"{field}\""))
                || form.text.contains(&format!("for=\"{field}\"")),
            "label for {field}"
        );
    }
    // Defaults: authorization_code checked, basic auth, openid profile email.
    assert!(
        form.text.contains("value=\"authorization_code\" checked"),
        "{}",
        form.text
    );
    assert!(!form.text.contains("value=\"refresh_token\" checked"));
    assert!(form.text.contains("value=\"client_secret_basic\" selected"));
    assert_eq!(
        input_value(&form.text, "scopes").as_deref(),
        Some("openid profile email")
    );

    let page = root.post(CLIENTS, &grafana_form()).await;
    assert_eq!(page.status, 201, "{}", page.text);
    let secret = shown_secret(&page);
    assert!(page.text.contains("<code id=\"client-id\">grafana</code>"));
    assert!(
        page.text
            .contains(&server.url("/acme/.well-known/openid-configuration")),
        "the discovery URL is shown"
    );

    let client = grafana(&server).await;
    assert_eq!(client["client_name"], "Grafana");
    assert_eq!(
        client["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(client["redirect_uris"], json!([REDIRECT]));
    assert_eq!(client["post_logout_redirect_uris"], json!([]));
    assert_eq!(
        client["scopes"],
        json!(["openid", "profile", "email", "groups"])
    );
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");

    // The secret authenticates Grafana; a wrong one does not.
    assert_eq!(grafana_auth_status(&server, &secret).await, 200);
    assert_eq!(grafana_auth_status(&server, "cs_wrong").await, 401);

    // Never shown again: not in the list, not on the client page.
    let list = root.get(CLIENTS).await;
    assert_eq!(list.status, 200);
    assert!(
        list.text
            .contains("href=\"/admin/orgs/acme/clients/grafana\"")
    );
    assert!(list.text.contains(REDIRECT), "{}", list.text);
    assert!(!list.text.contains(&secret));
    let show = root.get(GRAFANA).await;
    assert_eq!(show.status, 200, "{}", show.text);
    assert!(!show.text.contains(&secret));
    assert!(!show.text.contains("id=\"client-secret\""));
    assert!(show.text.contains("Rotate secret"));
    assert!(show.text.contains("value=\"refresh_token\" checked"));
    server.stop().await;
}

#[tokio::test]
async fn an_empty_client_id_is_generated_and_defaults_apply() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let page = root
        .post(
            CLIENTS,
            &[
                ("client_id", ""),
                ("client_name", ""),
                ("grant_types", ""),
                ("grant_types", "client_credentials"),
                ("redirect_uris", ""),
                ("post_logout_redirect_uris", ""),
                ("scopes", ""),
                ("token_endpoint_auth_method", "client_secret_post"),
            ],
        )
        .await;
    assert_eq!(page.status, 201, "{}", page.text);
    shown_secret(&page);
    let listing = api_get(&server, "/api/v1/organizations/acme/clients").await;
    let items = listing["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let id = items[0]["client_id"].as_str().unwrap();
    assert!(!id.is_empty());
    assert!(
        page.text
            .contains(&format!("<code id=\"client-id\">{id}</code>"))
    );
    assert_eq!(items[0]["client_name"], json!(id));
    assert_eq!(items[0]["grant_types"], json!(["client_credentials"]));
    assert_eq!(items[0]["scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(items[0]["token_endpoint_auth_method"], "client_secret_post");
    server.stop().await;
}

#[tokio::test]
async fn rotating_through_the_console_replaces_the_secret() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let first = register_grafana(&root).await;

    // Grace 0: the old secret stops at once.
    let page = root
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "0")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let second = shown_secret(&page);
    assert_ne!(first, second);
    assert!(page.text.contains("previous secret no longer works"));
    assert_eq!(grafana_auth_status(&server, &first).await, 401);
    assert_eq!(grafana_auth_status(&server, &second).await, 200);

    // A grace period keeps the previous secret working that long.
    let page = root
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "3600")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let third = shown_secret(&page);
    assert!(page.text.contains("keeps working until"), "{}", page.text);
    assert_eq!(grafana_auth_status(&server, &second).await, 200);
    assert_eq!(grafana_auth_status(&server, &third).await, 200);
    server.clock.advance(3601);
    assert_eq!(grafana_auth_status(&server, &second).await, 401);
    assert_eq!(grafana_auth_status(&server, &third).await, 200);

    // An empty grace period means 0.
    let page = root
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let fourth = shown_secret(&page);
    assert_eq!(grafana_auth_status(&server, &third).await, 401);
    assert_eq!(grafana_auth_status(&server, &fourth).await, 200);
    server.stop().await;
}

#[tokio::test]
async fn editing_and_deleting_through_the_console() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let secret = register_grafana(&root).await;

    let r = root
        .post(
            &format!("{GRAFANA}/edit"),
            &[
                ("client_name", "Grafana EU"),
                ("grant_types", ""),
                ("grant_types", "authorization_code"),
                (
                    "redirect_uris",
                    "https://grafana.acme.eu/login/generic_oauth\r\n\r\n  https://grafana2.acme.eu/login/generic_oauth  \r\n",
                ),
                ("post_logout_redirect_uris", "https://grafana.acme.eu/"),
                ("scopes", "openid  email"),
                ("token_endpoint_auth_method", "client_secret_post"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{GRAFANA}?done=client-updated"));
    let client = grafana(&server).await;
    assert_eq!(client["client_name"], "Grafana EU");
    assert_eq!(client["grant_types"], json!(["authorization_code"]));
    assert_eq!(
        client["redirect_uris"],
        json!([REDIRECT, "https://grafana2.acme.eu/login/generic_oauth"])
    );
    assert_eq!(
        client["post_logout_redirect_uris"],
        json!(["https://grafana.acme.eu/"])
    );
    assert_eq!(client["scopes"], json!(["openid", "email"]));
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_post");
    let page = root.get(&format!("{GRAFANA}?done=client-updated")).await;
    assert!(page.text.contains("The client was saved."));
    assert!(page.text.contains("Grafana EU"));

    // PATCH semantics: what the form does not carry stays.
    let r = root
        .post(&format!("{GRAFANA}/edit"), &[("client_name", "Grafana")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let after = grafana(&server).await;
    assert_eq!(after["client_name"], "Grafana");
    for field in [
        "grant_types",
        "redirect_uris",
        "post_logout_redirect_uris",
        "scopes",
        "token_endpoint_auth_method",
    ] {
        assert_eq!(after[field], client[field], "{field}");
    }
    // Editing leaves the secret alone.
    let r = client_call(
        &server,
        "acme",
        "introspect",
        Auth::Post("grafana", &secret),
        &[("token", "anything")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = root.post(&format!("{GRAFANA}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{CLIENTS}?done=client-deleted"));
    assert_eq!(server.admin("GET", GRAFANA_API, None).await.status, 404);
    let list = root.get(&location(&r)).await;
    assert!(list.text.contains("The client was deleted."));
    assert!(!list.text.contains("grafana\""));
    assert_eq!(root.get(GRAFANA).await.status, 404);
    assert_eq!(grafana_auth_status(&server, &secret).await, 401);
    server.stop().await;
}

#[tokio::test]
async fn a_public_client_has_no_secret_and_no_rotation() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let page = root
        .post(
            CLIENTS,
            &[
                ("client_id", "spa"),
                ("client_name", "Single page app"),
                ("grant_types", ""),
                ("grant_types", "authorization_code"),
                ("redirect_uris", "http://localhost:3000/callback"),
                ("scopes", "openid profile"),
                ("token_endpoint_auth_method", "none"),
            ],
        )
        .await;
    assert_eq!(page.status, 201, "{}", page.text);
    assert!(!page.text.contains("id=\"client-secret\""));
    assert!(page.text.contains("public client"), "{}", page.text);
    assert!(page.text.contains("<code id=\"client-id\">spa</code>"));
    let spa = api_get(&server, "/api/v1/organizations/acme/clients/spa").await;
    assert_eq!(spa["token_endpoint_auth_method"], "none");

    let show = root.get("/admin/orgs/acme/clients/spa").await;
    assert_eq!(show.status, 200);
    assert!(!show.text.contains("Rotate secret"), "{}", show.text);
    assert!(!show.text.contains("/clients/spa/secret"));
    // A hand-made rotation is refused on the page.
    let r = root.post("/admin/orgs/acme/clients/spa/secret", &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("has no secret"), "{}", r.text);
    assert!(!r.text.contains("id=\"client-secret\""));
    server.stop().await;
}

#[tokio::test]
async fn an_org_admin_manages_its_orgs_clients() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "ann", &["acme"]).await;
    let ann = ConsoleUser::sign_in(&server, "ann").await;
    assert_eq!(ann.get(CLIENTS).await.status, 200);
    assert_eq!(ann.get(&format!("{CLIENTS}/_new")).await.status, 200);
    let first = register_grafana(&ann).await;
    assert_eq!(grafana_auth_status(&server, &first).await, 200);
    assert_eq!(ann.get(GRAFANA).await.status, 200);
    let r = ann
        .post(&format!("{GRAFANA}/edit"), &[("client_name", "Dashboards")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(grafana(&server).await["client_name"], "Dashboards");
    let page = ann
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "0")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    let second = shown_secret(&page);
    assert_eq!(grafana_auth_status(&server, &first).await, 401);
    assert_eq!(grafana_auth_status(&server, &second).await, 200);
    let r = ann.post(&format!("{GRAFANA}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(server.admin("GET", GRAFANA_API, None).await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn an_admin_of_another_org_gets_403_and_nothing_changes() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    server.create_org("globex").await;
    create_account(&server, "root", &[]).await;
    create_account(&server, "gus", &["globex"]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let secret = register_grafana(&root).await;
    let before = grafana(&server).await;
    let gus = ConsoleUser::sign_in(&server, "gus").await;

    for path in [CLIENTS, &format!("{CLIENTS}/_new"), GRAFANA] {
        let r = gus.get(path).await;
        assert_eq!(r.status, 403, "GET {path}: {}", r.text);
    }
    let mut wiki = grafana_form();
    wiki[0] = ("client_id", "wiki");
    let r = gus.post(CLIENTS, &wiki).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(!r.text.contains("client-secret"));
    let r = gus
        .post(&format!("{GRAFANA}/edit"), &[("client_name", "Hacked")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = gus
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "0")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(!r.text.contains("client-secret"));
    // A bad grace period does not reveal the client page either.
    let r = gus
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "x")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = gus.post(&format!("{GRAFANA}/delete"), &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);

    assert_eq!(grafana(&server).await, before);
    assert_eq!(grafana_auth_status(&server, &secret).await, 200);
    let listing = api_get(&server, "/api/v1/organizations/acme/clients").await;
    assert_eq!(listing["items"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let secret = register_grafana(&root).await;
    let before = grafana(&server).await;

    let mut wiki = grafana_form();
    wiki[0] = ("client_id", "wiki");
    let edit = [("client_name", "Hacked")];
    let rotate = [("grace_period_seconds", "0")];
    let cases: [(String, &[(&str, &str)]); 4] = [
        (CLIENTS.to_string(), &wiki),
        (format!("{GRAFANA}/edit"), &edit),
        (format!("{GRAFANA}/secret"), &rotate),
        (format!("{GRAFANA}/delete"), &[]),
    ];
    for (path, form) in &cases {
        let r = root.post_raw(path, form).await;
        assert_eq!(r.status, 403, "no token, {path}: {}", r.text);
        let mut with_wrong: Vec<(&str, &str)> = vec![("csrf", "not-the-token")];
        with_wrong.extend_from_slice(form);
        let r = root.post_raw(path, &with_wrong).await;
        assert_eq!(r.status, 403, "wrong token, {path}: {}", r.text);
        assert!(!r.text.contains("client-secret"));
    }

    assert_eq!(grafana(&server).await, before);
    assert_eq!(grafana_auth_status(&server, &secret).await, 200);
    let listing = api_get(&server, "/api/v1/organizations/acme/clients").await;
    assert_eq!(listing["items"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn register_errors_come_back_next_to_their_fields_with_the_values_typed() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;

    // An http redirect URI on a public host.
    let mut form = grafana_form();
    form[5] = (
        "redirect_uris",
        "http://grafana.acme.eu/login/generic_oauth",
    );
    let page = root.post(CLIENTS, &form).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "redirect_uris").contains("https"));
    assert!(marked_invalid(&page, "redirect_uris"));
    assert!(
        page.text
            .contains(">http://grafana.acme.eu/login/generic_oauth</textarea>")
    );
    assert_eq!(
        input_value(&page.text, "client_id").as_deref(),
        Some("grafana")
    );
    assert_eq!(
        input_value(&page.text, "client_name").as_deref(),
        Some("Grafana")
    );
    assert_eq!(
        input_value(&page.text, "scopes").as_deref(),
        Some("openid profile email groups")
    );
    assert!(page.text.contains("value=\"refresh_token\" checked"));
    assert!(!page.text.contains("id=\"client-secret\""));
    assert_eq!(server.admin("GET", GRAFANA_API, None).await.status, 404);

    // No grant type checked.
    let page = root
        .post(
            CLIENTS,
            &[
                ("client_id", "grafana"),
                ("grant_types", ""),
                ("redirect_uris", REDIRECT),
            ],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "grant_types").contains("at least one grant type"));
    assert!(!page.text.contains("value=\"authorization_code\" checked"));

    // refresh_token alone.
    let page = root
        .post(
            CLIENTS,
            &[
                ("client_id", "grafana"),
                ("grant_types", ""),
                ("grant_types", "refresh_token"),
                ("redirect_uris", REDIRECT),
            ],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "grant_types").contains("needs authorization_code"));

    // A bad client_id and a bad scope.
    let mut form = grafana_form();
    form[0] = ("client_id", "-grafana");
    let page = root.post(CLIENTS, &form).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "client_id").contains("starting with a letter"));
    assert!(marked_invalid(&page, "client_id"));
    let mut form = grafana_form();
    form[7] = ("scopes", "openid \"quoted\"");
    let page = root.post(CLIENTS, &form).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "scopes").contains("not a valid scope"));

    // A duplicate client_id: 409 next to client_id.
    let secret = register_grafana(&root).await;
    let mut again = grafana_form();
    again[1] = ("client_name", "Grafana again");
    let page = root.post(CLIENTS, &again).await;
    assert_eq!(page.status, 409, "{}", page.text);
    assert!(error_text(&page, "client_id").contains("already taken"));
    assert!(marked_invalid(&page, "client_id"));
    assert_eq!(
        input_value(&page.text, "client_name").as_deref(),
        Some("Grafana again")
    );
    assert!(!page.text.contains("id=\"client-secret\""));
    assert_eq!(grafana(&server).await["client_name"], "Grafana");
    assert_eq!(grafana_auth_status(&server, &secret).await, 200);
    server.stop().await;
}

#[tokio::test]
async fn edit_and_rotate_errors_come_back_on_the_client_page() {
    let server = TestServer::start().await;
    server.create_org("acme").await;
    create_account(&server, "root", &[]).await;
    let root = ConsoleUser::sign_in(&server, "root").await;
    let secret = register_grafana(&root).await;
    let before = grafana(&server).await;

    let page = root
        .post(
            &format!("{GRAFANA}/edit"),
            &[("client_name", "Renamed"), ("redirect_uris", "not a uri")],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "redirect_uris").contains("not an absolute URI"));
    assert!(marked_invalid(&page, "redirect_uris"));
    assert!(page.text.contains(">not a uri</textarea>"));
    assert_eq!(
        input_value(&page.text, "client_name").as_deref(),
        Some("Renamed")
    );

    // Dropping every redirect URI while keeping the code flow.
    let page = root
        .post(&format!("{GRAFANA}/edit"), &[("redirect_uris", "  \r\n")])
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "redirect_uris").contains("at least one redirect URI"));

    let page = root
        .post(&format!("{GRAFANA}/edit"), &[("client_name", "   ")])
        .await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(error_text(&page, "client_name").contains("must not be empty"));

    for grace in ["2592001", "-1", "soon", "1.5"] {
        let page = root
            .post(
                &format!("{GRAFANA}/secret"),
                &[("grace_period_seconds", grace)],
            )
            .await;
        assert_eq!(page.status, 400, "{grace}: {}", page.text);
        assert!(
            error_text(&page, "grace_period_seconds").contains("2592000"),
            "{grace}"
        );
        assert!(marked_invalid(&page, "grace_period_seconds"));
        assert_eq!(
            input_value(&page.text, "grace_period_seconds").as_deref(),
            Some(grace)
        );
        assert!(!page.text.contains("id=\"client-secret\""));
    }
    // The largest grace period is accepted.
    let page = root
        .post(
            &format!("{GRAFANA}/secret"),
            &[("grace_period_seconds", "2592000")],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    shown_secret(&page);

    assert_eq!(grafana(&server).await, before);
    assert_eq!(grafana_auth_status(&server, &secret).await, 200);
    assert_eq!(
        root.get("/admin/orgs/acme/clients/nobody").await.status,
        404
    );
    server.stop().await;
}
