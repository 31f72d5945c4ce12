package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxRecord bounds one record's size so that a corrupt file cannot make the
// scanner buffer it whole; CloudTrail records are a few KiB, rarely 100 KiB.
const maxRecord = 16 << 20

// chunk is how much decompressed input is read at a time.
const chunk = 256 << 10

var errNotLog = errors.New("not a CloudTrail log file")

// splitter walks the Records array of a CloudTrail log file and hands out
// each record's raw bytes without decoding it: it only tracks strings and
// brace depth, skipping string bodies with bytes.IndexByte. That is what
// makes skipping the records without an errorCode nearly free.
type splitter struct {
	r   io.Reader
	buf []byte
	// buf[start:end] is unconsumed input; pos is where the scan of the
	// current record resumes.
	start, pos, end int
	eof             bool
	err             error
	n               int // records returned
	// errorCode and eventTime are the offsets, in the record last
	// returned, just past its top-level "errorCode" and "eventTime" keys;
	// -1 when absent. Noting them while splitting spares a second pass.
	errorCode, eventTime int
}

func (s *splitter) reset(r io.Reader) {
	if s.buf == nil {
		s.buf = make([]byte, chunk)
	}
	s.r, s.start, s.pos, s.end, s.eof, s.err, s.n = r, 0, 0, 0, false, nil, 0
}

// fill reads more input, keeping buf[start:end]; it grows buf when a single
// record does not fit. It reports false at the end of input or on error.
func (s *splitter) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.pos -= s.start
		s.end = n
		s.start = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxRecord {
			s.err = fmt.Errorf("record %d larger than %d MiB", s.n+1, maxRecord>>20)
			return false
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if err == io.EOF {
		s.eof = true
	} else if err != nil {
		s.err = err
	}
	return n > 0 || (!s.eof && s.err == nil)
}

// peekByte skips white space and returns the next byte without consuming it.
func (s *splitter) peekByte() (byte, bool) {
	for {
		for s.start < s.end {
			switch c := s.buf[s.start]; c {
			case ' ', '\t', '\r', '\n':
				s.start++
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// expect consumes lit (after white space) or reports false.
func (s *splitter) expect(lit string) bool {
	if _, ok := s.peekByte(); !ok {
		return false
	}
	for s.end-s.start < len(lit) {
		if !s.fill() {
			break
		}
	}
	if !bytes.HasPrefix(s.buf[s.start:s.end], []byte(lit)) {
		return false
	}
	s.start += len(lit)
	return true
}

// begin consumes `{"Records":[`, tolerating a byte order mark and white
// space. On false the input is another shape; buffered() replays it whole.
func (s *splitter) begin() bool {
	for s.end < 512 && s.fill() {
	}
	head := s.buf[:s.end]
	i := 0
	if bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")) {
		i = 3
	}
	lit := func(l string) bool {
		for i < len(head) && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n') {
			i++
		}
		if !bytes.HasPrefix(head[i:], []byte(l)) {
			return false
		}
		i += len(l)
		return true
	}
	if lit("{") && lit(`"Records"`) && lit(":") && lit("[") {
		s.start = i
		return true
	}
	return false
}

// buffered returns a reader over what begin read and the rest of the input.
func (s *splitter) buffered() io.Reader {
	return io.MultiReader(bytes.NewReader(s.buf[s.start:s.end]), s.r)
}

// next returns the next record's raw bytes, valid until the following call;
// io.EOF after the array and object are closed.
func (s *splitter) next() ([]byte, error) {
	c, ok := s.peekByte()
	if !ok {
		return nil, s.truncated()
	}
	if s.n > 0 {
		switch c {
		case ',':
			s.start++
			if c, ok = s.peekByte(); !ok {
				return nil, s.truncated()
			}
		case ']':
		default:
			return nil, fmt.Errorf("record %d: malformed JSON: %q after a record", s.n, c)
		}
	}
	if c == ']' {
		s.start++
		if !s.expect("}") {
			if s.err != nil {
				return nil, s.err
			}
			return nil, fmt.Errorf("after %d records: %w: content after the Records array", s.n, errNotLog)
		}
		if _, more := s.peekByte(); more {
			return nil, fmt.Errorf("after %d records: trailing data after the log", s.n)
		}
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	if c != '{' {
		return nil, fmt.Errorf("record %d: %w: %q instead of an object", s.n+1, errNotLog, c)
	}
	s.pos = s.start + 1
	depth := 1
	inString := false
	s.errorCode, s.eventTime = -1, -1
	strStart := 0   // offset in the record of the open string's quote
	keyNext := true // the next string at depth 1 is a key, not a value
	for {
		if inString {
			// Inside a string: jump to the next quote and count the
			// backslashes before it (they stay buffered: the record's
			// start is kept).
			j := bytes.IndexByte(s.buf[s.pos:s.end], '"')
			if j < 0 {
				s.pos = s.end
				if !s.fill() {
					return nil, s.truncated()
				}
				continue
			}
			q := s.pos + j
			bs := 0
			for k := q - 1; k > s.start && s.buf[k] == '\\'; k-- {
				bs++
			}
			s.pos = q + 1
			if bs%2 == 0 {
				inString = false
				// A 9-byte key at depth 1 may be one of the two
				// keys read from raw bytes.
				if depth == 1 && keyNext && q-s.start-strStart == 10 {
					switch string(s.buf[s.start+strStart+1 : q]) {
					case "errorCode":
						s.errorCode = q + 1 - s.start
					case "eventTime":
						s.eventTime = q + 1 - s.start
					}
				}
				keyNext = false
			}
			continue
		}
		if s.pos >= s.end {
			if !s.fill() {
				return nil, s.truncated()
			}
			continue
		}
		switch s.buf[s.pos] {
		case '"':
			inString = true
			strStart = s.pos - s.start
		case ',':
			keyNext = depth == 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				rec := s.buf[s.start : s.pos+1]
				s.pos++
				s.start = s.pos
				s.n++
				return rec, nil
			}
		}
		s.pos++
	}
}

func (s *splitter) truncated() error {
	if s.err != nil {
		return fmt.Errorf("after %d records: %w", s.n, s.err)
	}
	return fmt.Errorf("after %d records: truncated JSON", s.n)
}
