//! Jepsen's `unique-ids` checker: `generate` ops return ids that must all
//! differ. Reports the ids acknowledged more than once (`duplicated`: id →
//! count, the 48 most duplicated) and the `range` of ids seen.

use super::{client_ops, is, Elem, Report};
use crate::datum::Datum;
use crate::error::CheckError;
use crate::history::History;
use crate::op::OpType;
use crate::verdict::Validity;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// The result, with Jepsen's fields.
#[derive(Debug, Serialize)]
pub struct UniqueIdsResult {
    /// true or false.
    pub valid: Validity,
    /// Generates invoked.
    pub attempted_count: usize,
    /// Generates acknowledged.
    pub acknowledged_count: usize,
    /// Ids acknowledged more than once.
    pub duplicated_count: usize,
    /// Id → times acknowledged (the 48 most duplicated).
    pub duplicated: BTreeMap<String, usize>,
    /// Lowest and highest id acknowledged.
    pub range: [Option<Elem>; 2],
}

/// Checks a unique-id history.
pub fn check(history: &History<Datum>) -> Result<Report, CheckError> {
    let mut attempted = 0;
    let mut acked = 0;
    let mut freqs: HashMap<Elem, usize> = HashMap::default();
    for (_, op) in client_ops(history) {
        if is(op, OpType::Invoke, "generate") {
            attempted += 1;
        } else if is(op, OpType::Ok, "generate") {
            acked += 1;
            *freqs.entry(Elem::of(&op.value)).or_default() += 1;
        }
    }
    let range = [freqs.keys().min().cloned(), freqs.keys().max().cloned()];
    let mut dups: Vec<(Elem, usize)> = freqs.into_iter().filter(|(_, n)| *n > 1).collect();
    let duplicated_count = dups.len();
    dups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    dups.truncate(48);
    dups.sort();
    let valid = if duplicated_count == 0 {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let mut lines = vec![format!(
        "{acked} ids acknowledged of {attempted} attempted, {duplicated_count} duplicated"
    )];
    for (id, n) in dups.iter().take(8) {
        lines.push(format!("id {} returned {n} times", id.key()));
    }
    let r = UniqueIdsResult {
        valid,
        attempted_count: attempted,
        acknowledged_count: acked,
        duplicated_count,
        duplicated: dups.into_iter().map(|(e, n)| (e.key(), n)).collect(),
        range,
    };
    Ok(Report::new(valid, &r, lines))
}

#[cfg(test)]
mod tests {
    use crate::format::jsonl;
    use crate::Datum;
    use std::path::Path;

    #[test]
    fn string_ids_are_reported_as_themselves() {
        let mut text = String::new();
        for (i, id) in [r#""a7""#, r#""a7""#, "3", "3", r#""b1""#]
            .iter()
            .enumerate()
        {
            text.push_str(&format!(
                "{{\"index\":{},\"process\":{i},\"type\":\"invoke\",\"f\":\"generate\",\"value\":null}}\n\
                 {{\"index\":{},\"process\":{i},\"type\":\"ok\",\"f\":\"generate\",\"value\":{id}}}\n",
                2 * i,
                2 * i + 1
            ));
        }
        let h = jsonl::read_as::<Datum>(Path::new("ids.jsonl"), &text).unwrap();
        let r = super::check(&h).unwrap();
        assert_eq!(r.json["duplicated"], serde_json::json!({"a7": 2, "3": 2}));
        assert!(
            r.lines.iter().any(|l| l == "id a7 returned 2 times"),
            "{:?}",
            r.lines
        );
    }
}
