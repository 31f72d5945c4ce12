package denial

import (
	"regexp"
	"strings"
)

// serviceFromWrapper turns the service a wrapper names ("Amazon S3", "S3",
// "AmazonDynamoDBv2", "AWS Lambda") into its IAM prefix.
func serviceFromWrapper(name string) string {
	n := strings.ToLower(strings.Join(strings.Fields(name), ""))
	if p, ok := wrapperServices[n]; ok {
		return p
	}
	n = strings.TrimPrefix(strings.TrimPrefix(n, "amazon"), "aws")
	if p, ok := wrapperServices[n]; ok {
		return p
	}
	return n
}

// wrapperServices maps wrapper service names, lower-cased without spaces and
// "Amazon"/"AWS", to IAM prefixes where the two differ.
var wrapperServices = map[string]string{
	"dynamodbv2":                  "dynamodb",
	"securitytokenservice":        "sts",
	"identitymanagement":          "iam",
	"cloudwatchlogs":              "logs",
	"simplenotificationservice":   "sns",
	"simplequeueservice":          "sqs",
	"keymanagementservice":        "kms",
	"elasticcontainerregistry":    "ecr",
	"elasticcomputecloud":         "ec2",
	"systemsmanager":              "ssm",
	"simplesystemsmanagement":     "ssm",
	"elasticloadbalancingv2":      "elasticloadbalancing",
	"eventbridge":                 "events",
	"cloudwatchevents":            "events",
	"stepfunctions":               "states",
	"sfn":                         "states",
	"simpleemailservice":          "ses",
	"sesv2":                       "ses",
	"resourcegroupstaggingapi":    "tag",
	"configservice":               "config",
	"ssoadmin":                    "sso",
	"bedrockruntime":              "bedrock",
	"emr":                         "elasticmapreduce",
	"opensearch":                  "es",
	"elasticsearchservice":        "es",
	"cognitoidentityprovider":     "cognito-idp",
	"cognitoidentity":             "cognito-identity",
	"ecrpublic":                   "ecr-public",
	"applicationautoscaling":      "application-autoscaling",
	"redshiftdata":                "redshift-data",
	"timestreamwrite":             "timestream",
	"docdb":                       "rds",
	"neptune":                     "rds",
	"accessanalyzer":              "access-analyzer",
	"s3control":                   "s3",
	"monitoring":                  "cloudwatch",
	"certificatemanager":          "acm",
	"simplestorageservice":        "s3",
	"identityandaccessmanagement": "iam",
}

// eventSourcePrefixes lists the event sources whose IAM prefix differs from
// the host name's first label.
var eventSourcePrefixes = map[string]string{
	"monitoring": "cloudwatch",
	"email":      "ses",
}

// s3Actions maps S3 operations to the IAM action that authorizes them where
// the names differ.
var s3Actions = map[string]string{
	"HeadObject":              "GetObject",
	"HeadBucket":              "ListBucket",
	"ListObjects":             "ListBucket",
	"ListObjectsV2":           "ListBucket",
	"ListObjectVersions":      "ListBucketVersions",
	"CopyObject":              "PutObject",
	"PostObject":              "PutObject",
	"CreateMultipartUpload":   "PutObject",
	"UploadPart":              "PutObject",
	"UploadPartCopy":          "PutObject",
	"CompleteMultipartUpload": "PutObject",
	"DeleteObjects":           "DeleteObject",
	"ListMultipartUploads":    "ListBucketMultipartUploads",
	"ListParts":               "ListMultipartUploadParts",
	"SelectObjectContent":     "GetObject",
	// Bucket configuration operations whose IAM action has another name.
	"ListBuckets":                              "ListAllMyBuckets",
	"GetBucketEncryption":                      "GetEncryptionConfiguration",
	"PutBucketEncryption":                      "PutEncryptionConfiguration",
	"DeleteBucketEncryption":                   "PutEncryptionConfiguration",
	"GetPublicAccessBlock":                     "GetBucketPublicAccessBlock",
	"PutPublicAccessBlock":                     "PutBucketPublicAccessBlock",
	"DeletePublicAccessBlock":                  "PutBucketPublicAccessBlock",
	"DeleteBucketOwnershipControls":            "PutBucketOwnershipControls",
	"GetBucketLifecycle":                       "GetLifecycleConfiguration",
	"GetBucketLifecycleConfiguration":          "GetLifecycleConfiguration",
	"PutBucketLifecycle":                       "PutLifecycleConfiguration",
	"PutBucketLifecycleConfiguration":          "PutLifecycleConfiguration",
	"DeleteBucketLifecycle":                    "PutLifecycleConfiguration",
	"GetBucketReplication":                     "GetReplicationConfiguration",
	"PutBucketReplication":                     "PutReplicationConfiguration",
	"DeleteBucketReplication":                  "PutReplicationConfiguration",
	"DeleteBucketCors":                         "PutBucketCORS",
	"DeleteBucketTagging":                      "PutBucketTagging",
	"GetBucketNotificationConfiguration":       "GetBucketNotification",
	"PutBucketNotificationConfiguration":       "PutBucketNotification",
	"GetObjectLockConfiguration":               "GetBucketObjectLockConfiguration",
	"PutObjectLockConfiguration":               "PutBucketObjectLockConfiguration",
	"GetBucketAccelerateConfiguration":         "GetAccelerateConfiguration",
	"PutBucketAccelerateConfiguration":         "PutAccelerateConfiguration",
	"GetBucketAnalyticsConfiguration":          "GetAnalyticsConfiguration",
	"PutBucketAnalyticsConfiguration":          "PutAnalyticsConfiguration",
	"GetBucketInventoryConfiguration":          "GetInventoryConfiguration",
	"PutBucketInventoryConfiguration":          "PutInventoryConfiguration",
	"GetBucketMetricsConfiguration":            "GetMetricsConfiguration",
	"PutBucketMetricsConfiguration":            "PutMetricsConfiguration",
	"GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
	"PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
}

// apiVersionSuffix is the API version some services (Lambda, CloudFront)
// append to CloudTrail event names: "GetFunction20150331v2",
// "CreateInvalidation2020_05_31". The IAM action has no such suffix.
var apiVersionSuffix = regexp.MustCompile(`(?:\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})$`)

// ActionFor returns the IAM action that authorizes a service's operation, as
// CloudTrail names them (eventSource prefix "s3", eventName "HeadObject" →
// "s3:GetObject"); "" when either is unknown.
func ActionFor(service, operation string) string {
	if service == "" || operation == "" {
		return ""
	}
	if p, ok := eventSourcePrefixes[service]; ok {
		service = p
	}
	operation = apiVersionSuffix.ReplaceAllString(operation, "")
	switch service {
	case "s3":
		if a, ok := s3Actions[operation]; ok {
			operation = a
		}
	case "lambda":
		if strings.HasPrefix(operation, "Invoke") && operation != "InvokeAsync" {
			operation = "InvokeFunction" // CloudTrail writes "Invoke"
		}
	}
	if !isActionPart(service, false) || !isActionPart(operation, false) {
		return ""
	}
	return service + ":" + operation
}
