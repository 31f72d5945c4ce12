package denial

import "strings"

// unwrap finds the AWS message inside the wrappers tools put around it and
// returns it with the error code, service and operation the wrappers name:
//
//	CloudFormation  Resource handler returned message: "MSG (Service: S, Status Code: 403, ...)" (..., HandlerErrorCode: C)
//	Java SDK        MSG (Service: S; Status Code: 403; Error Code: C; Request ID: ...)
//	CLI, boto3      An error occurred (C) when calling the OP operation[ (reached max retries: N)]: MSG
//	Go SDK v2       operation error S: OP, https response error StatusCode: 403, ..., api error C: MSG
//	SDK v1, JS v3,  [...: ]C: MSG[\n\tstatus code: 403, request id: ...]
//	Terraform
func unwrap(text string) Message {
	var m Message
	s := strings.TrimSpace(text)

	if _, end := find(s, 0, "returned message:", false); end >= 0 {
		if c, ok := valueAfter(s, end, "handlererrorcode:"); ok {
			m.Code = c
		}
		inner := strings.TrimSpace(s[end:])
		if strings.HasPrefix(inner, `"`) {
			inner = inner[1:]
			if k := strings.LastIndex(inner, `" (`); k >= 0 {
				inner = inner[:k]
			} else {
				inner = strings.TrimSuffix(inner, `"`)
			}
		}
		s = inner
	}

	if k, end := find(s, 0, "(service:", false); k >= 0 {
		if m.Service == "" {
			m.Service, _ = valueAfter(s, end, "")
		}
		if c, ok := valueAfter(s, end, "error code:"); ok {
			m.Code = c
		}
		s = strings.TrimSpace(s[:k])
	}

	if k, end := find(s, 0, "an error occurred (", false); k >= 0 {
		if close := strings.IndexByte(s[end:], ')'); close >= 0 {
			m.Code = strings.TrimSpace(s[end : end+close])
			rest := s[end+close+1:]
			if _, ce := find(rest, 0, "when calling the", false); ce >= 0 {
				op, after, _ := strings.Cut(strings.TrimSpace(rest[ce:]), " ")
				m.Operation = op
				rest = after
			}
			if colon := strings.Index(rest, ": "); colon >= 0 {
				rest = rest[colon+2:]
			} else if strings.HasSuffix(strings.TrimSpace(rest), ":") {
				rest = ""
			}
			s = strings.TrimSpace(rest)
		}
	}

	if _, end := find(s, 0, "operation error", true); end >= 0 {
		head := s[end:]
		svc, rest, _ := strings.Cut(strings.TrimSpace(head), ":")
		m.Service = strings.TrimSpace(svc)
		op, _, _ := strings.Cut(strings.TrimSpace(rest), ",")
		m.Operation = strings.TrimSpace(op)
		if _, ae := find(s, end, "api error", true); ae >= 0 {
			code, msg, _ := strings.Cut(strings.TrimSpace(s[ae:]), ":")
			m.Code = strings.TrimSpace(code)
			s = strings.TrimSpace(msg)
		}
	}

	if k, _ := find(s, 0, "status code:", true); k >= 0 && !strings.Contains(s[:k], "(Service") {
		s = strings.TrimRight(strings.TrimSpace(s[:k]), ",")
	}
	if code, rest, ok := leadingCode(s); ok {
		if m.Code == "" {
			m.Code = code
		}
		s = rest
	}
	m.Text = strings.TrimSpace(s)
	return m
}

// valueAfter returns the value after key ("error code:"), up to the next
// ';', ',' or ')'. With an empty key it reads the value at i.
func valueAfter(s string, i int, key string) (string, bool) {
	if key != "" {
		_, end := find(s, i, key, false)
		if end < 0 {
			return "", false
		}
		i = end
	}
	v := s[i:]
	if k := strings.IndexAny(v, ";,)"); k >= 0 {
		v = v[:k]
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

// leadingCode finds a denial error code written as "CODE: message" (SDK v1,
// JS SDK v3, Terraform's "Error: reading X: AccessDenied: Access Denied") and
// returns the code and the message after it.
func leadingCode(s string) (code, rest string, ok bool) {
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], ':')
		if k < 0 {
			return "", "", false
		}
		k += i
		start := k
		for start > 0 && (isWordByte(s[start-1]) || s[start-1] == '.') && s[start-1] != '-' {
			start--
		}
		if c := s[start:k]; c != "" && IsDenialCode(c) && (start == 0 || !isWordByte(s[start-1])) {
			return c, strings.TrimSpace(s[k+1:]), true
		}
		i = k + 1
	}
	return "", "", false
}
