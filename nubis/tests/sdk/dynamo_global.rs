//! DynamoDB Global Tables and backups across regions through aws-sdk-dynamodb.
