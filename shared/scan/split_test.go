package scan

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSplitter(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		codeKey []bool // whether a top-level errorCode key was noted
		wantErr string
	}{
		{name: "two records", in: `{"Records":[{"eventName":"A"},{"eventName":"B","errorCode":"AccessDenied"}]}`,
			want: []string{`{"eventName":"A"}`, `{"eventName":"B","errorCode":"AccessDenied"}`}, codeKey: []bool{false, true}},
		{name: "white space and BOM", in: "\xEF\xBB\xBF {\n \"Records\" : [\n {\"a\":1} ,\n {\"b\":[1,{\"c\":2}]}\n ]\n}\n",
			want: []string{`{"a":1}`, `{"b":[1,{"c":2}]}`}, codeKey: []bool{false, false}},
		{name: "braces and quotes in strings", in: `{"Records":[{"m":"a } { ] \" \\","errorCode":"x"},{"n":"\\\\"}]}`,
			want: []string{`{"m":"a } { ] \" \\","errorCode":"x"}`, `{"n":"\\\\"}`}, codeKey: []bool{true, false}},
		{name: "nested and escaped errorCode are not top-level keys",
			in:      `{"Records":[{"p":{"errorCode":"AccessDenied"},"q":"{\"errorCode\":\"AccessDenied\"}","r":"errorCode"}]}`,
			want:    []string{`{"p":{"errorCode":"AccessDenied"},"q":"{\"errorCode\":\"AccessDenied\"}","r":"errorCode"}`},
			codeKey: []bool{false}},
		{name: "empty", in: `{"Records":[]}`},
		{name: "truncated record", in: `{"Records":[{"a":1},{"b":"x`, want: []string{`{"a":1}`}, codeKey: []bool{false}, wantErr: "truncated"},
		{name: "truncated array", in: `{"Records":[{"a":1}`, want: []string{`{"a":1}`}, codeKey: []bool{false}, wantErr: "truncated"},
		{name: "not an object", in: `{"Records":[1,2]}`, wantErr: "not a CloudTrail log"},
		{name: "trailing garbage", in: `{"Records":[{"a":1}]} {"x":1}`, want: []string{`{"a":1}`}, codeKey: []bool{false}, wantErr: "trailing"},
	}
	for _, tc := range tests {
		for _, reader := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"byte by byte", iotest.OneByteReader}} {
			t.Run(tc.name+"/"+reader.name, func(t *testing.T) {
				var sp splitter
				sp.reset(reader.wrap(strings.NewReader(tc.in)))
				if !sp.begin() {
					t.Fatal("begin: got false; want a log")
				}
				var got []string
				var keys []bool
				var err error
				for {
					var rec []byte
					rec, err = sp.next()
					if err != nil {
						break
					}
					got = append(got, string(rec))
					keys = append(keys, sp.errorCode >= 0)
				}
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("records: got %q; want %q", got, tc.want)
				}
				if len(tc.codeKey) > 0 && !slicesEqual(keys, tc.codeKey) {
					t.Errorf("errorCode keys: got %v; want %v", keys, tc.codeKey)
				}
				switch {
				case tc.wantErr == "" && err != io.EOF:
					t.Errorf("end: got %v; want io.EOF", err)
				case tc.wantErr != "" && (err == nil || err == io.EOF || !strings.Contains(err.Error(), tc.wantErr)):
					t.Errorf("end: got %v; want an error containing %q", err, tc.wantErr)
				}
			})
		}
	}
}

func slicesEqual(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitterOtherShapes(t *testing.T) {
	for _, in := range []string{`{"eventName":"A"}`, `[{"eventName":"A"}]`, `{"detail-type":"AWS API Call via CloudTrail"}`, "User: x is not authorized"} {
		var sp splitter
		sp.reset(strings.NewReader(in))
		if sp.begin() {
			t.Errorf("begin(%q): got true; want false", in)
		}
		replay, _ := io.ReadAll(sp.buffered())
		if !bytes.Equal(replay, []byte(in)) {
			t.Errorf("buffered(): got %q; want %q", replay, in)
		}
	}
}

func TestSplitterLargeRecord(t *testing.T) {
	big := strings.Repeat("x", 3*chunk)
	in := `{"Records":[{"errorCode":"AccessDenied","m":"` + big + `"}]}`
	var sp splitter
	sp.reset(strings.NewReader(in))
	if !sp.begin() {
		t.Fatal("begin: got false")
	}
	rec, err := sp.next()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != len(in)-len(`{"Records":[]}`) {
		t.Errorf("record length: got %d; want %d", len(rec), len(in)-len(`{"Records":[]}`))
	}
	if !isDenialAt(rec, sp.errorCode) {
		t.Error("errorCode AccessDenied not found in the large record")
	}
}
