package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/denyfix/denyfix/shared/cloudtrail"
)

const rec1 = `{"eventVersion":"1.09","eventID":"e1","eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","errorMessage":"Access Denied","recipientAccountId":"111122223333","requestParameters":{"bucketName":"b","key":"k"}}`
const rec2 = `{"eventVersion":"1.09","eventID":"e2","eventSource":"iam.amazonaws.com","eventName":"ListRoles","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u","accountId":"111122223333"}}`

func gz(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// readAll returns the event IDs (or, for text, the message) of every record
// and the error that ended the input (nil at a clean end).
func readAll(input string) (ids []string, skipped int, shape cloudtrail.Shape, err error) {
	rd := cloudtrail.NewReader(strings.NewReader(input))
	for {
		rec, err := rd.Next()
		switch {
		case errors.Is(err, io.EOF):
			return ids, skipped, rd.Shape(), nil
		case errors.Is(err, cloudtrail.ErrNotCloudTrail):
			skipped++
			continue
		case err != nil:
			return ids, skipped, rd.Shape(), err
		}
		if rec.EventID != "" {
			ids = append(ids, rec.EventID)
		} else {
			ids = append(ids, "text:"+rec.ErrorMessage)
		}
	}
}

func TestReaderShapes(t *testing.T) {
	event := `{"version":"0","id":"ev","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"111122223333","time":"2026-11-20T09:14:03Z","region":"eu-west-1","resources":["arn:aws:s3:::b"],"detail":` + rec1 + `}`
	tests := []struct {
		name    string
		input   string
		ids     []string
		skipped int
		shape   cloudtrail.Shape
	}{
		{"log file", `{"Records":[` + rec1 + `,` + rec2 + `]}`, []string{"e1", "e2"}, 0, cloudtrail.ShapeLog},
		{"log file, spaced and keys after Records", "{ \"Records\" :\n [" + rec1 + "], \"extra\": {\"a\":[1]}}", []string{"e1"}, 0, cloudtrail.ShapeLog},
		{"gzip log file", gz(t, `{"Records":[`+rec1+`,`+rec2+`]}`), []string{"e1", "e2"}, 0, cloudtrail.ShapeLog},
		{"concatenated gzip members", gz(t, `{"Records":[`+rec1+`]}`) + gz(t, `{"Records":[`+rec2+`]}`), []string{"e1", "e2"}, 0, cloudtrail.ShapeLog},
		{"log object with Records not first", `{"other":1,"Records":[` + rec1 + `]}`, []string{"e1"}, 0, cloudtrail.ShapeJSON},
		{"EventBridge event", event, []string{"e1"}, 0, cloudtrail.ShapeJSON},
		{"bare record with BOM", "\ufeff" + rec1, []string{"e1"}, 0, cloudtrail.ShapeJSON},
		{"JSON Lines", rec1 + "\n" + rec2 + "\n", []string{"e1", "e2"}, 0, cloudtrail.ShapeJSON},
		{"array of events and records", `[` + event + `,` + rec2 + `]`, []string{"e1", "e2"}, 0, cloudtrail.ShapeJSON},
		{"nested arrays and log objects in an array", `[[` + rec1 + `],{"Records":[` + rec2 + `]},` + rec1 + `]`, []string{"e1", "e2", "e1"}, 0, cloudtrail.ShapeJSON},
		{"JSON Lines with a foreign object", rec1 + "\n{\"hello\":\"world\"}\n" + rec2, []string{"e1", "e2"}, 1, cloudtrail.ShapeJSON},
		{"API call event without detail reported", `{"detail-type":"AWS API Call via CloudTrail"}` + "\n" + rec2, []string{"e2"}, 1, cloudtrail.ShapeJSON},
		{"console sign-in event is a CloudTrail record", `{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"eventID":"e3","eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com"}}`, []string{"e3"}, 0, cloudtrail.ShapeJSON},
		{"other EventBridge event skipped", `{"detail-type":"Scheduled Event","detail":{}}` + "\n" + rec2, []string{"e2"}, 1, cloudtrail.ShapeJSON},
		{"free text", "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied\n", []string{"text:An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"}, 0, cloudtrail.ShapeText},
		{"gzip text", gz(t, "User: x is not authorized"), []string{"text:User: x is not authorized"}, 0, cloudtrail.ShapeText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, skipped, shape, err := readAll(tt.input)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.ids) {
				t.Errorf("records: got %v; want %v", ids, tt.ids)
			}
			if skipped != tt.skipped {
				t.Errorf("skipped: got %d; want %d", skipped, tt.skipped)
			}
			if shape != tt.shape {
				t.Errorf("shape: got %v; want %v", shape, tt.shape)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	full := gz(t, `{"Records":[`+rec1+`,`+rec2+`]}`)
	tests := []struct {
		name  string
		input string
		ids   int    // records read before the error
		want  string // the error text must contain this
	}{
		{"empty", "", 0, "empty input"},
		{"only white space", " \n\t ", 0, "empty input"},
		{"binary garbage", "\x00\x01\x02\xff\xfe binary", 0, "binary input"},
		{"invalid UTF-8 text", "Access \xff\xfe Denied", 0, "binary input"},
		{"truncated log", `{"Records":[` + rec1 + `,{"eventName":"x"`, 1, "truncated JSON"},
		{"truncated gzip", full[:len(full)/2], 0, "truncated gzip"},
		{"malformed JSON", `{"Records":[` + rec1 + `,{"eventName" "x"}]}`, 1, "malformed JSON"},
		{"broken gzip header", "\x1f\x8b\x00\x00garbage", 0, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, _, _, err := readAll(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error: got %v; want one containing %q", err, tt.want)
			}
			if len(ids) != tt.ids {
				t.Errorf("records before the error: got %d; want %d", len(ids), tt.ids)
			}
		})
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	rd := cloudtrail.NewReader(strings.NewReader(`{"Records":[{"eventName":`))
	_, err1 := rd.Next()
	_, err2 := rd.Next()
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Fatalf("errors: got %v then %v; want the same error twice", err1, err2)
	}
}

func TestDecodeEvent(t *testing.T) {
	ev, rec, err := cloudtrail.DecodeEvent([]byte(`{"id":"x","detail-type":"AWS API Call via CloudTrail","detail":` + rec1 + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "x" || rec.EventID != "e1" || rec.RequestParam("bucketName") != "b" || rec.Service() != "s3" || rec.Account() != "111122223333" {
		t.Errorf("got event %+v record %+v", ev, rec)
	}
	for _, bad := range []string{`{`, `{"detail-type":"Scheduled Event"}`, `{"detail-type":"AWS API Call via CloudTrail","detail":{"foo":1}}`} {
		if _, _, err := cloudtrail.DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("DecodeEvent(%s): got no error", bad)
		}
	}
}

// logStream produces a CloudTrail log file of about size bytes on the fly,
// so the test holds none of it in memory.
type logStream struct {
	size, written int
	buf           []byte
	n             int
	closed        bool
}

func (l *logStream) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		switch {
		case l.closed:
			return 0, io.EOF
		case l.written == 0:
			l.buf = []byte(`{"Records":[`)
		case l.written >= l.size:
			l.buf, l.closed = []byte(`]}`), true
		default:
			sep := ","
			if l.n == 0 {
				sep = ""
			}
			l.n++
			l.buf = fmt.Appendf(nil, `%s{"eventVersion":"1.09","eventID":"id-%d","eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"b","key":"k/%d"},"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/r/s","accountId":"111122223333"}}`, sep, l.n, l.n)
		}
		l.written += len(l.buf)
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// TestReaderStreamsLargeLogInBoundedMemory reads a 1 GB log (256 MB with
// -short) and checks the heap never holds more than a few MB of it.
func TestReaderStreamsLargeLogInBoundedMemory(t *testing.T) {
	size := 1 << 30
	if testing.Short() {
		size = 256 << 20
	}
	src := &logStream{size: size}
	rd := cloudtrail.NewReader(src)
	var peak uint64
	var ms runtime.MemStats
	count := 0
	for {
		_, err := rd.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count%200000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if count != src.n {
		t.Fatalf("records: got %d; want %d", count, src.n)
	}
	if limit := uint64(64 << 20); peak > limit {
		t.Errorf("peak heap in use: got %d MB reading %d MB; want under %d MB", peak>>20, size>>20, limit>>20)
	}
	t.Logf("%d records, %d MB, peak heap %d MB", count, src.written>>20, peak>>20)
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"Records":[` + rec1 + `]}`))
	f.Add([]byte(rec1 + "\n" + rec2))
	f.Add([]byte(`[{"detail-type":"AWS API Call via CloudTrail","detail":` + rec1 + `}]`))
	f.Add([]byte("An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"))
	f.Add([]byte(gz(f, `{"Records":[`+rec1+`]}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := cloudtrail.NewReader(bytes.NewReader(data))
		for i := 0; i < 10000; i++ {
			_, err := rd.Next()
			if err == nil || errors.Is(err, cloudtrail.ErrNotCloudTrail) {
				continue
			}
			if _, again := rd.Next(); again == nil {
				t.Fatalf("Next succeeded after the input ended with %v", err)
			}
			return
		}
	})
}
