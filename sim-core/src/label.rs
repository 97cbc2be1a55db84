//! Labels for people: a value's serde form as a few protocol words (`VOTE t1 yes`,
//! `DECISION t1 commit`), never a `Debug` dump cut mid-value. It is the default of
//! [`crate::Protocol::label_msg`] and its siblings, which the diagrams of
//! [`crate::export`] call; it needs nothing but serde, so both can stand on it.

/// Serde tag fields whose value names the variant (`#[serde(tag = "msg")]` and the like).
const TAG_KEYS: [&str; 8] = ["msg", "obs", "type", "kind", "tag", "do", "on", "record"];

/// A value's serde form as a few protocol words, for diagrams: the variant name in capitals
/// (`DECISION-REQUEST`), then its scalar fields in order, a `txn` field as `t1` (a transaction
/// struct by its `id`); lists are left out. `Vote { txn: TxnId(1), vote: Yes }` serialised as
/// `{"msg":"vote","txn":1,"vote":"yes"}` reads `VOTE t1 yes`.
pub fn short_label<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let value = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    let mut words = Vec::new();
    match &value {
        // A unit variant.
        serde_json::Value::String(s) => words.push(variant_word(s)),
        v => push_words(v, &mut words),
    }
    words.join(" ")
}

fn variant_word(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 && !out.ends_with('-') {
            out.push('-');
        }
        out.push(if c == '_' { '-' } else { c.to_ascii_uppercase() });
    }
    out
}

fn push_words(v: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::Null | Value::Array(_) => {}
        Value::Bool(b) => out.push(b.to_string()),
        Value::Number(n) => out.push(n.to_string()),
        Value::String(s) => out.push(s.clone()),
        // Externally tagged: {"Variant": fields}.
        Value::Object(m) if m.len() == 1 && !m.contains_key("txn") => {
            let (k, inner) = m.iter().next().expect("one entry");
            out.push(variant_word(k));
            push_words(inner, out);
        }
        Value::Object(m) => {
            for (k, v) in m {
                if let (true, Value::String(s)) = (TAG_KEYS.contains(&k.as_str()), v) {
                    out.push(variant_word(s));
                }
            }
            // The transaction first, then the other fields (in serde_json's key order).
            match m.get("txn") {
                Some(Value::Number(n)) => out.push(format!("t{n}")),
                Some(Value::Object(t)) if t.get("id").is_some_and(Value::is_number) => {
                    out.push(format!("t{}", t["id"]))
                }
                Some(other) => push_words(other, out),
                None => {}
            }
            for (k, v) in m {
                if k != "txn" && !(TAG_KEYS.contains(&k.as_str()) && v.is_string()) {
                    push_words(v, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    #[serde(tag = "msg", rename_all = "snake_case")]
    enum Msg {
        Vote { txn: u64, vote: &'static str },
        Request { attempt: u32, txn: u64 },
        DecisionRequest { txn: u64 },
        Prepare { txn: u64, writes: Vec<u32> },
    }

    #[derive(Serialize)]
    enum Timer {
        Retry(u64),
        Think,
    }

    #[test]
    fn short_labels_read_as_protocol_words() {
        assert_eq!(short_label(&Msg::Vote { txn: 1, vote: "yes" }), "VOTE t1 yes");
        assert_eq!(short_label(&Msg::DecisionRequest { txn: 3 }), "DECISION-REQUEST t3");
        assert_eq!(short_label(&Msg::Prepare { txn: 2, writes: vec![1, 2] }), "PREPARE t2");
        assert_eq!(short_label(&Msg::Request { attempt: 2, txn: 5 }), "REQUEST t5 2");
        assert_eq!(short_label(&Timer::Retry(4)), "RETRY 4");
        assert_eq!(short_label(&Timer::Think), "THINK");
    }
}
