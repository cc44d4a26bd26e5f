//! Parquet DECIMAL read exactly: every physical type the format allows for it (INT32, INT64,
//! FIXED_LEN_BYTE_ARRAY, BYTE_ARRAY), DECIMAL(38,10) values at the edge of 38 digits, and the
//! aggregates over them, compared with exact expectations computed here on i128.
#![cfg(feature = "parquet")]

use std::sync::Arc;

use arrow_array::{Decimal128Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::{InputFormat, OutputFormat, SelectRequest};
use nubis_s3select::{PutObject, S3, ServiceError};
use parquet::data_type::{
    ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// DECIMAL(38,10) coefficients: the largest and smallest 38-digit values, tiny ones, NULL.
const D38: [Option<i128>; 6] = [
    Some(12_345_678_901_234_567_890_123_456_781_234_567_890),
    Some(99_999_999_999_999_999_999_999_999_999_999_999_999),
    Some(-99_999_999_999_999_999_999_999_999_999_999_999_999),
    Some(1),
    None,
    Some(-5_000_000_000),
];

/// `c × 10^-scale` printed exactly, as S3 Select prints a decimal of that scale.
fn text(c: i128, scale: usize) -> String {
    let digits = format!("{:0>width$}", c.unsigned_abs(), width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{}{int}.{frac}", if c < 0 { "-" } else { "" })
}

/// Big-endian two's complement in the fewest bytes (BYTE_ARRAY) or in `width` bytes.
fn be_bytes(v: i128, width: Option<usize>) -> Vec<u8> {
    let full = v.to_be_bytes();
    match width {
        Some(w) => full[16 - w..].to_vec(),
        None => {
            let mut start = 0;
            while start < 15 {
                let (b, next) = (full[start], full[start + 1]);
                let redundant = (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
                if !redundant {
                    break;
                }
                start += 1;
            }
            full[start..].to_vec()
        }
    }
}

/// One row group written column by column with the parquet crate's low-level writer, so each
/// DECIMAL has exactly the physical type named in the schema.
fn physical_types_file() -> Vec<u8> {
    let schema = Arc::new(
        parse_message_type(
            "message m {
                optional int32 d32 (DECIMAL(9,2));
                optional int64 d64 (DECIMAL(18,4));
                optional fixed_len_byte_array(16) dflba (DECIMAL(38,10));
                optional binary dbin (DECIMAL(38,10));
                optional fixed_len_byte_array(17) dwide (DECIMAL(40,0));
            }",
        )
        .unwrap(),
    );
    let present: Vec<i128> = D38.iter().flatten().copied().collect();
    let defs: Vec<i16> = D38.iter().map(|v| i16::from(v.is_some())).collect();
    let mut out = Vec::new();
    let mut w = SerializedFileWriter::new(&mut out, schema, Default::default()).unwrap();
    let mut rg = w.next_row_group().unwrap();
    // d32: coefficients of DECIMAL(9,2).
    let mut c = rg.next_column().unwrap().unwrap();
    let v32: Vec<i32> = vec![123_456_789, -999_999_999, 1, 0, -1];
    c.typed::<Int32Type>()
        .write_batch(&v32, Some(&defs), None)
        .unwrap();
    c.close().unwrap();
    // d64: DECIMAL(18,4).
    let mut c = rg.next_column().unwrap().unwrap();
    let v64: Vec<i64> = vec![999_999_999_999_999_999, -123_456_789_012_345_678, 5, 0, -1];
    c.typed::<Int64Type>()
        .write_batch(&v64, Some(&defs), None)
        .unwrap();
    c.close().unwrap();
    // dflba and dbin: the DECIMAL(38,10) values.
    let mut c = rg.next_column().unwrap().unwrap();
    let flba: Vec<FixedLenByteArray> = present
        .iter()
        .map(|v| FixedLenByteArray::from(ByteArray::from(be_bytes(*v, Some(16)))))
        .collect();
    c.typed::<FixedLenByteArrayType>()
        .write_batch(&flba, Some(&defs), None)
        .unwrap();
    c.close().unwrap();
    let mut c = rg.next_column().unwrap().unwrap();
    let bin: Vec<ByteArray> = present
        .iter()
        .map(|v| ByteArray::from(be_bytes(*v, None)))
        .collect();
    c.typed::<ByteArrayType>()
        .write_batch(&bin, Some(&defs), None)
        .unwrap();
    c.close().unwrap();
    // dwide: DECIMAL(40,0) in 17 bytes, beyond 38 digits (rounded to 38 on read).
    let mut c = rg.next_column().unwrap().unwrap();
    let wide: Vec<FixedLenByteArray> = present
        .iter()
        .map(|v| {
            // v × 100 as a 17-byte two's complement: 40 digits for the 38-digit values.
            let mut x = v.to_be_bytes().to_vec();
            x.insert(0, if *v < 0 { 0xff } else { 0 });
            let mut carry = 0u32;
            for b in x.iter_mut().rev() {
                let t = u32::from(*b) * 100 + carry;
                *b = t as u8;
                carry = t >> 8;
            }
            FixedLenByteArray::from(ByteArray::from(x))
        })
        .collect();
    c.typed::<FixedLenByteArrayType>()
        .write_batch(&wide, Some(&defs), None)
        .unwrap();
    c.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();
    out
}

fn store() -> S3 {
    let s3 = S3::new(Env::default());
    s3.create_bucket(&Region::US_EAST_1, "pqd", None).unwrap();
    s3.put_object(PutObject::new(
        "pqd",
        "types.parquet",
        Bytes::from(physical_types_file()),
    ))
    .unwrap();
    s3
}

fn run(s3: &S3, key: &str, sql: &str, output: OutputFormat) -> Result<String, String> {
    let mut req = SelectRequest::new(sql, InputFormat::Parquet);
    req.output = output;
    s3.select_object_content_to_end("pqd", key, &req)
        .map(|(out, _)| String::from_utf8_lossy(&out).into_owned())
        .map_err(|e| e.code().to_owned())
}

fn csv(s3: &S3, key: &str, sql: &str) -> String {
    run(s3, key, sql, OutputFormat::Csv(Default::default())).unwrap_or_else(|e| e)
}

#[test]
fn every_physical_type_reads_exactly() {
    let s3 = store();
    let want: String = D38
        .iter()
        .map(|v| v.map(|c| text(c, 10)).unwrap_or_default())
        .map(|t| format!("{t},{t}\n"))
        .collect();
    assert_eq!(
        csv(&s3, "types.parquet", "SELECT dflba, dbin FROM S3Object"),
        want
    );
    assert_eq!(
        csv(&s3, "types.parquet", "SELECT d32, d64 FROM S3Object"),
        "1234567.89,99999999999999.9999\n-9999999.99,-12345678901234.5678\n0.01,0.0005\n0.00,0.0000\n,\n-0.01,-0.0001\n"
    );
    // 40 digits round half to even to 38: …890 × 100 and 10^40 - 100 keep 38 digits plus
    // two zeros.
    let wide = csv(&s3, "types.parquet", "SELECT dwide FROM S3Object LIMIT 2");
    assert_eq!(
        wide,
        "1234567890123456789012345678123456789000\n9999999999999999999999999999999999999900\n"
    );
}

#[test]
fn decimal_38_10_queries_are_exact() {
    let s3 = store();
    let present: Vec<i128> = D38.iter().flatten().copied().collect();
    let sum: i128 = present.iter().sum();
    let min = *present.iter().min().unwrap();
    let max = *present.iter().max().unwrap();
    assert_eq!(
        csv(
            &s3,
            "types.parquet",
            "SELECT SUM(dflba), MIN(dbin), MAX(dflba), COUNT(dbin) FROM S3Object"
        ),
        format!("{},{},{},5\n", text(sum, 10), text(min, 10), text(max, 10))
    );
    // AVG of a DECIMAL is a DECIMAL: here the sum ÷ 5, exact to 38 digits.
    assert_eq!(
        csv(&s3, "types.parquet", "SELECT AVG(dbin) FROM S3Object"),
        "246913578024691357802469135.52469135782\n"
    );
    // Comparison with a 38-digit literal is exact: the largest value and one unit below it.
    assert_eq!(
        csv(
            &s3,
            "types.parquet",
            "SELECT dflba FROM S3Object WHERE dflba > 9999999999999999999999999999.9999999998"
        ),
        "9999999999999999999999999999.9999999999\n"
    );
    assert_eq!(
        csv(
            &s3,
            "types.parquet",
            "SELECT COUNT(*) FROM S3Object WHERE dbin = 0.0000000001 OR d32 = 1234567.89"
        ),
        "2\n"
    );
    // Arithmetic: one unit at the 10th place, and a product past 38 digits (rounded).
    assert_eq!(
        csv(
            &s3,
            "types.parquet",
            "SELECT dflba + 0.0000000001, dflba * 3, dflba * 9 FROM S3Object LIMIT 1"
        ),
        "1234567890123456789012345678.1234567891,3703703670370370367037037034.3703703670,\
         11111111011111111101111111103.111111101\n"
    );
    // Mixed with INT and FLOAT columns of the same row.
    assert_eq!(
        csv(
            &s3,
            "types.parquet",
            "SELECT d32 + d64, CAST(dflba AS FLOAT), CAST(dflba AS INT) FROM S3Object WHERE d32 = -0.01"
        ),
        "-0.0101,-0.5,0\n"
    );
    // JSON prints the same exact numbers.
    assert_eq!(
        run(
            &s3,
            "types.parquet",
            "SELECT dbin FROM S3Object LIMIT 2",
            OutputFormat::Json {
                record_delimiter: b"\n".to_vec()
            }
        )
        .unwrap(),
        "{\"dbin\":1234567890123456789012345678.1234567890}\n{\"dbin\":9999999999999999999999999999.9999999999}\n"
    );
}

/// Many DECIMAL(38,10) rows through the Arrow writer, in several row groups: the whole-column
/// sum (no NULLs) and the row-by-row sum (with NULLs) both equal the i128 sum.
#[test]
fn column_sums_match_row_sums() {
    let n = 20_000i128;
    let values: Vec<i128> = (0..n)
        .map(|i| (i * 7_919_000_000_123 + 10_000_000_000) * if i % 3 == 0 { -1 } else { 1 })
        .collect();
    let with_nulls: Vec<Option<i128>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i % 11 != 0).then_some(*v))
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("d", DataType::Decimal128(38, 10), false),
        Field::new("n", DataType::Decimal128(38, 10), true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(
                Decimal128Array::from(values.clone())
                    .with_precision_and_scale(38, 10)
                    .unwrap(),
            ),
            Arc::new(
                Decimal128Array::from(with_nulls.clone())
                    .with_precision_and_scale(38, 10)
                    .unwrap(),
            ),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(3000))
        .build();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let s3 = store();
    s3.put_object(PutObject::new("pqd", "many.parquet", Bytes::from(out)))
        .unwrap();
    let sum: i128 = values.iter().sum();
    let sum_n: i128 = with_nulls.iter().flatten().sum();
    assert_eq!(
        csv(&s3, "many.parquet", "SELECT SUM(d), SUM(n) FROM S3Object"),
        format!("{},{}\n", text(sum, 10), text(sum_n, 10))
    );
    assert_eq!(
        csv(
            &s3,
            "many.parquet",
            "SELECT SUM(CAST(d AS DECIMAL)) FROM S3Object WHERE n IS NULL"
        ),
        format!(
            "{}\n",
            text(
                values
                    .iter()
                    .zip(&with_nulls)
                    .filter(|(_, n)| n.is_none())
                    .map(|(v, _)| v)
                    .sum(),
                10
            )
        )
    );
}
