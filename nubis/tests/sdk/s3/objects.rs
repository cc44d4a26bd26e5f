//! Buckets, objects, conditional and ranged reads, batch deletes, copies, listings,
//! Transfer Acceleration and multipart uploads through the SDK.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccelerateConfiguration, BucketAccelerateStatus, CompletedMultipartUpload, CompletedPart,
    Delete, ObjectIdentifier,
};
use nubis::testing::TestServer;

use super::setup;

#[tokio::test]
async fn buckets_and_objects() {
    let (_server, c) = setup(TestServer::start().await).await;
    c.create_bucket().bucket("alpha").send().await.unwrap();
    c.create_bucket().bucket("beta").send().await.unwrap();
    // Re-creating an owned bucket in us-east-1 succeeds (legacy behaviour).
    c.create_bucket().bucket("alpha").send().await.unwrap();
    let err = c
        .create_bucket()
        .bucket("Bad_Name")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidBucketName"));
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    c.head_bucket().bucket("alpha").send().await.unwrap();
    assert!(
        c.head_bucket()
            .bucket("nope")
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .is_not_found()
    );

    let put = c
        .put_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .body(ByteStream::from_static(b"hello world"))
        .content_type("text/plain")
        .metadata("owner", "ada")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""));
    let got = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("ada")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello world"
    );
    let part = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .range("bytes=6-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.content_range(), Some("bytes 6-10/11"));
    assert_eq!(
        part.body.collect().await.unwrap().into_bytes().as_ref(),
        b"world"
    );
    let err = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .range("bytes=50-")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidRange"));
    let err = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .if_match("\"nope\"")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("PreconditionFailed"));
    let err = c
        .get_object()
        .bucket("alpha")
        .key("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_key());
    let head = c
        .head_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(11));

    c.copy_object()
        .bucket("beta")
        .key("copy.txt")
        .copy_source("alpha/dir/a.txt")
        .send()
        .await
        .unwrap();
    let copied = c
        .get_object()
        .bucket("beta")
        .key("copy.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        copied
            .metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("ada")
    );

    for k in ["dir/b.txt", "dir/sub/c.txt", "e.txt", "f.txt"] {
        c.put_object()
            .bucket("alpha")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let l = c
        .list_objects_v2()
        .bucket("alpha")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = l.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["e.txt", "f.txt"]);
    assert_eq!(
        l.common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .collect::<Vec<_>>(),
        ["dir/"]
    );
    // Pages of two follow the continuation token to the end.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket("alpha")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap_or(false) {
            break;
        }
    }
    assert_eq!(
        seen,
        ["dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "e.txt", "f.txt"]
    );

    let err = c
        .delete_bucket()
        .bucket("alpha")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("BucketNotEmpty"));
    let del = Delete::builder()
        .objects(ObjectIdentifier::builder().key("e.txt").build().unwrap())
        .objects(ObjectIdentifier::builder().key("f.txt").build().unwrap())
        .build()
        .unwrap();
    let out = c
        .delete_objects()
        .bucket("alpha")
        .delete(del)
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 2);
    c.delete_object()
        .bucket("beta")
        .key("copy.txt")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("beta").send().await.unwrap();

    // Transfer Acceleration configuration.
    let get = c
        .get_bucket_accelerate_configuration()
        .bucket("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), None);
    c.put_bucket_accelerate_configuration()
        .bucket("alpha")
        .accelerate_configuration(
            AccelerateConfiguration::builder()
                .status(BucketAccelerateStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let get = c
        .get_bucket_accelerate_configuration()
        .bucket("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), Some(&BucketAccelerateStatus::Enabled));
}

#[tokio::test]
async fn accelerate_host_form_over_plain_http() {
    let (server, c) = setup(TestServer::start().await).await;
    c.create_bucket().bucket("fast").send().await.unwrap();
    c.put_object()
        .bucket("fast")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/k", server.url());
    let refused = http
        .get(&url)
        .header("host", "fast.s3-accelerate.amazonaws.com")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("not configured"));
    c.put_bucket_accelerate_configuration()
        .bucket("fast")
        .accelerate_configuration(
            AccelerateConfiguration::builder()
                .status(BucketAccelerateStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ok = http
        .get(&url)
        .header("host", "fast.s3-accelerate.amazonaws.com")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "v");
    let vhost = http
        .get(&url)
        .header("host", "fast.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(vhost.text().await.unwrap(), "v");
}

#[tokio::test]
async fn multipart_upload() {
    let (_server, c) = setup(TestServer::start().await).await;
    c.create_bucket().bucket("mpu").send().await.unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let p1 = vec![b'a'; 5 * 1024 * 1024];
    let e1 = c
        .upload_part()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(p1))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let e2 = c
        .upload_part()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"tail"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let parts = c
        .list_parts()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts().len(), 2);
    let done = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(&e1).build())
                .parts(CompletedPart::builder().part_number(2).e_tag(&e2).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        done.e_tag().unwrap().ends_with("-2\""),
        "{:?}",
        done.e_tag()
    );
    let head = c
        .head_object()
        .bucket("mpu")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(5 * 1024 * 1024 + 4));

    // A small first part is refused at completion.
    let id = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("small")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let a = c
        .upload_part()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"a"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let b = c
        .upload_part()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"b"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let err = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(&a).build())
                .parts(CompletedPart::builder().part_number(2).e_tag(&b).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("EntityTooSmall"));
    c.abort_multipart_upload()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let err = c
        .list_parts()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("NoSuchUpload"));
}
