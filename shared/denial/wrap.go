package denial

import (
	"encoding/json"
	"slices"
	"strings"
)

// unwrap finds the AWS message inside the wrappers tools put around it and
// returns it with the error code, service and operation the wrappers name:
//
//	CloudFormation  Resource handler returned message: "MSG (Service: S, Status Code: 403, ...)" (..., HandlerErrorCode: C)
//	Java SDK        MSG (Service: S; Status Code: 403; Error Code: C; Request ID: ...)
//	CLI, boto3      An error occurred (C) when calling the OP operation[ (reached max retries: N)]: MSG
//	Go SDK v2       operation error S: OP, https response error StatusCode: 403, ..., api error C: MSG
//	SDK v1, JS v3,  [...: ]C: MSG[\n\tstatus code: 403, request id: ...]
//	Terraform
//	Java SDK < 1.9  Status Code: 403, AWS Service: S, AWS Request ID: ..., AWS Error Code: C, AWS Error Message: MSG
//	HTTP bodies     {"__type":"...#C","message":"MSG"} or <Error><Code>C</Code><Message>MSG</Message></Error>
func unwrap(text string) Message {
	var m Message
	s := strings.TrimSpace(text)
	s = m.unwrapBody(s)

	if _, end := find(s, 0, "aws error message:", false); end >= 0 {
		if c, ok := valueAfter(s, 0, "aws error code:"); ok {
			m.Code = c
		}
		if svc, ok := valueAfter(s, 0, "aws service:"); ok {
			m.Service = svc
		}
		s = strings.TrimSpace(s[end:])
	}

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
		// A "(Service: ...)" trailer inside the CLI's message belongs to a
		// service that relayed the error, not to the operation called.
		m.Service = ""
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
		} else {
			s = skipFields(s, end, "StatusCode:", "RequestID:", "HostID:")
		}
	}

	// SDK v1 appends "\n\tstatus code: 403, request id: ..." in lower case.
	if k := strings.Index(s, "status code:"); k >= 0 {
		s = strings.TrimRight(strings.TrimSpace(s[:k]), ",")
	}
	s = m.stripExceptionClass(s)
	if code, rest, ok := leadingCode(s); ok {
		if m.Code == "" {
			m.Code = code
		}
		s = rest
	}
	m.Text = strings.TrimSpace(s)
	return m
}

// unwrapBody extracts the message (and code) from an HTTP error body that a
// tool printed raw: AWS JSON ({"__type":"ns#Code","message":"..."}) or XML
// (<Code>..</Code><Message>..</Message>).
func (m *Message) unwrapBody(s string) string {
	if msg, ok := xmlElement(s, "Message"); ok {
		if c, ok := xmlElement(s, "Code"); ok {
			m.Code = c
		}
		return msg
	}
	for _, key := range []string{`"message"`, `"Message"`, `"errorMessage"`} {
		k := strings.Index(s, key)
		if k < 0 {
			continue
		}
		v, ok := jsonStringAfter(s[k+len(key):])
		if !ok {
			continue
		}
		for _, ck := range []string{`"__type"`, `"code"`, `"Code"`, `"errorCode"`} {
			if j := strings.Index(s, ck); j >= 0 {
				if c, ok := jsonStringAfter(s[j+len(ck):]); ok {
					m.Code = c[strings.LastIndexByte(c, '#')+1:]
					break
				}
			}
		}
		return v
	}
	return s
}

// xmlElement returns the text of the first <name>…</name> in s.
func xmlElement(s, name string) (string, bool) {
	open, close := "<"+name+">", "</"+name+">"
	i := strings.Index(s, open)
	if i < 0 {
		return "", false
	}
	j := strings.Index(s[i:], close)
	if j < 0 {
		return "", false
	}
	return strings.TrimSpace(s[i+len(open) : i+j]), true
}

// jsonStringAfter reads `: "value"` (the JSON string after a key) and
// returns the unescaped value.
func jsonStringAfter(s string) (string, bool) {
	s = strings.TrimLeft(s, " \t\r\n")
	if !strings.HasPrefix(s, ":") {
		return "", false
	}
	s = strings.TrimLeft(s[1:], " \t\r\n")
	if !strings.HasPrefix(s, `"`) {
		return "", false
	}
	end := 1
	for end < len(s) && s[end] != '"' {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(s) {
		return "", false
	}
	var v string
	if err := json.Unmarshal([]byte(s[:end+1]), &v); err != nil {
		return "", false
	}
	return v, true
}

// skipFields drops "Name: value," fields (the Go SDK's StatusCode,
// RequestID, HostID) that follow i, returning what comes after them.
func skipFields(s string, i int, names ...string) string {
	rest := strings.TrimSpace(s[i:])
	if _, after, ok := strings.Cut(rest, ","); ok { // the operation name
		rest = strings.TrimSpace(after)
	}
	if r, ok := strings.CutPrefix(rest, "https response error"); ok {
		rest = strings.TrimSpace(r)
	}
	for _, n := range names {
		if r, ok := strings.CutPrefix(rest, n); ok {
			_, after, _ := strings.Cut(r, ",")
			rest = strings.TrimSpace(after)
		}
	}
	return rest
}

// stripExceptionClass drops a Java exception class written before the
// message ("software.amazon.awssdk.services.s3.model.S3Exception: Access
// Denied"), and anything printed before it. A class named for a denial code
// (AuthorizationErrorException) gives the code.
func (m *Message) stripExceptionClass(s string) string {
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "Exception: ")
		if k < 0 {
			return s
		}
		k += i
		start := k
		for start > 0 && (isWordByte(s[start-1]) || s[start-1] == '.') {
			start--
		}
		if class := s[start:k]; strings.Contains(class, ".") {
			simple := class[strings.LastIndexByte(class, '.')+1:]
			switch {
			case m.Code != "":
			case slices.Contains(Codes, simple+"Exception"):
				m.Code = simple + "Exception"
			case IsDenialCode(simple):
				m.Code = simple
			}
			return m.stripExceptionClass(strings.TrimSpace(s[k+len("Exception: "):]))
		}
		i = k + 1
	}
	return s
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
		end := k
		for _, tag := range []string{" (client)", " (server)"} { // the PHP SDK's form
			if strings.HasSuffix(s[:k], tag) {
				end = k - len(tag)
			}
		}
		start := end
		for start > 0 && (isWordByte(s[start-1]) || s[start-1] == '.') && s[start-1] != '-' {
			start--
		}
		if c := s[start:end]; c != "" && IsDenialCode(c) && (start == 0 || !isWordByte(s[start-1])) {
			return c, strings.TrimSpace(s[k+1:]), true
		}
		i = k + 1
	}
	return "", "", false
}
