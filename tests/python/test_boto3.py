"""boto3 against `nubis serve`: the same engines, reached by the Python SDK."""

import io
import json
import zipfile

import botocore.exceptions
import pytest


def test_dynamodb_round_trip_and_errors(client):
    ddb = client("dynamodb")
    ddb.create_table(
        TableName="py_music",
        AttributeDefinitions=[
            {"AttributeName": "artist", "AttributeType": "S"},
            {"AttributeName": "song", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "artist", "KeyType": "HASH"},
            {"AttributeName": "song", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(5):
        ddb.put_item(
            TableName="py_music",
            Item={"artist": {"S": "a"}, "song": {"S": f"s{i}"}, "plays": {"N": str(i)}},
        )
    got = ddb.get_item(TableName="py_music", Key={"artist": {"S": "a"}, "song": {"S": "s3"}})
    assert got["Item"]["plays"] == {"N": "3"}
    q = ddb.query(
        TableName="py_music",
        KeyConditionExpression="artist = :a AND begins_with(song, :p)",
        FilterExpression="plays >= :min",
        ExpressionAttributeValues={":a": {"S": "a"}, ":p": {"S": "s"}, ":min": {"N": "2"}},
        ScanIndexForward=False,
    )
    assert [i["song"]["S"] for i in q["Items"]] == ["s4", "s3", "s2"]
    assert q["ScannedCount"] == 5
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.put_item(
            TableName="py_music",
            Item={"artist": {"S": "a"}, "song": {"S": "s1"}},
            ConditionExpression="attribute_not_exists(artist)",
        )
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.get_item(TableName="nope", Key={"artist": {"S": "a"}})
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_s3_objects_and_select(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="py-bucket")
    body = b"name,age\nalice,31\nbob,19\ncarol,45\n"
    s3.put_object(Bucket="py-bucket", Key="people.csv", Body=body)
    assert s3.get_object(Bucket="py-bucket", Key="people.csv")["Body"].read() == body
    listed = s3.list_objects_v2(Bucket="py-bucket")
    assert [o["Key"] for o in listed["Contents"]] == ["people.csv"]
    resp = s3.select_object_content(
        Bucket="py-bucket",
        Key="people.csv",
        Expression="SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 30",
        ExpressionType="SQL",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization={"CSV": {}},
    )
    records = b"".join(e["Records"]["Payload"] for e in resp["Payload"] if "Records" in e)
    assert records == b"alice\ncarol\n"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="py-bucket", Key="missing")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


def test_lambda_function_lifecycle(client):
    lam = client("lambda")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\nexit 0\n")
    created = lam.create_function(
        FunctionName="py-fn",
        Runtime="provided.al2023",
        Handler="bootstrap",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Code={"ZipFile": buf.getvalue()},
        MemorySize=256,
        Timeout=5,
    )
    assert created["FunctionName"] == "py-fn"
    assert created["MemorySize"] == 256
    got = lam.get_function_configuration(FunctionName="py-fn")
    assert got["CodeSha256"] == created["CodeSha256"]
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert "py-fn" in names
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(
            FunctionName="py-fn",
            Runtime="provided.al2023",
            Handler="bootstrap",
            Role="arn:aws:iam::000000000000:role/lambda-role",
            Code={"ZipFile": buf.getvalue()},
        )
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    dry = lam.invoke(FunctionName="py-fn", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    lam.delete_function(FunctionName="py-fn")


def test_clock_moves(advance):
    before = advance(0)["epoch_millis"]
    after = advance(60)["epoch_millis"]
    assert after - before == 60_000
