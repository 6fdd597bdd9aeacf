//! One test per conformance case, each on a fresh, migrated database of the backend this run
//! uses. The case list comes from `clavex_store::conformance_cases!`, so a new case runs here
//! without touching this file.

use std::sync::Arc;

use clavex_store::{SqlStore, Store, conformance};
use clavex_testkit::TestDatabase;

async fn run(case: conformance::Case) {
    let db = TestDatabase::new().await;
    let store = SqlStore::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    case(shared).await;
    store.close().await;
}

macro_rules! store_cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                run(|store| Box::pin(conformance::$case(store))).await;
            }
        )*
    };
}

clavex_store::conformance_cases!(store_cases);
