//! Docs that must not drift from the code: the settings table in docs/configuration.md is
//! generated from `clavex_config::describe()`. Run `UPDATE_DOCS=1 cargo test --test integration
//! docs::` to regenerate it after changing a setting.

const BEGIN: &str = "<!-- settings:begin (generated from clavex_config::describe) -->";
const END: &str = "<!-- settings:end -->";

fn settings_table() -> String {
    let mut out = String::from(
        "| setting | variable | flag | TOML key | default | meaning |\n|---|---|---|---|---|---|\n",
    );
    for s in clavex_config::describe() {
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {} | {} | {} |\n",
            s.name,
            s.env,
            s.flag,
            s.toml_key
                .map(|k| format!("`{k}`"))
                .unwrap_or_else(|| "—".into()),
            s.default
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "unset".into()),
            s.description.replace('|', "\\|").replace('\n', " "),
        ));
    }
    out
}

#[test]
fn configuration_reference_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
    let doc = std::fs::read_to_string(path).expect("docs/configuration.md exists");
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("the begin marker is in the file");
    let (_, tail) = rest.split_once(END).expect("the end marker is in the file");
    let expected = format!("{head}{BEGIN}\n{}{END}{tail}", settings_table());
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(path, &expected).expect("write docs/configuration.md");
        return;
    }
    assert!(
        doc == expected,
        "docs/configuration.md is out of date with clavex_config::describe(); regenerate it with \
         UPDATE_DOCS=1 cargo test --test integration docs::"
    );
}
