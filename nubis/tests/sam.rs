//! `nubis sam local invoke`: a SAM template with a custom-runtime function, deployed and invoked
//! by the binary as the SAM CLI would.

use std::process::Command;

#[test]
fn sam_local_invoke_runs_the_templates_function() {
    let dir = std::env::temp_dir().join(format!("nubis-sam-{}", std::process::id()));
    let code = dir.join("echo");
    std::fs::create_dir_all(&code).unwrap();
    let bootstrap = code.join("bootstrap");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../lambda/test_data/bootstrap.py"
        ),
        &bootstrap,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        dir.join("template.yaml"),
        r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          GREETING: !Sub "${Greeting} from ${AWS::Region}"
"#,
    )
    .unwrap();
    std::fs::write(dir.join("event.json"), r#"{"order": 42}"#).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_nubis"))
        .args(["sam", "local", "invoke", "Echo", "--template"])
        .arg(dir.join("template.yaml"))
        .arg("--event")
        .arg(dir.join("event.json"))
        .args([
            "--parameter-overrides",
            "Greeting=hi",
            "--region",
            "eu-west-1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["event"]["order"], 42);
    assert_eq!(v["env"]["GREETING"], "hi from eu-west-1");
    assert_eq!(v["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert!(stderr.contains("REPORT RequestId"), "{stderr}");

    let missing = Command::new(env!("CARGO_BIN_EXE_nubis"))
        .args(["sam", "local", "invoke", "Nope", "--template"])
        .arg(dir.join("template.yaml"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no function 'Nope'"));
    let _ = std::fs::remove_dir_all(&dir);
}
