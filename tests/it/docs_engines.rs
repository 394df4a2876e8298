//! The ClickHouse table of `docs/clickhouse.md` against the event schema, everywhere
//! (`tests/engines/run.sh` runs it in a real ClickHouse only where one can be installed):
//! every column the table reads from the NDJSON is a field `mailtls events` may write, so
//! a renamed field or a typo in the doc cannot leave a column silently empty.

use std::collections::BTreeSet;

use crate::common::{mailtls, ndjson, root, success};
use serde_json::Value;

/// The fenced block of `doc` with info string `lang` whose first line starts with `first`.
fn block(doc: &str, lang: &str, first: &str) -> Option<String> {
    let fence = format!("```{lang}");
    let mut lines = doc.lines();
    while let Some(l) = lines.next() {
        if l != fence {
            continue;
        }
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        if body.first().is_some_and(|l| l.starts_with(first)) {
            return Some(body.join("\n"));
        }
    }
    None
}

/// The columns of the CREATE TABLE: (name without backquotes, whether it is computed
/// (`MATERIALIZED`, `ALIAS`, `DEFAULT`) rather than read from the input).
fn columns(create: &str) -> Vec<(String, bool)> {
    let open = create.find('(').unwrap();
    let close = create.find("\nENGINE").unwrap();
    let body = &create[open + 1..create[..close].rfind(')').unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .map(|l| {
            let name = l.split_whitespace().next().unwrap().trim_matches('`');
            let computed = ["MATERIALIZED", "ALIAS", "DEFAULT"]
                .iter()
                .any(|k| l.split_whitespace().any(|w| w == *k));
            (name.to_owned(), computed)
        })
        .collect()
}

/// Every dotted field path the schema names (`peer.key`, `tls.version`), following
/// `$ref`s into `$defs`, through `allOf`/`if`/`then`/`anyOf`/`oneOf` and array `items`.
fn schema_paths(schema: &Value) -> BTreeSet<String> {
    fn walk(root: &Value, node: &Value, prefix: &str, out: &mut BTreeSet<String>, depth: usize) {
        if depth > 12 {
            return;
        }
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r.trim_start_matches("#/$defs/");
            if let Some(def) = root["$defs"].get(name) {
                walk(root, def, prefix, out, depth + 1);
            }
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                walk(root, v, &path, out, depth + 1);
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            for sub in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(root, sub, prefix, out, depth + 1);
            }
        }
        for key in ["if", "then", "else", "items"] {
            if let Some(sub) = node.get(key) {
                walk(root, sub, prefix, out, depth + 1);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(schema, schema, "", &mut out, 0);
    out
}

fn clickhouse_doc() -> String {
    std::fs::read_to_string(root().join("docs/clickhouse.md")).unwrap()
}

#[test]
fn every_column_of_the_clickhouse_table_is_a_field_of_the_event_schema() {
    let create = block(&clickhouse_doc(), "sql", "-- mailtls_events:").unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/mailtls.event-1.schema.json")).unwrap(),
    )
    .unwrap();
    let paths = schema_paths(&schema);
    // The walk is not vacuous: it reaches nested fields behind $ref.
    assert!(
        paths.contains("peer.key") && paths.contains("tls.version"),
        "{paths:?}"
    );
    let cols = columns(&create);
    assert!(cols.len() > 20, "{cols:?}");
    let read: Vec<&String> = cols.iter().filter(|(_, c)| !c).map(|(n, _)| n).collect();
    let unknown: Vec<&&String> = read
        .iter()
        .filter(|n| !paths.contains(n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "columns that no event field fills: {unknown:?}"
    );
    // Only one level of nesting: ClickHouse 18.16's input_format_import_nested_json
    // imports `peer.key` but not `tls.bits.secret` (the doc says so).
    assert!(read.iter().all(|n| n.matches('.').count() <= 1), "{read:?}");
}

#[test]
fn the_clickhouse_columns_cover_what_the_documented_queries_count_in_real_events() {
    // The fields the per-peer query reads are present in real output of every MTA.
    let doc = clickhouse_doc();
    let query = block(&doc, "sql", "-- per_peer:").unwrap();
    let cols: BTreeSet<String> = columns(&block(&doc, "sql", "-- mailtls_events:").unwrap())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for field in ["peer.key", "direction", "type", "encryption", "status"] {
        assert!(query.contains(field), "per_peer does not read {field}");
        assert!(cols.contains(field), "no column {field}");
    }
    let out = success(
        mailtls()
            .args(["events", "--no-config", "--year", "2026", "--utc"])
            .args([
                "sample-logs/maillog",
                "sample-logs/postfix",
                "sample-logs/exim",
            ])
            .current_dir(root())
            .output()
            .unwrap(),
    );
    let evs = ndjson(&out.stdout);
    for kind in ["session", "message"] {
        let of_kind: Vec<&Value> = evs.iter().filter(|e| e["type"] == kind).collect();
        assert!(!of_kind.is_empty(), "no {kind} events");
        for e in of_kind {
            assert!(
                e["peer"]["key"].is_string() && e["direction"].is_string(),
                "{e}"
            );
        }
    }
    assert!(
        evs.iter()
            .filter(|e| e["type"] == "message" && e["direction"] == "outbound")
            .all(|e| e["status"].is_string()),
        "an outbound message without status: the query's `status = 'sent'` would miss it"
    );
}
