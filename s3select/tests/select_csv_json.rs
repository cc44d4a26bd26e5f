//! S3 Select end to end through the engine's Rust API: CSV and JSON inputs, every output
//! option, aggregates, errors, compression and scan ranges.

use std::io::Write;

use bytes::Bytes;
use nubis_core::{Env, ManualClock, Region};
use nubis_s3select::select::{
    Compression, CsvInput, CsvOutput, FileHeaderInfo, InputFormat, JsonType, OutputFormat,
    QuoteFields, ScanRange, SelectEvent, SelectOptions, SelectRequest,
};
use nubis_s3select::{PutObject, S3, ServiceError};

const PEOPLE: &str = "name,age,city,joined\nAda,36,London,2020-01-15T\nAlan,41,\"Wilmslow, Cheshire\",2019-06-01T\nGrace,85,New York,2018-03-09T\n\"Li \"\"Lee\"\"\",29,Paris,2021-12-31T\n";

fn store(threads: usize) -> S3 {
    let clock = ManualClock::at_default_epoch();
    let s3 =
        S3::new(Env::with_clock(clock.shared())).with_select_options(SelectOptions { threads });
    s3.create_bucket(&Region::US_EAST_1, "bkt", None).unwrap();
    s3
}

fn csv_use() -> InputFormat {
    InputFormat::Csv(CsvInput {
        file_header_info: FileHeaderInfo::Use,
        ..Default::default()
    })
}

fn run(s3: &S3, key: &str, req: &SelectRequest) -> String {
    let (out, _) = s3
        .select_object_content_to_end("bkt", key, req)
        .unwrap_or_else(|e| panic!("{}: {e:?}", req.expression));
    String::from_utf8(out).unwrap()
}

fn put(s3: &S3, key: &str, body: impl Into<Bytes>) {
    s3.put_object(PutObject::new("bkt", key, body.into()))
        .unwrap();
}

#[test]
fn csv_queries() {
    let s3 = store(1);
    put(&s3, "p.csv", PEOPLE);
    let q = |sql: &str| run(&s3, "p.csv", &SelectRequest::new(sql, csv_use()));
    assert_eq!(
        q("SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 40"),
        "Alan\nGrace\n"
    );
    assert_eq!(
        q("SELECT name, city FROM S3Object WHERE city LIKE '%,%'"),
        "Alan,\"Wilmslow, Cheshire\"\n"
    );
    assert_eq!(
        q("SELECT s._1 FROM S3Object s WHERE s._3 = 'Paris'"),
        "\"Li \"\"Lee\"\"\"\n"
    );
    assert_eq!(
        q(
            "SELECT COUNT(*), SUM(CAST(age AS INT)), AVG(CAST(age AS FLOAT)), MIN(age), MAX(name) FROM S3Object"
        ),
        "4,191,47.75,29,Li \"Lee\"\n"
            .replace("Li \"Lee\"", "\"Li \"\"Lee\"\"\"")
            .as_str()
    );
    assert_eq!(
        q("SELECT UPPER(name) AS n FROM S3Object s LIMIT 2"),
        "ADA\nALAN\n"
    );
    assert_eq!(
        q(
            "SELECT EXTRACT(YEAR FROM CAST(joined AS TIMESTAMP)) FROM S3Object WHERE name IN ('Ada', 'Grace')"
        ),
        "2020\n2018\n"
    );
    assert_eq!(
        q(
            "SELECT DATE_DIFF(day, CAST(joined AS TIMESTAMP), CAST('2021-01-01T' AS TIMESTAMP)) FROM S3Object LIMIT 1"
        ),
        "352\n"
    );
    assert_eq!(
        q(
            "SELECT CASE WHEN CAST(age AS INT) BETWEEN 30 AND 50 THEN 'mid' ELSE 'other' END FROM S3Object"
        ),
        "mid\nmid\nother\nother\n"
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM S3Object WHERE name NOT LIKE 'A%'"),
        "2\n"
    );
    assert_eq!(
        q("SELECT s.nosuch IS MISSING, COALESCE(s.nosuch, 'd') FROM S3Object s LIMIT 1"),
        "true,d\n"
    );
    assert_eq!(
        q("SELECT * FROM S3Object s WHERE name = 'Ada'"),
        "Ada,36,London,2020-01-15T\n"
    );
    assert_eq!(
        q(
            "SELECT TRIM(BOTH 'A' FROM name), CHAR_LENGTH(city), SUBSTRING(city, 1, 3) FROM S3Object LIMIT 1"
        ),
        "da,6,Lon\n"
    );
    // JSON output names columns after the header.
    let j = run(
        &s3,
        "p.csv",
        &SelectRequest::new("SELECT * FROM S3Object WHERE name = 'Ada'", csv_use()).json_output(),
    );
    assert_eq!(
        j,
        "{\"name\":\"Ada\",\"age\":\"36\",\"city\":\"London\",\"joined\":\"2020-01-15T\"}\n"
    );
    let j = run(
        &s3,
        "p.csv",
        &SelectRequest::new(
            "SELECT COUNT(*) AS n, MAX(CAST(age AS INT)) FROM S3Object",
            csv_use(),
        )
        .json_output(),
    );
    assert_eq!(j, "{\"n\":4,\"_2\":85}\n");
}

#[test]
fn csv_input_options() {
    let s3 = store(1);
    put(&s3, "x.tsv", "#comment\na\t'b;c'\r\n'x''y'\tz\r\n\r\n");
    let input = InputFormat::Csv(CsvInput {
        comments: Some(b'#'),
        field_delimiter: b'\t',
        quote_character: b'\'',
        quote_escape_character: b'\'',
        record_delimiter: b"\r\n".to_vec(),
        ..Default::default()
    });
    let mut req = SelectRequest::new("SELECT s._2, s._1 FROM S3Object s", input);
    req.output = OutputFormat::Csv(CsvOutput {
        quote_fields: QuoteFields::Always,
        field_delimiter: b"|".to_vec(),
        record_delimiter: b";".to_vec(),
        ..Default::default()
    });
    assert_eq!(run(&s3, "x.tsv", &req), "\"b;c\"|\"a\";\"z\"|\"x'y\";");
    // Quoted record delimiters.
    put(&s3, "q.csv", "a,\"multi\nline\"\nb,c\n");
    let allow = InputFormat::Csv(CsvInput {
        allow_quoted_record_delimiter: true,
        ..Default::default()
    });
    assert_eq!(
        run(
            &s3,
            "q.csv",
            &SelectRequest::new("SELECT s._2 FROM S3Object s", allow)
        ),
        "\"multi\nline\"\nc\n"
    );
    let deny = InputFormat::Csv(CsvInput::default());
    let err = s3
        .select_object_content_to_end(
            "bkt",
            "q.csv",
            &SelectRequest::new("SELECT s._2 FROM S3Object s", deny),
        )
        .unwrap_err();
    assert_eq!(err.code(), "CSVEscapingRecordDelimiter");
}

#[test]
fn json_lines_and_documents() {
    let s3 = store(1);
    put(
        &s3,
        "l.json",
        "{\"id\":1,\"name\":\"a\",\"tags\":[\"x\",\"y\"],\"addr\":{\"zip\":\"10\"}}\n{\"id\":2,\"name\":\"b\",\"tags\":[],\"addr\":{\"zip\":\"20\"}}\n\n{\"id\":3,\"name\":\"c\"}\n",
    );
    let lines = InputFormat::Json(JsonType::Lines);
    let q = |sql: &str| {
        run(
            &s3,
            "l.json",
            &SelectRequest::new(sql, lines.clone()).json_output(),
        )
    };
    assert_eq!(
        q("SELECT s.name FROM S3Object s WHERE s.id > 1"),
        "{\"name\":\"b\"}\n{\"name\":\"c\"}\n"
    );
    assert_eq!(
        q("SELECT s.addr.zip, s.tags[0] FROM S3Object s WHERE s.addr.zip IS NOT MISSING"),
        "{\"zip\":\"10\",\"_2\":\"x\"}\n{\"zip\":\"20\"}\n"
    );
    assert_eq!(q("SELECT COUNT(*) FROM S3Object"), "{\"_1\":3}\n");
    assert_eq!(
        q("SELECT * FROM S3Object s WHERE s.id = 3"),
        "{\"id\":3,\"name\":\"c\"}\n"
    );
    assert_eq!(
        q("SELECT s.tags[*] FROM S3Object s WHERE s.id = 1"),
        "{\"_1\":[\"x\",\"y\"]}\n"
    );
    put(
        &s3,
        "d.json",
        "{\"people\": [{\"n\": \"a\", \"age\": 3},\n {\"n\": \"b\", \"age\": 30}]}\n{\"people\": [{\"n\": \"c\", \"age\": 50}]}",
    );
    let doc = InputFormat::Json(JsonType::Document);
    let r = run(
        &s3,
        "d.json",
        &SelectRequest::new(
            "SELECT p.n FROM S3Object[*].people[*] p WHERE p.age > 10",
            doc.clone(),
        ),
    );
    assert_eq!(r, "b\nc\n");
    put(&s3, "bad.json", "{\"a\": 1}\n{\"a\": }\n");
    let err = s3
        .select_object_content_to_end(
            "bkt",
            "bad.json",
            &SelectRequest::new("SELECT * FROM S3Object", lines),
        )
        .unwrap_err();
    assert_eq!(err.code(), "JSONParsingError");
}

#[test]
fn compressed_input_and_scan_ranges() {
    let s3 = store(1);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(PEOPLE.as_bytes()).unwrap();
    put(&s3, "p.csv.gz", gz.finish().unwrap());
    let mut req = SelectRequest::new(
        "SELECT name FROM S3Object WHERE CAST(age AS INT) < 40",
        csv_use(),
    );
    req.compression = Compression::Gzip;
    assert_eq!(run(&s3, "p.csv.gz", &req), "Ada\n\"Li \"\"Lee\"\"\"\n");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(PEOPLE.as_bytes()).unwrap();
    put(&s3, "p.csv.bz2", bz.finish().unwrap());
    req.compression = Compression::Bzip2;
    assert_eq!(run(&s3, "p.csv.bz2", &req), "Ada\n\"Li \"\"Lee\"\"\"\n");
    req.compression = Compression::Gzip;
    let err = s3
        .select_object_content_to_end("bkt", "p.csv.bz2", &req)
        .unwrap_err();
    assert_eq!(err.code(), "TruncatedInput");

    // Records belong to the range they start in.
    put(&s3, "n.csv", "1\n22\n333\n4444\n");
    let ranged = |start: Option<u64>, end: Option<u64>| {
        let mut r = SelectRequest::new(
            "SELECT * FROM S3Object",
            InputFormat::Csv(CsvInput::default()),
        );
        r.scan_range = Some(ScanRange { start, end });
        run(&s3, "n.csv", &r)
    };
    assert_eq!(ranged(Some(0), Some(0)), "1\n");
    assert_eq!(ranged(Some(1), Some(5)), "22\n333\n");
    assert_eq!(ranged(Some(3), None), "333\n4444\n");
    assert_eq!(ranged(None, Some(5)), "4444\n");
}

#[test]
fn events_stats_and_errors() {
    let s3 = store(1);
    put(&s3, "p.csv", PEOPLE);
    let mut req = SelectRequest::new("SELECT name FROM S3Object", csv_use());
    req.request_progress = true;
    let events: Vec<SelectEvent> = s3
        .select_object_content("bkt", "p.csv", &req)
        .unwrap()
        .collect();
    assert!(matches!(events.last(), Some(SelectEvent::End)));
    let stats = events
        .iter()
        .find_map(|e| {
            if let SelectEvent::Stats(s) = e {
                Some(*s)
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(stats.bytes_scanned, PEOPLE.len() as u64);
    assert_eq!(stats.bytes_processed, PEOPLE.len() as u64);
    assert_eq!(
        stats.bytes_returned,
        "Ada\nAlan\nGrace\n\"Li \"\"Lee\"\"\"\n".len() as u64
    );
    assert!(events.iter().any(|e| matches!(e, SelectEvent::Progress(_))));

    // Parse errors come back before the stream.
    let err = s3
        .select_object_content(
            "bkt",
            "p.csv",
            &SelectRequest::new("SELECT name FROM", csv_use()),
        )
        .unwrap_err();
    assert_eq!(err.code(), "InvalidDataSource");
    // A cast failure mid-stream arrives as an error event after the earlier records.
    put(&s3, "c.csv", "1\n2\nx\n3\n");
    let events: Vec<SelectEvent> = s3
        .select_object_content(
            "bkt",
            "c.csv",
            &SelectRequest::new(
                "SELECT CAST(_1 AS INT) + 1 FROM S3Object",
                InputFormat::Csv(CsvInput::default()),
            ),
        )
        .unwrap()
        .collect();
    assert_eq!(
        events.first(),
        Some(&SelectEvent::Records(Bytes::from_static(b"2\n3\n")))
    );
    match events.last() {
        Some(SelectEvent::Error(e)) => assert_eq!(e.code(), "CastFailed"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn parallel_scan_matches_sequential() {
    let mut data = String::from("id,cat,price\n");
    for i in 0..200_000 {
        data.push_str(&format!("{i},c{},{}.{:02}\n", i % 7, i % 1000, i % 100));
    }
    let seq = store(1);
    let par = store(2);
    put(&seq, "d.csv", data.clone());
    put(&par, "d.csv", data);
    for sql in [
        "SELECT COUNT(*) FROM S3Object",
        "SELECT SUM(CAST(price AS FLOAT)), MIN(CAST(id AS INT)), MAX(cat) FROM S3Object WHERE cat = 'c3'",
        "SELECT id FROM S3Object WHERE CAST(price AS FLOAT) > 998.5",
    ] {
        let req = SelectRequest::new(sql, csv_use());
        assert_eq!(run(&seq, "d.csv", &req), run(&par, "d.csv", &req), "{sql}");
    }
}
