//! Races between nodes, decided by the database: one code, or one refresh token, sent to both
//! nodes at the same moment has exactly one winner. A replayed code revokes what the winner got;
//! a refresh token used twice within `REFRESH_RACE_SECONDS` is a lost race that revokes nothing,
//! while a later replay revokes the family (docs/reference/token.md).

use std::time::{Duration, Instant};

use clavex_core::oidc::token::REFRESH_RACE_SECONDS;
use clavex_testkit::TestResponse;

use super::support::*;
use crate::oidc::{rp::*, support::*};

/// Rounds per race (issue #5).
const ROUNDS: usize = 200;

/// The two answers of one round at nodes 0 and 1: exactly one 200 and one 400 `invalid_grant`.
/// Returns the winning node, its answer and the loser's.
fn one_winner(
    round: usize,
    a: TestResponse,
    b: TestResponse,
) -> (usize, TestResponse, TestResponse) {
    match (a.status, b.status) {
        (200, _) => {
            assert_oauth_error(&b, 400, "invalid_grant");
            (0, a, b)
        }
        (_, 200) => {
            assert_oauth_error(&a, 400, "invalid_grant");
            (1, b, a)
        }
        _ => panic!(
            "round {round}: no winner: A {} {} / B {} {}",
            a.status, a.text, b.status, b.text
        ),
    }
}

#[tokio::test]
async fn one_code_redeemed_at_both_nodes_at_once_has_one_winner() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    // The one password sign-in; every round's code comes from the SSO session.
    cluster.sign_in_alice(&browser, 0, 0).await;

    let start = Instant::now();
    let mut wins = [0usize; 2];
    for round in 0..ROUNDS {
        let (code, verifier) = cluster.sso_code(&browser, round % 2).await;
        let (a, b) = tokio::join!(
            cluster.redeem(0, &secret, &code, &verifier),
            cluster.redeem(1, &secret, &code, &verifier),
        );
        let (winner, won, _) = one_winner(round, a, b);
        wins[winner] += 1;
        // The loser replayed a used code, which revokes what the winner got (token.md).
        let tokens = Tokens::from_response(&won);
        let r = cluster.refresh(1 - winner, &secret, tokens.refresh()).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
    eprintln!(
        "code race: {ROUNDS} rounds, exactly one winner in each (node A won {}, node B won {}), {:.1} s",
        wins[0],
        wins[1],
        start.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn one_refresh_token_used_at_both_nodes_at_once_has_one_winner() {
    let cluster = Cluster::start(2).await;
    let secret = cluster.seed_acme().await;
    let browser = Browser::new();
    let mut latest = cluster.alice_tokens(&browser, &secret, 0).await;

    let start = Instant::now();
    let mut wins = [0usize; 2];
    // Rounds by number of 200s among the two answers.
    let mut successes = [0usize; 3];
    // The first token of the chain, the node that spent it, and when.
    let mut oldest = None;
    for round in 0..ROUNDS {
        let (a, b) = tokio::join!(
            cluster.refresh(0, &secret, latest.refresh()),
            cluster.refresh(1, &secret, latest.refresh()),
        );
        let answered = Instant::now();
        successes[usize::from(a.status == 200) + usize::from(b.status == 200)] += 1;
        let (winner, won, lost) = one_winner(round, a, b);
        wins[winner] += 1;
        assert!(
            lost.text.contains("just used"),
            "round {round}: the loser lost a race: {}",
            lost.text
        );
        oldest.get_or_insert((latest.refresh().to_owned(), winner, answered));
        // The chain goes on with the winner's token: the next round needs it valid.
        latest = Tokens::from_response(&won);
    }
    let chain_time = start.elapsed();
    for i in 0..2 {
        let r = cluster.userinfo(i, &latest.access_token).await;
        assert_eq!(r.status, 200, "the chain's newest access token: {}", r.text);
    }
    eprintln!(
        "refresh race: {ROUNDS} rounds on one chain; rounds with 0/1/2 successes: {}/{}/{} (node A won {}, node B won {}), {:.1} s",
        successes[0],
        successes[1],
        successes[2],
        wins[0],
        wins[1],
        chain_time.as_secs_f64()
    );
    assert_eq!(successes, [0, ROUNDS, 0]);

    // The chain's first token, replayed at the node that did not spend it once the race window
    // (whole seconds, so one more) has passed for it: theft, so the whole family goes.
    let (old, spent_at, used) = oldest.expect("a first round");
    let window = Duration::from_secs(REFRESH_RACE_SECONDS.unsigned_abs() + 1);
    tokio::time::sleep_until((used + window).into()).await;
    let r = cluster.refresh(1 - spent_at, &secret, &old).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        !r.text.contains("just used"),
        "a replay, not a race: {}",
        r.text
    );
    for i in 0..2 {
        let r = cluster.refresh(i, &secret, latest.refresh()).await;
        assert_oauth_error(&r, 400, "invalid_grant");
        assert_invalid_token(&cluster.userinfo(i, &latest.access_token).await);
        let info = cluster.introspect(i, &secret, latest.refresh()).await;
        assert_eq!(info["active"], false, "{info}");
    }
}
