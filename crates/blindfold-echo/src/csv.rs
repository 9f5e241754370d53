//! A small, strict CSV reader for EchoNet's two tables.
//!
//! Parts:
//! - [`parse_csv`]: bytes → [`CsvTable`] (header + rows, each with its line
//!   number). Handles a UTF-8 BOM, `\n` or `\r\n` line ends, and RFC 4180
//!   quoting (`"a,b"`, `""` for a quote). Every row must have as many fields as
//!   the header. Blank lines are skipped.
//! - [`CsvTable::column`] finds a column by name (missing → error naming it),
//!   and [`CsvTable::number`] / [`CsvTable::integer`] parse a cell (unparsable,
//!   non-finite or fractional-where-integer → error naming line and column).

use std::path::{Path, PathBuf};

use crate::error::{EchoError, Result};

/// A parsed CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    file: PathBuf,
    /// Column names from the first line, trimmed.
    pub header: Vec<String>,
    /// Data rows as `(one-based line number, fields)`.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Parses CSV bytes. `file` only labels errors.
pub fn parse_csv(file: &Path, bytes: &[u8]) -> Result<CsvTable> {
    let err = |line: usize, problem: String| EchoError::Csv {
        file: file.to_path_buf(),
        line,
        problem,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        err(line, format!("not valid UTF-8 text ({e})"))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut in_quotes = false;
    let mut quoted_field = false; // the current field was quoted
    let mut chars = text.chars().peekable();
    let finish_record = |fields: &mut Vec<String>,
                         field: &mut String,
                         records: &mut Vec<(usize, Vec<String>)>,
                         at: usize| {
        fields.push(std::mem::take(field));
        let blank = fields.len() == 1 && fields[0].trim().is_empty();
        let taken = std::mem::take(fields);
        if !blank {
            records.push((at, taken));
        }
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !quoted_field => {
                field.clear();
                in_quotes = true;
                quoted_field = true;
            }
            '"' => {
                return Err(err(
                    line,
                    "stray quote character inside an unquoted field".into(),
                ))
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted_field = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                finish_record(&mut fields, &mut field, &mut records, record_line);
                quoted_field = false;
                line += 1;
                record_line = line;
            }
            c if quoted_field => {
                if !c.is_whitespace() {
                    return Err(err(line, format!("unexpected {c:?} after a closing quote")));
                }
            }
            c => field.push(c),
        }
    }
    if in_quotes {
        return Err(err(
            record_line,
            "unterminated quoted field at end of file".into(),
        ));
    }
    if !field.is_empty() || !fields.is_empty() {
        finish_record(&mut fields, &mut field, &mut records, record_line);
    }

    let mut records = records.into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| err(1, "empty file: no header line".into()))?;
    let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for (at, r) in records {
        if r.len() != header.len() {
            return Err(err(
                at,
                format!(
                    "expected {} fields like the header, found {}",
                    header.len(),
                    r.len()
                ),
            ));
        }
        rows.push((at, r));
    }
    Ok(CsvTable {
        file: file.to_path_buf(),
        header,
        rows,
    })
}

impl CsvTable {
    /// The file this table came from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Index of the column called `name` (exact match after trimming).
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| EchoError::Csv {
                file: self.file.clone(),
                line: 1,
                problem: format!(
                    "missing column {name:?} (header has: {})",
                    self.header.join(",")
                ),
            })
    }

    /// Parses the cell at `(line, fields[col])` as a finite number.
    pub fn number(&self, line: usize, fields: &[String], col: usize) -> Result<f64> {
        let raw = fields.get(col).map(|s| s.trim()).unwrap_or("");
        let bad = |why: &str| EchoError::Csv {
            file: self.file.clone(),
            line,
            problem: format!(
                "column {:?}: {why}: {raw:?}",
                self.header.get(col).map_or("?", String::as_str)
            ),
        };
        let v: f64 = raw.parse().map_err(|_| bad("not a number"))?;
        if !v.is_finite() {
            return Err(bad("not a finite number"));
        }
        Ok(v)
    }

    /// Parses the cell as a non-negative integer no larger than `max`
    /// (`"50"` and `"50.0"` are accepted, `"50.5"` and `"-1"` are not).
    pub fn integer(&self, line: usize, fields: &[String], col: usize, max: u64) -> Result<u64> {
        let v = self.number(line, fields, col)?;
        if v < 0.0 || v.fract() != 0.0 || v > max as f64 {
            return Err(EchoError::Csv {
                file: self.file.clone(),
                line,
                problem: format!(
                    "column {:?}: expected a whole number in 0..={max}, found {v}",
                    self.header.get(col).map_or("?", String::as_str)
                ),
            });
        }
        Ok(v as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<CsvTable> {
        parse_csv(Path::new("x.csv"), s.as_bytes())
    }

    #[test]
    fn quotes_bom_crlf_and_blank_lines() {
        let t = parse("\u{feff}A,B\r\n1,\"x, \"\"y\"\"\"\r\n\r\n2, z \n").expect("parse");
        assert_eq!(t.header, vec!["A", "B"]);
        assert_eq!(
            t.rows[0],
            (2, vec!["1".to_string(), "x, \"y\"".to_string()])
        );
        assert_eq!(t.rows[1], (4, vec!["2".to_string(), " z ".to_string()]));
    }

    #[test]
    fn bad_shapes_are_errors_with_lines() {
        let e = parse("A,B\n1,2\n3\n").expect_err("short row");
        assert!(
            e.to_string().contains("x.csv: line 3: expected 2 fields"),
            "{e}"
        );
        assert!(parse("A\n\"open\n").is_err());
        assert!(parse("A\nab\"c\n").is_err());
        assert!(parse("").is_err());
        assert!(parse_csv(Path::new("x.csv"), &[b'A', b'\n', 0xff]).is_err());
    }

    #[test]
    fn numbers_and_columns() {
        let t = parse("N,F\n50,1.5\n50.5,nan\n").expect("parse");
        let (l, r) = &t.rows[0];
        assert_eq!(
            t.integer(*l, r, t.column("N").expect("N"), 100)
                .expect("int"),
            50
        );
        assert_eq!(t.number(*l, r, 1).expect("num"), 1.5);
        let (l, r) = &t.rows[1];
        assert!(t.integer(*l, r, 0, 100).is_err());
        let e = t.number(*l, r, 1).expect_err("nan");
        assert!(
            e.to_string().contains("line 3") && e.to_string().contains("\"F\""),
            "{e}"
        );
        assert!(t
            .column("Missing")
            .expect_err("missing")
            .to_string()
            .contains("missing column \"Missing\""));
    }
}
