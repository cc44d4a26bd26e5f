#![no_main]
//! A random sequence of control-plane operations and in-process invocations: the engine never
//! panics and answers every request with a value or a typed error.
use libfuzzer_sys::fuzz_target;
use nubis_core::{Env, ManualClock, Region};
use nubis_lambda::*;

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let clock = ManualClock::at_default_epoch();
        let lambda = Lambda::new(Env::with_clock(clock.shared()));
        lambda.register_handler("echo", |e: serde_json::Value, _c| async move { Ok::<_, HandlerError>(e) });
        let r = lambda.region(&Region::US_EAST_1);
        for chunk in data.chunks(3) {
            let name = format!("f{}", chunk.get(1).copied().unwrap_or(0) % 4);
            let arg = chunk.get(2).copied().unwrap_or(0);
            match chunk[0] % 8 {
                0 => { let _ = r.create_function(CreateFunction::in_process(&name, "echo")); }
                1 => { let _ = r.invoke(InvokeRequest::new(&name, vec![arg; usize::from(arg % 4)])).await; }
                2 => { let _ = r.publish_version(&name, None, None, None); }
                3 => { let _ = r.create_alias(&name, "a", &(arg % 3).to_string(), None, None); }
                4 => { let _ = r.put_function_concurrency(&name, i64::from(arg) - 10); }
                5 => { let _ = r.delete_function(&name, (arg % 2 == 0).then_some("1")); }
                6 => { let _ = r.invoke(InvokeRequest::new(&format!("{name}:a"), "{}").invocation_type(InvocationType::Event)).await; }
                _ => clock.advance(std::time::Duration::from_secs(u64::from(arg))),
            }
        }
        lambda.settle().await;
    });
});
