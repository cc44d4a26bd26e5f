//! Request-body XML for S3: a small element tree read with quick-xml, and the SelectRequest,
//! RestoreRequest, Delete, CompleteMultipartUpload and AccelerateConfiguration shapes built
//! from it.
//!
//! Guarantees: never panics; anything that is not the XML S3 expects is `MalformedXML`;
//! nesting is capped so a hostile body cannot exhaust the stack.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{Error, Result};
use crate::select::{
    Compression, CsvInput, CsvOutput, FileHeaderInfo, InputFormat, JsonType, OutputFormat,
    QuoteFields, ScanRange, SelectRequest,
};

const MAX_DEPTH: usize = 32;

/// An XML element: local name, text, children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Local name (namespace prefix dropped).
    pub name: String,
    /// Concatenated text content.
    pub text: String,
    /// Child elements.
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Node> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a document into its root element.
pub fn parse(body: &[u8]) -> Result<Node> {
    let mut r = Reader::from_reader(body);
    r.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|_| Error::MalformedXml)?;
        match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::MalformedXml);
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node {
                    name,
                    ..Default::default()
                });
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let n = Node {
                    name,
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => return Ok(n),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let raw = String::from_utf8_lossy(t.as_ref()).into_owned();
                    let s = quick_xml::escape::unescape(&raw).map_err(|_| Error::MalformedXml)?;
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(g) => {
                if let Some(top) = stack.last_mut() {
                    let name = String::from_utf8_lossy(g.as_ref()).into_owned();
                    let entity = format!("&{name};");
                    let s =
                        quick_xml::escape::unescape(&entity).map_err(|_| Error::MalformedXml)?;
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(t.as_ref()));
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or(Error::MalformedXml)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => return Ok(n),
                }
            }
            Event::Eof => return Err(Error::MalformedXml),
            _ => {}
        }
        buf.clear();
    }
}

fn one_byte(s: Option<&str>, default: u8) -> Result<u8> {
    match s {
        None | Some("") => Ok(default),
        Some(s) if s.len() == 1 => Ok(s.as_bytes()[0]),
        Some(_) => Err(Error::select(
            "InvalidRequestParameter",
            "The value of a parameter in SelectRequest element is invalid. Check the service API documentation and try again.",
        )),
    }
}

fn bool_of(s: Option<&str>) -> bool {
    s.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Reads `SelectParameters` / `SelectObjectContentRequest` content into a [`SelectRequest`].
pub fn select_request(n: &Node) -> Result<SelectRequest> {
    let missing = || {
        Error::select(
            "MissingRequiredParameter",
            "The SelectRequest entity is missing a required parameter. Check the service documentation and try again.",
        )
    };
    let expression = n.text_of("Expression").ok_or_else(missing)?.to_owned();
    let expression_type = n.text_of("ExpressionType").unwrap_or("SQL").to_owned();
    let input = n.child("InputSerialization").ok_or_else(missing)?;
    let compression = match input.text_of("CompressionType").map(str::trim) {
        None | Some("") | Some("NONE") => Compression::None,
        Some("GZIP") => Compression::Gzip,
        Some("BZIP2") => Compression::Bzip2,
        Some(_) => {
            return Err(Error::select(
                "InvalidCompressionFormat",
                "The file is not in a supported compression format. Only GZIP and BZIP2 are supported.",
            ));
        }
    };
    let formats = ["CSV", "JSON", "Parquet"]
        .iter()
        .filter(|f| input.child(f).is_some())
        .count();
    if formats > 1 {
        return Err(Error::select(
            "ObjectSerializationConflict",
            "InputSerialization specifies more than one format (CSV, JSON, or Parquet), or OutputSerialization specifies more than one format (CSV or JSON). For InputSerialization and OutputSerialization, you can specify only one format for each.",
        ));
    }
    let input_format = if let Some(c) = input.child("CSV") {
        let file_header_info = match c.text_of("FileHeaderInfo").map(str::trim) {
            None | Some("") | Some("NONE") => FileHeaderInfo::None,
            Some("USE") => FileHeaderInfo::Use,
            Some("IGNORE") => FileHeaderInfo::Ignore,
            Some(_) => {
                return Err(Error::select(
                    "InvalidFileHeaderInfo",
                    "The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported.",
                ));
            }
        };
        let record_delimiter = match c.text_of("RecordDelimiter") {
            None | Some("") => b"\n".to_vec(),
            Some(s) => s.as_bytes().to_vec(),
        };
        InputFormat::Csv(CsvInput {
            file_header_info,
            comments: match c.text_of("Comments") {
                None | Some("") => None,
                s => Some(one_byte(s, b'#')?),
            },
            quote_escape_character: one_byte(c.text_of("QuoteEscapeCharacter"), b'"')?,
            record_delimiter,
            field_delimiter: one_byte(c.text_of("FieldDelimiter"), b',')?,
            quote_character: one_byte(c.text_of("QuoteCharacter"), b'"')?,
            allow_quoted_record_delimiter: bool_of(c.text_of("AllowQuotedRecordDelimiter")),
        })
    } else if let Some(j) = input.child("JSON") {
        InputFormat::Json(match j.text_of("Type").map(str::trim) {
            None | Some("") | Some("DOCUMENT") => JsonType::Document,
            Some("LINES") => JsonType::Lines,
            Some(_) => {
                return Err(Error::select(
                    "InvalidJsonType",
                    "The JsonType is invalid. Only DOCUMENT and LINES are supported.",
                ));
            }
        })
    } else if input.child("Parquet").is_some() {
        InputFormat::Parquet
    } else {
        return Err(Error::select(
            "InvalidDataSource",
            "The data source type is not valid. Only CSV, JSON, and Parquet are supported.",
        ));
    };
    let output = n.child("OutputSerialization").ok_or_else(missing)?;
    if output.child("CSV").is_some() && output.child("JSON").is_some() {
        return Err(Error::select(
            "ObjectSerializationConflict",
            "InputSerialization specifies more than one format (CSV, JSON, or Parquet), or OutputSerialization specifies more than one format (CSV or JSON). For InputSerialization and OutputSerialization, you can specify only one format for each.",
        ));
    }
    let output_format = if let Some(c) = output.child("CSV") {
        OutputFormat::Csv(CsvOutput {
            quote_fields: match c.text_of("QuoteFields").map(str::trim) {
                None | Some("") | Some("ASNEEDED") => QuoteFields::AsNeeded,
                Some("ALWAYS") => QuoteFields::Always,
                Some(_) => {
                    return Err(Error::select(
                        "InvalidQuoteFields",
                        "The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported.",
                    ));
                }
            },
            quote_escape_character: one_byte(c.text_of("QuoteEscapeCharacter"), b'"')?,
            record_delimiter: c
                .text_of("RecordDelimiter")
                .filter(|s| !s.is_empty())
                .unwrap_or("\n")
                .as_bytes()
                .to_vec(),
            field_delimiter: c
                .text_of("FieldDelimiter")
                .filter(|s| !s.is_empty())
                .unwrap_or(",")
                .as_bytes()
                .to_vec(),
            quote_character: one_byte(c.text_of("QuoteCharacter"), b'"')?,
        })
    } else if let Some(j) = output.child("JSON") {
        OutputFormat::Json {
            record_delimiter: j
                .text_of("RecordDelimiter")
                .filter(|s| !s.is_empty())
                .unwrap_or("\n")
                .as_bytes()
                .to_vec(),
        }
    } else {
        return Err(missing());
    };
    let num = |s: Option<&str>| -> Result<Option<u64>> {
        match s.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Error::select("InvalidScanRange", "The provided scan range is not valid.")
            }),
        }
    };
    let scan_range = match n.child("ScanRange") {
        Some(r) => Some(ScanRange {
            start: num(r.text_of("Start"))?,
            end: num(r.text_of("End"))?,
        }),
        None => None,
    };
    Ok(SelectRequest {
        expression,
        expression_type,
        input: input_format,
        compression,
        output: output_format,
        request_progress: n
            .child("RequestProgress")
            .is_some_and(|p| bool_of(p.text_of("Enabled"))),
        scan_range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_select_request() {
        let body = br#"<?xml version="1.0"?><SelectObjectContentRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Expression>SELECT * FROM S3Object s WHERE s.a &lt; 3</Expression><ExpressionType>SQL</ExpressionType><InputSerialization><CSV><FileHeaderInfo>USE</FileHeaderInfo><FieldDelimiter>;</FieldDelimiter></CSV><CompressionType>GZIP</CompressionType></InputSerialization><OutputSerialization><JSON><RecordDelimiter>,</RecordDelimiter></JSON></OutputSerialization><RequestProgress><Enabled>true</Enabled></RequestProgress></SelectObjectContentRequest>"#;
        let r = select_request(&parse(body).unwrap()).unwrap();
        assert_eq!(r.expression, "SELECT * FROM S3Object s WHERE s.a < 3");
        assert_eq!(r.compression, Compression::Gzip);
        assert!(r.request_progress);
        assert!(matches!(
            r.input,
            InputFormat::Csv(CsvInput {
                field_delimiter: b';',
                file_header_info: FileHeaderInfo::Use,
                ..
            })
        ));
        assert_eq!(
            r.output,
            OutputFormat::Json {
                record_delimiter: b",".to_vec()
            }
        );
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse("<a>".repeat(100).as_bytes()).is_err());
    }
}
