package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Errors the Reader returns. ErrNotCloudTrail concerns one value and the
// Reader goes on after it; the others end the input.
var (
	ErrEmpty         = errors.New("empty input")
	ErrBinary        = errors.New("binary input: neither JSON nor text")
	ErrNotCloudTrail = errors.New("not a CloudTrail record")
	ErrTextTooLarge  = errors.New("text input larger than 1 MiB: not an error message")
)

// maxText bounds free-text input: an error message is a few KiB at most, and
// a larger text is almost certainly the wrong file.
const maxText = 1 << 20

// Shape is the kind of input a Reader found.
type Shape int

// The input shapes, detected from the first bytes.
const (
	ShapeUnknown Shape = iota // not read yet
	ShapeLog                  // a CloudTrail log file: {"Records":[...]}
	ShapeJSON                 // JSON values: records, EventBridge events, JSON Lines, arrays
	ShapeText                 // free text holding an error message
)

// Reader yields the CloudTrail records held by one input, whatever its shape,
// streaming: a log file of any size is read one record at a time.
type Reader struct {
	src   *bufio.Reader
	dec   *json.Decoder
	shape Shape
	// depth is how many JSON containers the decoder is inside of that Next
	// iterates: 0 at top level, 1 inside a top-level array, 2 inside
	// {"Records":[.
	depth   int
	pending []json.RawMessage // records of a small in-memory {"Records":[...]}
	err     error             // sticky: once set, Next returns it for ever
	n       int               // values read, for error messages
}

// NewReader returns a Reader over r. Gzip input is detected by its magic
// bytes and decompressed (multi-member files included).
func NewReader(r io.Reader) *Reader {
	return &Reader{src: bufio.NewReaderSize(r, 64<<10)}
}

// Shape reports the input shape; ShapeUnknown until the first Next.
func (r *Reader) Shape() Shape { return r.shape }

// Next returns the next record. It returns io.EOF after the last one. An
// error wrapping ErrNotCloudTrail concerns one JSON value only: call Next
// again to go on. Any other error ends the input.
func (r *Reader) Next() (Record, error) {
	raw, err := r.NextRaw()
	if err != nil {
		return Record{}, err
	}
	if r.shape == ShapeText {
		return Record{ErrorMessage: string(raw)}, nil
	}
	return DecodeRecord(raw)
}

// NextRaw returns the next record as raw JSON without decoding it, so a
// caller can skip records cheaply; for text input it returns the text. Its
// errors are those of Next.
func (r *Reader) NextRaw() (json.RawMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.shape == ShapeUnknown {
		if err := r.start(); err != nil {
			r.err = err
			return nil, err
		}
		if r.shape == ShapeText {
			text, err := r.readText()
			r.err = io.EOF
			if err != nil {
				r.err = err
			}
			return text, err
		}
	}
	for {
		var raw json.RawMessage
		var err error
		if len(r.pending) > 0 {
			raw, r.pending = r.pending[0], r.pending[1:]
			raw, err = r.unwrap(raw)
		} else {
			raw, err = r.nextValue()
		}
		if errors.Is(err, ErrNotCloudTrail) {
			return nil, err
		}
		if err != nil {
			r.err = err
			return nil, err
		}
		if raw == nil {
			continue
		}
		return raw, nil
	}
}

// start detects compression and shape.
func (r *Reader) start() error {
	if magic, _ := r.src.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(r.src)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		r.src = bufio.NewReaderSize(gzipReader{zr}, 64<<10)
	}
	if err := r.skipSpace(); err != nil {
		return err
	}
	head, err := r.src.Peek(1)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return err
	}
	switch head[0] {
	case '[':
		r.shape = ShapeJSON
		r.dec = json.NewDecoder(r.src)
		if _, err := r.dec.Token(); err != nil {
			return r.jsonError(err)
		}
		r.depth = 1
	case '{':
		r.shape = ShapeJSON
		r.dec = json.NewDecoder(r.src)
		if isLogStart(r.src) {
			r.shape = ShapeLog
			for range 3 { // '{', "Records", '['
				if _, err := r.dec.Token(); err != nil {
					return r.jsonError(err)
				}
			}
			r.depth = 2
		}
	default:
		r.shape = ShapeText
	}
	return nil
}

// skipSpace drops leading white space and a UTF-8 byte order mark.
func (r *Reader) skipSpace() error {
	for {
		b, err := r.src.Peek(3)
		if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
			r.src.Discard(3)
			continue
		}
		if len(b) == 0 {
			if errors.Is(err, io.EOF) {
				return ErrEmpty
			}
			return err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			r.src.Discard(1)
		default:
			return nil
		}
	}
}

// isLogStart reports whether the buffered input begins like a CloudTrail log
// file, {"Records":[, so that it can be streamed instead of decoded whole.
func isLogStart(br *bufio.Reader) bool {
	head, _ := br.Peek(256)
	head = bytes.TrimLeft(head[1:], " \t\r\n")
	rest, ok := bytes.CutPrefix(head, []byte(`"Records"`))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	rest, ok = bytes.CutPrefix(rest, []byte(":"))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == '['
}

// nextValue returns the next value of JSON input; nil with a nil error
// when it consumed structure (an array's end) but found no value.
func (r *Reader) nextValue() (json.RawMessage, error) {
	if r.depth > 0 && !r.dec.More() {
		return nil, r.closeContainer()
	}
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) && r.depth == 0 {
			return nil, io.EOF
		}
		return nil, r.jsonError(err)
	}
	r.n++
	if r.depth == 2 { // inside {"Records":[: every value is a record
		return raw, nil
	}
	return r.unwrap(raw)
}

// closeContainer consumes the end of the array (and, in a log file, of the
// object around it, skipping any keys after "Records").
func (r *Reader) closeContainer() error {
	if _, err := r.dec.Token(); err != nil { // ']'
		return r.jsonError(err)
	}
	if r.depth == 2 {
		for r.dec.More() {
			if _, err := r.dec.Token(); err != nil { // key
				return r.jsonError(err)
			}
			var skip json.RawMessage
			if err := r.dec.Decode(&skip); err != nil {
				return r.jsonError(err)
			}
		}
		if _, err := r.dec.Token(); err != nil { // '}'
			return r.jsonError(err)
		}
	}
	r.depth = 0
	return nil
}

// shapeProbe reads just enough of a top-level object to tell what it is.
type shapeProbe struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType *string           `json:"detail-type"`
	Detail     json.RawMessage   `json:"detail"`
}

// unwrap turns a value into a record: it unwraps EventBridge envelopes and
// queues the elements of arrays and of small {"Records":[...]} objects.
func (r *Reader) unwrap(raw json.RawMessage) (json.RawMessage, error) {
	if raw[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, r.jsonError(err)
		}
		r.pending = append(elems, r.pending...) // nested: read in document order
		return nil, nil
	}
	var p shapeProbe
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("value %d: %w: %v", r.n, ErrNotCloudTrail, err)
	}
	switch {
	case p.Records != nil:
		r.pending = append(p.Records, r.pending...)
		return nil, nil
	case p.DetailType != nil:
		if !IsCloudTrailDetailType(*p.DetailType) {
			return nil, fmt.Errorf("value %d: %w: EventBridge event with detail-type %q", r.n, ErrNotCloudTrail, *p.DetailType)
		}
		if len(p.Detail) == 0 || string(p.Detail) == "null" {
			return nil, fmt.Errorf("value %d: %w: EventBridge event without a detail", r.n, ErrNotCloudTrail)
		}
		return p.Detail, nil
	}
	return raw, nil
}

// DecodeRecord decodes one CloudTrail record. A JSON object carrying none of
// the fields every record has is rejected with ErrNotCloudTrail.
func DecodeRecord(raw []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrNotCloudTrail, err)
	}
	if rec.EventName == "" && rec.EventSource == "" && rec.ErrorCode == "" && rec.ErrorMessage == "" {
		return Record{}, fmt.Errorf("%w: no eventName, eventSource, errorCode or errorMessage", ErrNotCloudTrail)
	}
	return rec, nil
}

// DecodeEvent decodes an EventBridge event and the CloudTrail record in its
// detail. Lambda handlers use it on the payload they are invoked with.
func DecodeEvent(raw []byte) (Event, Record, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, Record{}, fmt.Errorf("decode EventBridge event: %w", err)
	}
	if !IsCloudTrailDetailType(ev.DetailType) {
		return ev, Record{}, fmt.Errorf("%w: detail-type %q", ErrNotCloudTrail, ev.DetailType)
	}
	rec, err := DecodeRecord(ev.Detail)
	if err != nil {
		return ev, Record{}, fmt.Errorf("event %s: %w", ev.ID, err)
	}
	return ev, rec, nil
}

// readText reads free-text input whole, refusing binary data.
func (r *Reader) readText() (json.RawMessage, error) {
	text, err := io.ReadAll(io.LimitReader(r.src, maxText+1))
	if err != nil {
		return nil, err
	}
	if len(text) > maxText {
		return nil, ErrTextTooLarge
	}
	if bytes.IndexByte(text, 0) >= 0 || !utf8.Valid(text) {
		return nil, ErrBinary
	}
	return bytes.TrimSpace(text), nil
}

// gzipReader marks decompression errors, so that a truncated gzip file is
// reported as such and not as truncated JSON.
type gzipReader struct{ r io.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = &GzipError{Err: err}
	}
	return n, err
}

// GzipError is a corrupt or truncated gzip stream.
type GzipError struct{ Err error }

func (e *GzipError) Error() string {
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		return "truncated gzip data"
	}
	return "corrupt gzip data: " + e.Err.Error()
}

// Unwrap returns the decompressor's error.
func (e *GzipError) Unwrap() error { return e.Err }

// jsonError turns decoder errors into messages that say where and what.
func (r *Reader) jsonError(err error) error {
	var syn *json.SyntaxError
	var gz *GzipError
	switch {
	case errors.As(err, &gz):
		return gz
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("truncated JSON after byte %d", r.dec.InputOffset())
	case errors.As(err, &syn):
		return fmt.Errorf("malformed JSON at byte %d: %w", syn.Offset, err)
	}
	return fmt.Errorf("read JSON: %w", err)
}
