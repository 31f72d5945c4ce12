package fix

import (
	"errors"
	"testing"
)

func TestFixARNWhitespace(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"seed example", "arn:aws:s3::: DOC-EXAMPLE-BUCKET/*", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"},
		{"leading space", " arn:aws:s3:::bucket", "arn:aws:s3:::bucket"},
		{"key keeps its spaces", "arn:aws:s3::: bucket/my folder/*", "arn:aws:s3:::bucket/my folder/*"},
		{"iam role", "arn:aws:iam::111122223333:role/ app", "arn:aws:iam::111122223333:role/app"},
		{"account split", "arn:aws:iam:: 111122223333:root", "arn:aws:iam::111122223333:root"},
		{"not an arn", "s3:GetObject", "s3:GetObject"},
		{"clean", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FixARNWhitespace(tc.in); got != tc.want {
				t.Errorf("FixARNWhitespace(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckWhitespaceFix(t *testing.T) {
	const allowOld = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:GetObject","Resource":"arn:aws:s3::: acme-data/*"}]}`
	const allowNew = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}]}`
	tests := []struct {
		name     string
		old, new string
		wantErr  error
	}{
		{"allow resource fixed", allowOld, allowNew, nil},
		{"reformatted only", allowOld, "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Sid\":\"Read\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/app\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::acme-data/*\"}]}", nil},
		{"nothing to fix", allowNew, allowNew, ErrUnsafe},
		{"action widened", allowOld, `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:*","Resource":"arn:aws:s3:::acme-data/*"}]}`, ErrUnsafe},
		{"deny removed", `{"Statement":[` + stmtAllow + `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::acme-data/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, `{"Statement":[` + stmtAllowFixed + `]}`, ErrUnsafe},
		{"deny resource fixed strengthens", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3::: acme-data/*"}]}`, `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::acme-data/*"}]}`, nil},
		{"deny notresource fixed weakens", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3::: acme-data/public/*"}]}`, `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::acme-data/public/*"}]}`, ErrUnsafe},
		{"public allow", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3::: acme-data/*"}}`, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}}`, ErrUnsafe},
		{"not json", allowOld, `{`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckWhitespaceFix(tc.old, tc.new)
			switch {
			case tc.name == "not json":
				if err == nil {
					t.Error("CheckWhitespaceFix on broken JSON = nil; want an error")
				}
			case !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil):
				t.Errorf("CheckWhitespaceFix = %v; want %v", err, tc.wantErr)
			}
		})
	}
}

const (
	stmtAllow      = `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3::: acme-data/*"}`
	stmtAllowFixed = `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-data/*"}`
)
