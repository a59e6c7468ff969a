//! The little JSON this crate writes (control replies, corruption
//! records): string literals. The crate stays free of serde; every value
//! it writes is a string, a number or a list of them.

/// `s` as a JSON string literal, with quotes, backslashes and control
/// characters escaped.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            super::string("a\"b\\c\nd\u{1}\t"),
            r#""a\"b\\c\nd\u0001\t""#
        );
    }
}
