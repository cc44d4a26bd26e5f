//! Fuzzes the SQL front end (parser, binder, planner, executor) against a small schema: any
//! input must produce a result or a typed error, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    if sql.len() > 4096 {
        return;
    }
    let aurora = nubis_aurora::Aurora::new(nubis_core::Env::default());
    let mut s = aurora.session();
    let _ = s.execute("CREATE TABLE t (a int PRIMARY KEY, b text, c numeric); INSERT INTO t VALUES (1, 'x', 1.5), (2, NULL, NULL)");
    let _ = s.execute(sql);
});
