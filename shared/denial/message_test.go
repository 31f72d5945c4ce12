package denial

import (
	"strings"
	"testing"
)

// TestParseMessage pins the facts the parser must read from each message
// form. Sources: the IAM User Guide "Troubleshoot access denied error
// messages" (seed 004), the S3 403 Knowledge Center article (seed 000), and
// the forms AWS SDKs, the CLI, Terraform and CloudFormation print; the
// testdata/messages files keep the public source of each real-world case.
func TestParseMessage(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Message
	}{
		{
			name: "seed scp implicit, action typo kept out",
			text: "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRespositories action",
			want: Message{Principal: "arn:aws:iam::777788889999:user/JohnDoe", Action: "codecommit:ListRepositories", PolicyType: PolicySCP, DenyKind: DenyImplicit},
		},
		{
			name: "seed vpc endpoint explicit with resource",
			text: "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a VPC endpoint policy",
			want: Message{Principal: "arn:aws:iam::123456789012:user/JohnDoe", Action: "codedeploy:ListDeployments", Resource: "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*", PolicyType: PolicyVPCEndpoint, DenyKind: DenyExplicit},
		},
		{
			name: "seed sessions policy typo",
			text: "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a sessions policy",
			want: Message{Principal: "arn:aws:iam::123456789012:user/JohnDoe", Action: "codedeploy:ListDeployments", Resource: "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*", PolicyType: PolicySession, DenyKind: DenyExplicit},
		},
		{
			name: "seed role trust explicit uses 'the'",
			text: "User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: sts:AssumeRole with an explicit deny in the role trust policy",
			want: Message{Principal: "arn:aws:iam::777788889999:user/JohnDoe", Action: "sts:AssumeRole", PolicyType: PolicyRoleTrust, DenyKind: DenyExplicit},
		},
		{
			name: "seed transitively through, upper-case service prefix",
			text: "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a VPC endpoint policy transitively through a service control policy",
			want: Message{Principal: "arn:aws:sts::111122223333:assumed-role/role-name/role-session-name", Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:444455556666:role-name-2", PolicyType: PolicySCP, Via: PolicyVPCEndpoint, DenyKind: DenyExplicit},
		},
		{
			name: "resource control policy with policy ARN suffix",
			text: "User: arn:aws:sts::111122223333:assumed-role/Reader/s1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::amzn-s3-demo-bucket/report.csv with an explicit deny in a resource control policy: arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/resource_control_policy/p-rcp12345",
			want: Message{Principal: "arn:aws:sts::111122223333:assumed-role/Reader/s1", Action: "s3:GetObject", Resource: "arn:aws:s3:::amzn-s3-demo-bucket/report.csv", PolicyType: PolicyRCP, DenyKind: DenyExplicit, PolicyARN: "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/resource_control_policy/p-rcp12345"},
		},
		{
			name: "scp ARN suffix wrapped inside the ARN",
			text: "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ec2:RunInstances with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_\npolicy/p-abcd1234.",
			want: Message{Principal: "arn:aws:iam::123456789012:user/ops", Action: "ec2:RunInstances", PolicyType: PolicySCP, DenyKind: DenyExplicit, PolicyARN: "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-abcd1234"},
		},
		{
			name: "pre-2021 explicit deny without a policy type",
			text: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::logs/a.txt with an explicit deny",
			want: Message{Principal: "arn:aws:iam::123456789012:user/alice", Action: "s3:PutObject", Resource: "arn:aws:s3:::logs/a.txt", DenyKind: DenyExplicit},
		},
		{
			name: "line wraps after perform and inside ARNs",
			text: "User: arn:aws:sts::123456789012:assumed-role/Deploy\nRole/ci is not authorized to perform:\n  lambda:UpdateFunctionCode on resource: arn:aws:lambda:eu-west-1:1234567\n89012:function:api because no identity-based policy allows the lambda:UpdateFunctionCode action",
			want: Message{Principal: "arn:aws:sts::123456789012:assumed-role/DeployRole/ci", Action: "lambda:UpdateFunctionCode", Resource: "arn:aws:lambda:eu-west-1:123456789012:function:api", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit},
		},
		{
			name: "line wrap inside a keyword",
			text: "User: arn:aws:iam::123456789012:user/bob is not autho\nrized to perform: iam:ListRoles because no permissions bound\nary allows the iam:ListRoles action",
			want: Message{Principal: "arn:aws:iam::123456789012:user/bob", Action: "iam:ListRoles", PolicyType: PolicyPermissionsBoundary, DenyKind: DenyImplicit},
		},
		{
			name: "quoted S3 resource",
			text: `User: arn:aws:iam::123456789012:user/carol is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::amzn-s3-demo-bucket" because no resource-based policy allows the s3:ListBucket action`,
			want: Message{Principal: "arn:aws:iam::123456789012:user/carol", Action: "s3:ListBucket", Resource: "arn:aws:s3:::amzn-s3-demo-bucket", PolicyType: PolicyResourceBased, DenyKind: DenyImplicit},
		},
		{
			name: "non-ARN resource",
			text: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:GetUser on resource: user bob",
			want: Message{Principal: "arn:aws:iam::123456789012:user/alice", Action: "iam:GetUser", Resource: "user bob"},
		},
		{
			name: "star resource",
			text: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: ec2:DescribeInstances on resource: * because no identity-based policy allows the ec2:DescribeInstances action",
			want: Message{Principal: "arn:aws:iam::123456789012:user/alice", Action: "ec2:DescribeInstances", Resource: "*", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit},
		},
		{
			name: "truncated because clause",
			text: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Orders because no identity-based policy allows the dynamodb:Pu",
			want: Message{Principal: "arn:aws:iam::123456789012:user/alice", Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/Orders", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit},
		},
		{
			name: "truncated inside the policy type",
			text: "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: dynamodb:PutItem with an explicit deny in a servi",
			want: Message{Principal: "arn:aws:iam::123456789012:user/alice", Action: "dynamodb:PutItem", DenyKind: DenyExplicit},
		},
		{
			name: "EC2 encoded authorization message with prefix",
			text: "You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/dev/i-0abc is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: AbCdEf0123\nGhIj-_456",
			want: Message{Principal: "arn:aws:sts::123456789012:assumed-role/dev/i-0abc", Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit, EncodedAuthorization: "AbCdEf0123GhIj-_456"},
		},
		{
			name: "EC2 old form: only the encoded message",
			text: "You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abc",
			want: Message{EncodedAuthorization: "4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abc"},
		},
		{
			name: "CLI wrapper around bare S3 message",
			text: "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
			want: Message{Text: "Access Denied", Code: "AccessDenied", Operation: "GetObject"},
		},
		{
			name: "boto3 wrapper with retries",
			text: "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetSecretValue operation (reached max retries: 4): User: arn:aws:sts::123456789012:assumed-role/app/s is not authorized to perform: secretsmanager:GetSecretValue on resource: db-pass because no identity-based policy allows the secretsmanager:GetSecretValue action",
			want: Message{Code: "AccessDeniedException", Operation: "GetSecretValue", Principal: "arn:aws:sts::123456789012:assumed-role/app/s", Action: "secretsmanager:GetSecretValue", Resource: "db-pass", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit},
		},
		{
			name: "Go SDK v2 wrapper",
			text: "operation error S3: GetObject, https response error StatusCode: 403, RequestID: 8Q2V0K2Y6, HostID: abc=, api error AccessDenied: Access Denied",
			want: Message{Text: "Access Denied", Code: "AccessDenied", Service: "S3", Operation: "GetObject"},
		},
		{
			name: "SDK v1 and Terraform wrapper",
			text: "Error: error reading S3 Bucket (amzn-s3-demo-bucket): AccessDenied: Access Denied\n\tstatus code: 403, request id: 5W1G7XG4, host id: xyz=",
			want: Message{Text: "Access Denied", Code: "AccessDenied"},
		},
		{
			name: "Java SDK wrapper",
			text: "Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 1B2C3D; S3 Extended Request ID: q=)",
			want: Message{Text: "Access Denied", Code: "AccessDenied", Service: "Amazon S3"},
		},
		{
			name: "CloudFormation handler wrapper",
			text: `Resource handler returned message: "User: arn:aws:sts::123456789012:assumed-role/cfn-exec/AWSCloudFormation is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:api because no identity-based policy allows the lambda:CreateFunction action (Service: Lambda, Status Code: 403, Request ID: 7c1a)" (RequestToken: 9f1e, HandlerErrorCode: AccessDenied)`,
			want: Message{Code: "AccessDenied", Service: "Lambda", Principal: "arn:aws:sts::123456789012:assumed-role/cfn-exec/AWSCloudFormation", Action: "lambda:CreateFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:api", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit},
		},
		{
			name: "aws-cn partition",
			text: "User: arn:aws-cn:iam::123456789012:user/li is not authorized to perform: s3:GetObject on resource: arn:aws-cn:s3:::bucket-cn/k because no identity-based policy allows the s3:GetObject action",
			want: Message{Principal: "arn:aws-cn:iam::123456789012:user/li", Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::bucket-cn/k", PolicyType: PolicyIdentityBased, DenyKind: DenyImplicit},
		},
		{
			name: "aws-us-gov partition",
			text: "User: arn:aws-us-gov:sts::123456789012:assumed-role/ops/x is not authorized to perform: kms:Decrypt on resource: arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd because no resource-based policy allows the kms:Decrypt action",
			want: Message{Principal: "arn:aws-us-gov:sts::123456789012:assumed-role/ops/x", Action: "kms:Decrypt", Resource: "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd", PolicyType: PolicyResourceBased, DenyKind: DenyImplicit},
		},
		{
			name: "anonymous caller",
			text: "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/items",
			want: Message{Principal: "anonymous", Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/items"},
		},
		{
			name: "service principal",
			text: "User: events.amazonaws.com is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:123456789012:dlq because no resource-based policy allows the sqs:SendMessage action",
			want: Message{Principal: "events.amazonaws.com", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:123456789012:dlq", PolicyType: PolicyResourceBased, DenyKind: DenyImplicit},
		},
		{
			name: "web identity without colon",
			text: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
			want: Message{Action: "sts:AssumeRoleWithWebIdentity"},
		},
		{
			name: "S3 request has expired",
			text: "Request has expired",
			want: Message{Expired: true},
		},
		{
			name: "not a denial",
			text: "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.",
			want: Message{Text: "The specified key does not exist.", Code: "NoSuchKey", Operation: "GetObject"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseMessage(tt.text)
			want := tt.want
			if want.Text == "" {
				want.Text = got.Text // only pinned where a wrapper was removed
			}
			want.Denial = got.Denial // checked below
			if got != want {
				t.Errorf("ParseMessage:\n got %+v\nwant %+v", got, want)
			}
			if wantDenial := tt.name != "not a denial" && tt.name != "S3 request has expired"; got.Denial != wantDenial {
				t.Errorf("Denial: got %v; want %v", got.Denial, wantDenial)
			}
		})
	}
}

func TestIsDenialCode(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"AccessDenied", true},
		{"AccessDeniedException", true},
		{"KMS.AccessDeniedException", true},
		{"Client.UnauthorizedOperation", true},
		{"UnauthorizedOperation", true},
		{"AuthorizationError", true},
		{"UnauthorizedAccess", true},
		{"NoSuchKey", false},
		{"ThrottlingException", false},
		{"accessdenied", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsDenialCode(tt.code); got != tt.want {
			t.Errorf("IsDenialCode(%q): got %v; want %v", tt.code, got, tt.want)
		}
	}
}

func TestEnumsRoundTrip(t *testing.T) {
	for _, c := range Causes() {
		text, _ := c.MarshalText()
		got, err := ParseCause(string(text))
		if err != nil || got != c {
			t.Errorf("cause %v: got %v, %v; want %v", c, got, err, c)
		}
	}
	if got, want := len(Causes()), 19; got != want {
		t.Errorf("catalogue size: got %d; want %d", got, want)
	}
	var p PolicyType
	if err := p.UnmarshalText([]byte("permission_boundary")); err == nil {
		t.Error("UnmarshalText accepted a policy type outside the catalogue")
	}
	if got := PolicyType(99).String(); got != "unknown" {
		t.Errorf("out-of-range policy type: got %q; want unknown", got)
	}
	var zero Cause
	if !strings.EqualFold(zero.String(), "unknown") {
		t.Errorf("zero cause: got %q; want unknown", zero)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRepositories action")
	f.Add("An error occurred (AccessDenied) when calling the GetObject operation: Access Denied")
	f.Add(`Resource handler returned message: "x (Service: S3, Status Code: 403)" (HandlerErrorCode: AccessDenied)`)
	f.Add("operation error S3: GetObject, api error AccessDenied: Access Denied")
	f.Add("with an explicit deny in a VPC endpoint policy transitively through a service control policy: arn:")
	f.Fuzz(func(t *testing.T, text string) {
		m := ParseMessage(text)
		if m.Action != "" && !strings.Contains(m.Action, ":") {
			t.Errorf("action %q has no service prefix", m.Action)
		}
		if strings.ContainsAny(m.Principal, " \t\r\n") {
			t.Errorf("principal %q keeps white space", m.Principal)
		}
		if strings.HasPrefix(m.Resource, "arn:") && strings.ContainsAny(m.Resource, " \t\r\n") {
			t.Errorf("ARN resource %q keeps white space", m.Resource)
		}
		if m.Via != PolicyUnknown && m.PolicyType == PolicyUnknown {
			t.Errorf("via %v without a policy type", m.Via)
		}
	})
}
