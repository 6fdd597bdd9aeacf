//! `sqlx::migrate!` embeds the migration files at compile time; cargo does not know they are
//! inputs, so without this a new migration could be silently left out of a build.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
