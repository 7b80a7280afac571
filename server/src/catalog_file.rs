//! The catalog as one YAML file: the approved workspace types and their configurations, as
//! `atrium catalog export` writes it and `atrium catalog apply` reads it back. Parsing keeps
//! the line of every field, so that each problem, whether the YAML's, its shape's or a rule's,
//! names the file line and the field.

use app::domain::configurations::Configuration;
use app::domain::idle::IdlePolicy;
use app::error::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::{Event, Yaml, YamlEmitter};

/// The whole file. Every scalar is text, as in the admin's form, and checked by the same rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// Required, even empty (`types: []` retires every type): an empty file is a mistake.
    pub types: Vec<TypeEntry>,
}

/// An approved product version of Service Catalog, by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeEntry {
    pub product: String,
    pub version: String,
    #[serde(default)]
    pub configurations: Vec<ConfigurationEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationEntry {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    pub allowed_roles: Vec<String>,
    pub allowed_teams: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Dollars per hour, e.g. "0.20".
    pub estimated_hourly_cost: String,
    /// Absent: the default policy (stop after 60 minutes under 5 % CPU).
    #[serde(default)]
    pub idle: Option<IdleEntry>,
    /// The sizes owners may switch to; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sizes: Option<SizesEntry>,
}

/// "Change size": the parameter, and each value it may take with its dollars per hour.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SizesEntry {
    pub parameter: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdleEntry {
    /// Minutes idle, or "never".
    #[serde(default)]
    pub stop_after: String,
    #[serde(default)]
    pub cpu_percent: String,
    #[serde(default)]
    pub max_running_hours: String,
    /// "20:00" in the team's time zone.
    #[serde(default)]
    pub nightly_stop: String,
    /// "true" or "false".
    #[serde(default)]
    pub stop_on_sign_out: String,
}

impl ConfigurationEntry {
    /// The admin's form with these values, for the form's own checks.
    pub fn form(&self) -> app::domain::configurations::ConfigurationForm {
        let checked = |keys: &[String]| keys.iter().map(|k| (k.clone(), "on".to_owned())).collect();
        let idle = self.idle.clone().unwrap_or_default();
        app::domain::configurations::ConfigurationForm {
            name: self.name.clone(),
            description: self.description.clone(),
            parameters: self.parameters.clone(),
            allowed_roles: checked(&self.allowed_roles),
            allowed_teams: checked(&self.allowed_teams),
            tags: self.tags.iter().map(|(k, v)| format!("{k}={v}\n")).collect(),
            estimated_hourly_cost: self.estimated_hourly_cost.clone(),
            idle_stop_after: idle.stop_after,
            idle_cpu_percent: idle.cpu_percent,
            idle_max_running_hours: idle.max_running_hours,
            idle_nightly_stop: idle.nightly_stop,
            idle_stop_on_sign_out: if ["true", "yes", "on"].contains(&idle.stop_on_sign_out.trim()) { "on".into() } else { String::new() },
            size_parameter: self.sizes.as_ref().map(|s| s.parameter.clone()).unwrap_or_default(),
            sizes: self.sizes.iter().flat_map(|s| &s.options).map(|(value, cost)| format!("{value} = {cost}\n")).collect(),
        }
    }

    /// A stored configuration as the file writes it.
    pub fn from_configuration(configuration: &Configuration) -> ConfigurationEntry {
        let draft = &configuration.draft;
        let idle = &draft.idle;
        let cents = draft.estimated_hourly_cost_cents;
        ConfigurationEntry {
            name: draft.name.clone(),
            description: draft.description.clone(),
            parameters: draft.parameter_values.clone(),
            allowed_roles: draft.allowed_roles.iter().map(|r| r.as_str().to_owned()).collect(),
            allowed_teams: draft.allowed_teams.iter().map(|t| t.to_string()).collect(),
            tags: draft.tags.clone(),
            estimated_hourly_cost: format!("{}.{:02}", cents / 100, cents % 100),
            idle: (*idle != IdlePolicy::default()).then(|| IdleEntry {
                stop_after: idle.stop_after_minutes.map_or("never".to_owned(), |m| m.to_string()),
                cpu_percent: idle.cpu_percent.to_string(),
                max_running_hours: idle.max_running_hours.map(|h| h.to_string()).unwrap_or_default(),
                nightly_stop: idle.nightly_stop.clone().unwrap_or_default(),
                stop_on_sign_out: idle.stop_on_sign_out.to_string(),
            }),
            sizes: draft.sizes.as_ref().map(|sizes| SizesEntry {
                parameter: sizes.parameter.clone(),
                options: sizes
                    .options
                    .iter()
                    .map(|o| {
                        (o.value.clone(), format!("{}.{:02}", o.estimated_hourly_cost_cents / 100, o.estimated_hourly_cost_cents % 100))
                    })
                    .collect(),
            }),
        }
    }
}

/// Where each field of a parsed file is: `types[0].configurations[1].name` → its line.
#[derive(Debug, Default)]
pub struct Lines(HashMap<String, usize>);

impl Lines {
    /// The line of `path`, or of the nearest enclosing field that has one.
    pub fn of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.0.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }

    /// `message` at `path`, as "line N: …".
    pub fn error(&self, path: &str, message: &str) -> FieldError {
        match self.of(path) {
            Some(line) => FieldError::new(path, format!("line {line}: {message}")),
            None => FieldError::new(path, message.to_owned()),
        }
    }
}

/// The file's content and where each field is, or each problem with its line.
pub fn parse(text: &str) -> Result<(CatalogFile, Lines), Vec<FieldError>> {
    if let Some(line) = nested_too_deep(text) {
        return Err(vec![FieldError::new("", format!("line {line}: this is nested deeper than a catalog file goes"))]);
    }
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, true) {
        let marker = error.marker();
        return Err(vec![FieldError::new("", format!("line {}: this is not valid YAML: {}", marker.line(), error.info()))]);
    }
    if let Some((line, message)) = builder.error {
        return Err(vec![FieldError::new("", format!("line {line}: {message}"))]);
    }
    let empty_keys = std::mem::take(&mut builder.empty_keys);
    let lines = Lines(builder.lines);
    let Some(root) = builder.root.filter(|root| !root.is_null()) else {
        return Err(vec![FieldError::new("types", "line 1: the file is empty; it needs `types:` (`types: []` retires every type)")]);
    };
    match serde_path_to_error::deserialize::<_, CatalogFile>(root) {
        Ok(file) => match unknown_empty_key(&file, &empty_keys) {
            Some((path, key)) => Err(vec![lines.error(&path, &format!("unknown field `{key}`"))]),
            None => Ok((file, lines)),
        },
        Err(error) => {
            let path = error.path().to_string();
            let path = if path == "." { String::new() } else { path };
            Err(vec![lines.error(&path, &error.inner().to_string())])
        }
    }
}

/// A key given no value that is not a field where it stands (`colour:`), as (its path, the
/// key): a value left out is dropped before the file is read, so the reader never sees it.
fn unknown_empty_key(file: &CatalogFile, empty_keys: &[(String, String)]) -> Option<(String, String)> {
    let read = serde_json::to_value(file).ok()?;
    empty_keys.iter().find_map(|(map, key)| {
        // Parameters and tags are maps of the admin's own keys: any key is one of them.
        if map.ends_with("parameters") || map.ends_with("tags") {
            return None;
        }
        let known = value_at(&read, map).is_some_and(|fields| fields.get(key.as_str()).is_some());
        let path = if map.is_empty() { key.clone() } else { format!("{map}.{key}") };
        (!known).then(|| (path, key.clone()))
    })
}

/// The value at a path such as `types[0].configurations[1].idle`.
fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for part in path.split('.').filter(|part| !part.is_empty()) {
        let (name, indexes) = part.split_once('[').map_or((part, ""), |(name, rest)| (name, rest));
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

/// The first line nested far deeper than a catalog goes, judged before parsing: yaml-rust2
/// loads each level of nesting with a nested call, and a few thousand levels (`- - - - …`, or
/// `[[[[…`) would overflow the stack of the thread parsing it.
fn nested_too_deep(text: &str) -> Option<usize> {
    const MAX_COLUMN: usize = 120;
    const MAX_FLOW: i64 = 32;
    let mut flow: i64 = 0;
    for (index, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut rest = line.trim_start_matches(' ');
        let mut column = indent;
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            column += 2 + (after.len() - after.trim_start_matches(' ').len());
            rest = after.trim_start_matches(' ');
        }
        for c in line.chars() {
            match c {
                '[' | '{' => flow += 1,
                ']' | '}' => flow -= 1,
                _ => {}
            }
            if flow > MAX_FLOW {
                return Some(index + 1);
            }
        }
        if column > MAX_COLUMN {
            return Some(index + 1);
        }
    }
    None
}

/// Builds a JSON value from the YAML parser's events and notes the line of every field.
/// Scalars stay text (so "0.20" and "08:00" mean what they say); a plain `~`, `null` or
/// empty value is a field left out.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Value>,
    lines: HashMap<String, usize>,
    error: Option<(usize, String)>,
    documents: usize,
    nodes: usize,
    /// Keys given no value (`colour:`), as (the map's path, the key): left out, if they are fields.
    empty_keys: Vec<(String, String)>,
}

/// A catalog file nests five levels deep (types, a type, configurations, one, its idle
/// policy); deeper is not a catalog, and very deep input would cost memory and stack.
const MAX_DEPTH: usize = 12;
/// Far more fields than any catalog has.
const MAX_NODES: usize = 200_000;

enum Frame {
    /// `keys`: every key seen, null values too, so that a key given twice is found.
    Map {
        path: String,
        entries: Map<String, Value>,
        key: Option<String>,
        keys: std::collections::HashSet<String>,
    },
    Seq {
        path: String,
        items: Vec<Value>,
    },
}

impl Builder {
    /// The path of the node that starts now, noting its line.
    fn child_path(&mut self, line: usize) -> String {
        let path = match self.stack.last() {
            Some(Frame::Map { path, key: Some(key), .. }) if path.is_empty() => key.clone(),
            Some(Frame::Map { path, key: Some(key), .. }) => format!("{path}.{key}"),
            Some(Frame::Map { path, key: None, .. }) => path.clone(),
            Some(Frame::Seq { path, items }) => format!("{path}[{}]", items.len()),
            None => String::new(),
        };
        self.lines.entry(path.clone()).or_insert(line);
        path
    }

    fn attach(&mut self, value: Value) {
        match self.stack.last_mut() {
            Some(Frame::Map { entries, key, path, .. }) => {
                if let Some(key) = key.take() {
                    if value.is_null() {
                        self.empty_keys.push((path.clone(), key));
                    } else {
                        entries.insert(key, value);
                    }
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(value),
            None => self.root = Some(value),
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn fail(&mut self, line: usize, message: &str) {
        self.error.get_or_insert((line, message.to_owned()));
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line();
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.fail(line, "the file has too many fields for a catalog");
            return;
        }
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(line, "the file holds more than one YAML document (a second `---`); a catalog is one");
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.fail(line, "this is nested deeper than a catalog file goes");
            }
            Event::Scalar(text, style, ..) => {
                if self.expecting_key() {
                    let path = match self.stack.last() {
                        Some(Frame::Map { path, .. }) if path.is_empty() => text.clone(),
                        Some(Frame::Map { path, .. }) => format!("{path}.{text}"),
                        _ => text.clone(),
                    };
                    self.lines.entry(path).or_insert(line);
                    if let Some(Frame::Map { key, keys, .. }) = self.stack.last_mut() {
                        if !keys.insert(text.clone()) {
                            let message = format!("\"{text}\" is given twice");
                            self.fail(line, &message);
                            return;
                        }
                        *key = Some(text);
                    }
                    return;
                }
                self.child_path(line);
                let null = style == TScalarStyle::Plain && ["", "~", "null", "Null", "NULL"].contains(&text.as_str());
                self.attach(if null { Value::Null } else { Value::String(text) });
            }
            Event::MappingStart(..) | Event::SequenceStart(..) if self.expecting_key() => {
                self.fail(line, "a key must be plain text");
            }
            Event::MappingStart(..) => {
                let path = self.child_path(line);
                self.stack.push(Frame::Map { path, entries: Map::new(), key: None, keys: Default::default() });
            }
            Event::SequenceStart(..) => {
                let path = self.child_path(line);
                self.stack.push(Frame::Seq { path, items: Vec::new() });
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { entries, .. }) = self.stack.pop() {
                    self.attach(Value::Object(entries));
                }
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, .. }) = self.stack.pop() {
                    self.attach(Value::Array(items));
                }
            }
            Event::Alias(..) => self.fail(line, "anchors and aliases (*name) are not supported here; write the value out"),
            _ => {}
        }
    }
}

/// The file as `export` writes it: fields in a fixed, readable order.
pub fn to_yaml(file: &CatalogFile, header: &str) -> String {
    fn text(s: &str) -> Yaml {
        Yaml::String(s.to_owned())
    }
    fn map(entries: Vec<(&str, Yaml)>) -> Yaml {
        let mut hash = yaml_rust2::yaml::Hash::new();
        for (key, value) in entries {
            hash.insert(text(key), value);
        }
        Yaml::Hash(hash)
    }
    fn strings(values: &[String]) -> Yaml {
        Yaml::Array(values.iter().map(|v| text(v)).collect())
    }
    fn pairs(values: &BTreeMap<String, String>) -> Yaml {
        let mut hash = yaml_rust2::yaml::Hash::new();
        for (k, v) in values {
            hash.insert(text(k), text(v));
        }
        Yaml::Hash(hash)
    }
    let types = file
        .types
        .iter()
        .map(|t| {
            let configurations = t
                .configurations
                .iter()
                .map(|c| {
                    let mut fields = vec![
                        ("name", text(&c.name)),
                        ("description", text(&c.description)),
                        ("estimated_hourly_cost", text(&c.estimated_hourly_cost)),
                        ("allowed_roles", strings(&c.allowed_roles)),
                        ("allowed_teams", strings(&c.allowed_teams)),
                        ("parameters", pairs(&c.parameters)),
                        ("tags", pairs(&c.tags)),
                    ];
                    if let Some(idle) = &c.idle {
                        fields.push((
                            "idle",
                            map(vec![
                                ("stop_after", text(&idle.stop_after)),
                                ("cpu_percent", text(&idle.cpu_percent)),
                                ("max_running_hours", text(&idle.max_running_hours)),
                                ("nightly_stop", text(&idle.nightly_stop)),
                                ("stop_on_sign_out", text(&idle.stop_on_sign_out)),
                            ]),
                        ));
                    }
                    map(fields)
                })
                .collect();
            map(vec![("product", text(&t.product)), ("version", text(&t.version)), ("configurations", Yaml::Array(configurations))])
        })
        .collect();
    let mut out = String::new();
    let document = map(vec![("types", Yaml::Array(types))]);
    if YamlEmitter::new(&mut out).dump(&document).is_err() {
        tracing::error!("Failed to write the catalog as YAML");
    }
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    format!("{header}{body}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
types:
  - product: Linux workstation (EC2)
    version: v1
    configurations:
      - name: Standard workstation
        estimated_hourly_cost: 0.20
        allowed_roles: [researcher]
        allowed_teams:
          - genomics
        parameters:
          InstanceType: t3.large
        idle:
          stop_after: never
";

    #[test]
    fn a_file_reads_as_text_fields_with_their_lines() {
        let (file, lines) = parse(FILE).expect("valid");
        let configuration = &file.types[0].configurations[0];
        assert_eq!(configuration.estimated_hourly_cost, "0.20", "a number stays as written");
        assert_eq!(configuration.allowed_teams, ["genomics"]);
        assert_eq!(configuration.idle.as_ref().map(|i| i.stop_after.as_str()), Some("never"));
        assert_eq!(lines.of("types[0].configurations[0].name"), Some(5));
        assert_eq!(lines.of("types[0].configurations[0].allowed_teams[0]"), Some(9));
        assert_eq!(lines.of("types[0].configurations[0].parameters.Nope"), Some(10), "the nearest enclosing field");
    }

    #[test]
    fn each_problem_names_its_line_and_field() {
        for empty in ["'': null\n", "colour:\n"] {
            let errors = parse(&format!("{empty}types: []\n")).expect_err("an unknown field, even empty");
            assert!(errors[0].message.contains("unknown field"), "{empty:?}: {errors:?}");
        }
        let empty_known = FILE
            .replace("        estimated_hourly_cost: 0.20\n", "        estimated_hourly_cost: 0.20\n        description:\n        tags:\n");
        assert!(parse(&empty_known).is_ok(), "fields left empty are left out");
        let empty_unknown = FILE.replace("        estimated_hourly_cost: 0.20\n", "        estimated_hourly_cost: 0.20\n        colour:\n");
        assert!(parse(&empty_unknown).expect_err("unknown")[0].message.starts_with("line 7: unknown field `colour`"));
        let unknown = FILE.replace("        estimated_hourly_cost: 0.20\n", "        estimated_hourly_cost: 0.20\n        colour: blue\n");
        let errors = parse(&unknown).expect_err("an unknown field");
        assert!(errors[0].message.starts_with("line 7: unknown field `colour`"), "{errors:?}");
        assert_eq!(errors[0].field, "types[0].configurations[0].colour");

        let wrong_type = FILE.replace("allowed_roles: [researcher]", "allowed_roles: researcher");
        let errors = parse(&wrong_type).expect_err("a wrong type");
        assert_eq!(errors[0].field, "types[0].configurations[0].allowed_roles");
        assert!(errors[0].message.starts_with("line 7: invalid type"), "{errors:?}");

        assert!(parse("").expect_err("empty")[0].message.contains("the file is empty"));
        assert!(parse("# only a comment\n").is_err());
        let broken = parse("types:\n  - product: [unclosed\n").expect_err("not YAML");
        assert!(broken[0].message.contains("not valid YAML"), "{broken:?}");
        let twice = parse("types: []\ntypes: []\n").expect_err("a key twice");
        assert!(twice[0].message.starts_with("line 2:"), "{twice:?}");
        assert!(parse("types:\ntypes: []\n").is_err(), "a key twice, the first one empty");
        let two = parse("types: []\n---\ntypes: []\n").expect_err("two documents");
        assert!(two[0].message.contains("more than one YAML document"), "{two:?}");
        for deep in [
            format!("types:\n{}x\n", "- ".repeat(5000)),
            format!("types: {}\n", "[".repeat(5000)),
            format!("types:\n{}- x\n", " ".repeat(500)),
        ] {
            assert!(parse(&deep).expect_err("too deep")[0].message.contains("nested deeper"), "{}", &deep[..40]);
        }
        let deep_but_short = format!("types:\n  - product: {}\n", "[".repeat(3) + &"]".repeat(3));
        assert!(
            !parse(&deep_but_short).expect_err("not a string")[0].message.contains("nested deeper"),
            "a little nesting is YAML's to judge"
        );
    }

    #[test]
    fn what_export_writes_reads_back_the_same() {
        let (file, _) = parse(FILE).expect("valid");
        let written = to_yaml(&file, "# exported\n");
        let (again, _) = parse(&written).expect("its own output parses");
        let mut expected = file.clone();
        expected.types[0].configurations[0].idle = Some(IdleEntry { stop_after: "never".into(), ..IdleEntry::default() });
        assert_eq!(again, expected, "{written}");
    }
}
