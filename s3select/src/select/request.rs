//! The SelectObjectContent request: input and output serialization, scan range, progress.
//!
//! Mirrors the AWS shapes (`InputSerialization`, `CSVInput`, `JSONInput`, `ParquetInput`,
//! `OutputSerialization`, `ScanRange`); [`SelectRequest::validate`] applies S3's checks so an
//! invalid request fails before any byte is read.

use crate::error::{Error, Result};

/// `FileHeaderInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileHeaderInfo {
    /// The first line is data.
    #[default]
    None,
    /// The first line is a header and is skipped; columns are named `_1`, `_2` …
    Ignore,
    /// The first line names the columns.
    Use,
}

/// `CSVInput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvInput {
    /// `FileHeaderInfo`.
    pub file_header_info: FileHeaderInfo,
    /// `Comments`: lines starting with this character are skipped.
    pub comments: Option<u8>,
    /// `QuoteEscapeCharacter` (default `"`).
    pub quote_escape_character: u8,
    /// `RecordDelimiter` (one byte, or `\r\n`).
    pub record_delimiter: Vec<u8>,
    /// `FieldDelimiter` (default `,`).
    pub field_delimiter: u8,
    /// `QuoteCharacter` (default `"`).
    pub quote_character: u8,
    /// `AllowQuotedRecordDelimiter`.
    pub allow_quoted_record_delimiter: bool,
}

impl Default for CsvInput {
    fn default() -> Self {
        CsvInput {
            file_header_info: FileHeaderInfo::None,
            comments: None,
            quote_escape_character: b'"',
            record_delimiter: b"\n".to_vec(),
            field_delimiter: b',',
            quote_character: b'"',
            allow_quoted_record_delimiter: false,
        }
    }
}

/// `JSONInput.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonType {
    /// Whole JSON documents, possibly several, possibly spanning lines.
    #[default]
    Document,
    /// One JSON value per line.
    Lines,
}

/// The input format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV.
    Csv(CsvInput),
    /// JSON.
    Json(JsonType),
    /// Parquet.
    Parquet,
}

/// `CompressionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Uncompressed.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// bzip2.
    Bzip2,
}

/// `QuoteFields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuoteFields {
    /// Quote only fields that need it.
    #[default]
    AsNeeded,
    /// Quote every field.
    Always,
}

/// `CSVOutput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOutput {
    /// `QuoteFields`.
    pub quote_fields: QuoteFields,
    /// `QuoteEscapeCharacter`.
    pub quote_escape_character: u8,
    /// `RecordDelimiter`.
    pub record_delimiter: Vec<u8>,
    /// `FieldDelimiter`.
    pub field_delimiter: Vec<u8>,
    /// `QuoteCharacter`.
    pub quote_character: u8,
}

impl Default for CsvOutput {
    fn default() -> Self {
        CsvOutput {
            quote_fields: QuoteFields::AsNeeded,
            quote_escape_character: b'"',
            record_delimiter: b"\n".to_vec(),
            field_delimiter: b",".to_vec(),
            quote_character: b'"',
        }
    }
}

/// The output format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFormat {
    /// CSV.
    Csv(CsvOutput),
    /// JSON lines with this record delimiter.
    Json {
        /// `RecordDelimiter` (default `\n`).
        record_delimiter: Vec<u8>,
    },
}

/// `ScanRange`: byte offsets into the (uncompressed) object; both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanRange {
    /// `Start`.
    pub start: Option<u64>,
    /// `End`; alone, it means "the last `End` bytes".
    pub end: Option<u64>,
}

impl ScanRange {
    /// The half-open byte range of an object of `size` bytes in which records must start.
    pub fn resolve(&self, size: u64) -> Result<(u64, u64)> {
        match (self.start, self.end) {
            (Some(s), Some(e)) if s > e => Err(Error::select(
                "InvalidScanRange",
                "The provided scan range is not valid.",
            )),
            (Some(s), Some(e)) => Ok((s.min(size), e.saturating_add(1).min(size))),
            (Some(s), None) => Ok((s.min(size), size)),
            (None, Some(e)) => Ok((size.saturating_sub(e), size)),
            (None, None) => Ok((0, size)),
        }
    }
}

/// A SelectObjectContent request (or a Glacier Select job's `SelectParameters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectRequest {
    /// The SQL expression.
    pub expression: String,
    /// `ExpressionType` (only `SQL`).
    pub expression_type: String,
    /// Input format.
    pub input: InputFormat,
    /// Input compression.
    pub compression: Compression,
    /// Output format.
    pub output: OutputFormat,
    /// `RequestProgress.Enabled`.
    pub request_progress: bool,
    /// `ScanRange`.
    pub scan_range: Option<ScanRange>,
}

impl SelectRequest {
    /// A request for `expression` over `input`, answering CSV.
    pub fn new(expression: impl Into<String>, input: InputFormat) -> Self {
        SelectRequest {
            expression: expression.into(),
            expression_type: "SQL".into(),
            input,
            compression: Compression::None,
            output: OutputFormat::Csv(CsvOutput::default()),
            request_progress: false,
            scan_range: None,
        }
    }

    /// The same request answering JSON lines.
    pub fn json_output(mut self) -> Self {
        self.output = OutputFormat::Json {
            record_delimiter: b"\n".to_vec(),
        };
        self
    }

    /// Applies S3's request checks.
    pub fn validate(&self) -> Result<()> {
        if self.expression_type != "SQL" {
            return Err(Error::select(
                "InvalidExpressionType",
                "The ExpressionType is invalid. Only SQL expressions are supported.",
            ));
        }
        if self.expression.trim().is_empty() {
            return Err(Error::select(
                "MissingRequiredParameter",
                "The SelectRequest entity is missing a required parameter. Check the service documentation and try again.",
            ));
        }
        if let InputFormat::Csv(c) = &self.input {
            if c.record_delimiter.is_empty()
                || c.record_delimiter.len() > 2
                || (c.record_delimiter.len() == 2 && c.record_delimiter != b"\r\n")
            {
                return Err(Error::select(
                    "InvalidRequestParameter",
                    "The value of a parameter in SelectRequest element is invalid. Check the service API documentation and try again.",
                ));
            }
            if c.field_delimiter == c.record_delimiter[0] || c.field_delimiter == c.quote_character
            {
                return Err(Error::select(
                    "InvalidRequestParameter",
                    "The value of a parameter in SelectRequest element is invalid. Check the service API documentation and try again.",
                ));
            }
        }
        if let Some(r) = &self.scan_range {
            if let (Some(s), Some(e)) = (r.start, r.end)
                && s > e
            {
                return Err(Error::select(
                    "InvalidScanRange",
                    "The provided scan range is not valid.",
                ));
            }
            let supported = match &self.input {
                InputFormat::Csv(c) => !c.allow_quoted_record_delimiter,
                InputFormat::Json(t) => *t == JsonType::Lines,
                InputFormat::Parquet => true,
            };
            if !supported || self.compression != Compression::None {
                return Err(Error::select(
                    "UnsupportedScanRangeInput",
                    "Scan range queries are not supported on this type of object.",
                ));
            }
        }
        if self.input == InputFormat::Parquet && self.compression != Compression::None {
            return Err(Error::select(
                "InvalidCompressionFormat",
                "The file is not in a supported compression format. Only GZIP and BZIP2 are supported.",
            ));
        }
        Ok(())
    }
}
