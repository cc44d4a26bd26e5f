//! Any query text against a small graph gives results or a typed error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_core::{Env, ManualClock};
use nubis_neptune::{Database, DbOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let clock = ManualClock::at_default_epoch();
    let env = Env::with_clock(clock.shared());
    let db = Database::new(env.clock.clone(), env.ids.clone(), DbOptions::default());
    let _ = db.execute("g.addV('a').property(id,'1').property('w',1).addV('b').property(id,'2').addE('x').from(V('1')).to(V('2'))", &Default::default(), "seed", None);
    let _ = db.execute(text, &Default::default(), "fuzz", Some(std::time::Duration::from_secs(1)));
});
