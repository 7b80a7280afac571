//! The CLI reference of the guides (`docs/src/reference/cli.md`), rendered from the clap
//! definitions: the test keeps the file equal to them (`ATRIUM_WRITE_DOCS=1` rewrites it).

use clap::CommandFactory;

fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

fn render(command: &clap::Command, depth: usize, text: &mut String, undocumented: &mut Vec<String>) {
    let name = command.get_bin_name().unwrap_or_else(|| command.get_name());
    text.push_str(&format!("\n{} `{name}`\n\n", "#".repeat(depth + 1)));
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        text.push_str(&format!("{about}\n\n"));
    }
    text.push_str(&format!("```text\n{}\n```\n", command.clone().render_usage().to_string().trim_start_matches("Usage: ")));
    // Global options are listed once, at the top.
    let arguments: Vec<&clap::Arg> = command
        .get_arguments()
        .filter(|arg| !["help", "version"].contains(&arg.get_id().as_str()) && (depth == 1 || !arg.is_global_set()))
        .collect();
    if !arguments.is_empty() {
        text.push_str("\n| Argument | Meaning |\n|---|---|\n");
        for arg in arguments {
            let name = match arg.get_long() {
                Some(long) => format!("`--{long}`"),
                None => format!("`<{}>`", arg.get_id().as_str().to_uppercase()),
            };
            let help = arg.get_long_help().or(arg.get_help()).map(|help| help.to_string()).unwrap_or_default();
            if help.is_empty() {
                undocumented.push(format!("{name} of `{}`", command.get_name()));
            }
            let help = format!("{}.", help.trim_end_matches('.'));
            let values: Vec<String> = arg.get_possible_values().iter().map(|value| format!("`{}`", value.get_name())).collect();
            let values = if values.is_empty() { String::new() } else { format!(" One of {}.", values.join(", ")) };
            text.push_str(&format!("| {name} | {}{values} |\n", cell(&help)));
        }
    }
    for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
        render(sub, depth + 1, text, undocumented);
    }
}

/// The reference, from the CLI's definitions.
fn reference() -> String {
    let mut command = super::Cli::command();
    command.build();
    let mut text = String::from(
        "<!-- Generated from the clap definitions in cli/src by its tests (ATRIUM_WRITE_DOCS=1 dev/docs rewrites it): do not edit. -->\n\
         # CLI reference\n\n\
         `atrium` calls the portal's API (`/api/v1`) with a personal access token from \
         /settings/tokens. `atrium login` saves the portal's address and the token.\n",
    );
    let mut undocumented = Vec::new();
    render(&command, 1, &mut text, &mut undocumented);
    assert_eq!(undocumented, Vec::<String>::new(), "every argument says what it is (a doc comment)");
    text
}

#[test]
fn the_cli_reference_in_the_docs_is_the_one_the_definitions_give() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/reference/cli.md");
    let generated = reference();
    if std::env::var_os("ATRIUM_WRITE_DOCS").is_some() {
        std::fs::write(path, &generated).expect("the reference is written");
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(written == generated, "docs/src/reference/cli.md is out of date: ATRIUM_WRITE_DOCS=1 dev/docs rewrites it");
    for command in ["`atrium login`", "`atrium launch`", "`atrium studies"] {
        assert!(generated.contains(command), "{command} is in the reference");
    }
}
