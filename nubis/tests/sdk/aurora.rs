//! SDK tests for the RDS Data API (`aws-sdk-rdsdata`) against the Aurora SQL engine.

use aws_sdk_rdsdata::Client;
use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use aws_sdk_rdsdata::types::{Field, RecordsFormatType, SqlParameter};
use nubis::testing::TestServer;

const CLUSTER: &str = "arn:aws:rds:us-east-1:123456789012:cluster:nubis";
const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nubis";

fn client(server: &TestServer) -> Client {
    Client::new(&server.sdk_config())
}

async fn exec(
    c: &Client,
    sql: &str,
) -> aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput {
    c.execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql(sql)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {:?}", e.into_service_error()))
}

#[tokio::test]
async fn execute_statement_with_parameters_and_metadata() {
    let server = TestServer::start().await;
    let c = client(&server);
    exec(&c, "CREATE TABLE pets (id serial PRIMARY KEY, name text NOT NULL, born date, weight numeric(5,2))").await;
    let out = c
        .execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("INSERT INTO pets (name, born, weight) VALUES (:name, :born, :w)")
        .parameters(
            SqlParameter::builder()
                .name("name")
                .value(Field::StringValue("rex".into()))
                .build(),
        )
        .parameters(
            SqlParameter::builder()
                .name("born")
                .value(Field::StringValue("2020-01-02".into()))
                .type_hint(aws_sdk_rdsdata::types::TypeHint::Date)
                .build(),
        )
        .parameters(
            SqlParameter::builder()
                .name("w")
                .value(Field::StringValue("12.5".into()))
                .type_hint(aws_sdk_rdsdata::types::TypeHint::Decimal)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.number_of_records_updated, 1);
    let out = c
        .execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("SELECT id, name, born, weight, NULL::int AS nothing FROM pets WHERE name = :n")
        .parameters(
            SqlParameter::builder()
                .name("n")
                .value(Field::StringValue("rex".into()))
                .build(),
        )
        .include_result_metadata(true)
        .send()
        .await
        .unwrap();
    let rows = out.records.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], Field::LongValue(1));
    assert_eq!(rows[0][1], Field::StringValue("rex".into()));
    assert_eq!(rows[0][2], Field::StringValue("2020-01-02".into()));
    assert_eq!(rows[0][3], Field::StringValue("12.50".into()));
    assert_eq!(rows[0][4], Field::IsNull(true));
    let meta = out.column_metadata.unwrap();
    assert_eq!(meta[0].name.as_deref(), Some("id"));
    assert_eq!(meta[0].type_name.as_deref(), Some("int4"));
    assert_eq!(meta[3].precision, 5);
    let out = c
        .execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("SELECT name FROM pets")
        .format_records_as(RecordsFormatType::Json)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.formatted_records.as_deref(),
        Some(r#"[{"name":"rex"}]"#)
    );
}

#[tokio::test]
async fn sql_errors_carry_the_sqlstate() {
    let server = TestServer::start().await;
    let c = client(&server);
    exec(&c, "CREATE TABLE u (id int PRIMARY KEY)").await;
    exec(&c, "INSERT INTO u VALUES (1)").await;
    let err = c
        .execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("INSERT INTO u VALUES (1)")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("DatabaseErrorException"));
    let msg = err.message().unwrap_or_default();
    assert!(
        msg.starts_with("ERROR: duplicate key value violates unique constraint \"u_pkey\""),
        "{msg}"
    );
    assert!(msg.ends_with("SQLState: 23505"), "{msg}");
    let err = c
        .execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("SELECT * FROM nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("SQLState: 42P01")
    );
}

#[tokio::test]
async fn transactions_commit_roll_back_and_expire() {
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let c = client(&server);
    exec(&c, "CREATE TABLE t (v int)").await;
    let tx = c
        .begin_transaction()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .send()
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    c.execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("INSERT INTO t VALUES (1)")
        .transaction_id(&tx)
        .send()
        .await
        .unwrap();
    // Not visible outside the transaction until it commits.
    let n = exec(&c, "SELECT count(*) FROM t").await.records.unwrap();
    assert_eq!(n[0][0], Field::LongValue(0));
    let st = c
        .commit_transaction()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .transaction_id(&tx)
        .send()
        .await
        .unwrap();
    assert_eq!(
        st.transaction_status.as_deref(),
        Some("Transaction Committed")
    );
    let n = exec(&c, "SELECT count(*) FROM t").await.records.unwrap();
    assert_eq!(n[0][0], Field::LongValue(1));

    let tx = c
        .begin_transaction()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .send()
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    c.batch_execute_statement()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .sql("INSERT INTO t VALUES (:v)")
        .parameter_sets(vec![
            SqlParameter::builder()
                .name("v")
                .value(Field::LongValue(2))
                .build(),
        ])
        .parameter_sets(vec![
            SqlParameter::builder()
                .name("v")
                .value(Field::LongValue(3))
                .build(),
        ])
        .transaction_id(&tx)
        .send()
        .await
        .unwrap();
    let st = c
        .rollback_transaction()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .transaction_id(&tx)
        .send()
        .await
        .unwrap();
    assert_eq!(st.transaction_status.as_deref(), Some("Rollback Complete"));
    let n = exec(&c, "SELECT count(*) FROM t").await.records.unwrap();
    assert_eq!(n[0][0], Field::LongValue(1));

    // An idle transaction expires after three minutes on the clock.
    let tx = c
        .begin_transaction()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .send()
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    server
        .manual_clock()
        .advance(std::time::Duration::from_secs(181));
    let err = c
        .commit_transaction()
        .resource_arn(CLUSTER)
        .secret_arn(SECRET)
        .transaction_id(&tx)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_transaction_not_found_exception(), "{err:?}");
}
