// Package scan summarises the access denials in CloudTrail logs: files,
// directories, gzip, stdin and S3 buckets in CloudTrail's layout. Inputs are
// decompressed and read in parallel on all cores; records without an
// errorCode are counted from their raw bytes and never decoded, and only
// denials are decoded and explained (package denial). Memory stays bounded:
// records stream, and every count is capped in distinct keys.
//
// Renderers for the Report (JSON, text, markdown, HTML) are pure functions
// in render.go.
package scan

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/denyfix/denyfix/shared/cloudtrail"
	"github.com/denyfix/denyfix/shared/denial"
)

// Config controls a scan. The zero value scans everything on all cores.
type Config struct {
	// Since and Until bound eventTime: Since <= eventTime < Until. A zero
	// bound is open.
	Since, Until time.Time
	// Top is how many findings the report keeps; 0 keeps them all.
	Top int
	// Workers is the number of inputs read at once; 0 means GOMAXPROCS.
	Workers int
	// Stdin is read for the path "-".
	Stdin io.Reader
	// S3 reads s3:// paths; scanning one without it is an error.
	S3 ObjectStore
	// Progress, when set, is updated as inputs are read.
	Progress *Progress
}

// Progress counts the work done so far, for a progress display; safe to
// read while the scan runs.
type Progress struct {
	Files, FilesTotal atomic.Int64
	// Bytes counts input bytes as stored (compressed), the unit sizes are
	// known in before reading.
	Bytes, BytesTotal atomic.Int64
}

// input is one thing to read: a file, an S3 object or stdin.
type input struct {
	name string
	size int64 // -1 when unknown
	open func(ctx context.Context) (io.ReadCloser, error)
	// err is set for an input already known to be unreadable.
	err error
}

// Run scans paths and returns the report. Failures of single inputs are in
// Report.Failed; the error is for a scan that could not run at all (bad
// path syntax, s3:// without an ObjectStore, cancellation).
func Run(ctx context.Context, paths []string, cfg Config) (*Report, error) {
	for _, p := range paths {
		if strings.HasPrefix(p, "s3://") && cfg.S3 == nil {
			return nil, fmt.Errorf("%s: no S3 client configured", p)
		}
		if _, _, err := parseS3(p); strings.HasPrefix(p, "s3://") && err != nil {
			return nil, err
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	prog := cfg.Progress
	if prog == nil {
		prog = &Progress{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	inputs := make(chan input, 4*workers)
	var (
		failMu sync.Mutex
		failed []InputError
		count  atomic.Int64
	)
	fail := func(name string, err error) {
		failMu.Lock()
		failed = append(failed, InputError{Name: name, Error: err.Error()})
		failMu.Unlock()
	}
	go func() {
		defer close(inputs)
		emit := func(in input) bool {
			prog.FilesTotal.Add(1)
			if in.size > 0 {
				prog.BytesTotal.Add(in.size)
			}
			select {
			case inputs <- in:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, p := range paths {
			if err := expand(ctx, p, cfg, emit); err != nil && ctx.Err() == nil {
				count.Add(1)
				fail(p, err)
			}
		}
	}()

	totals := make([]*tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := newWorker(cfg, prog)
			for in := range inputs {
				if ctx.Err() != nil {
					continue
				}
				count.Add(1)
				if err := wk.scan(ctx, in); err != nil {
					fail(in.name, err)
				}
				prog.Files.Add(1)
			}
			totals[w] = wk.total
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := totals[0]
	for _, t := range totals[1:] {
		total.merge(t)
	}
	r := total.report(cfg.Top)
	r.Inputs = int(count.Load())
	sort.Slice(failed, func(i, j int) bool { return failed[i].Name < failed[j].Name })
	if failed != nil {
		r.Failed = failed
	}
	if !cfg.Since.IsZero() {
		s := cfg.Since.UTC()
		r.Since = &s
	}
	if !cfg.Until.IsZero() {
		u := cfg.Until.UTC()
		r.Until = &u
	}
	return r, nil
}

// expand turns one path into inputs: stdin, a file, every file under a
// directory, or every object under an S3 prefix.
func expand(ctx context.Context, p string, cfg Config, emit func(input) bool) error {
	if p == "-" {
		stdin := cfg.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		emit(input{name: "-", size: -1, open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(stdin), nil
		}})
		return nil
	}
	if strings.HasPrefix(p, "s3://") {
		bucket, prefix, _ := parseS3(p)
		return listS3(ctx, cfg.S3, bucket, prefix, cfg.Since, cfg.Until, emit)
	}
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		emit(fileInput(p, info.Size()))
		return nil
	}
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == p {
				return err
			}
			emit(input{name: path, err: err})
			return nil
		}
		if d.IsDir() {
			if skipDir(d.Name()) && path != p {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || outsideWindow(filepath.ToSlash(path), cfg.Since, cfg.Until) {
			return nil
		}
		// Stat follows symlinks: a link to a file is read, a broken one
		// is reported, a link to a directory is not followed (no loops).
		info, err := os.Stat(path)
		switch {
		case err != nil:
			emit(input{name: path, err: err})
		case info.Mode().IsRegular():
			if !emit(fileInput(path, info.Size())) {
				return ctx.Err()
			}
		}
		return nil
	})
}

// skipDir tells directories that never hold CloudTrail events: digest files
// (a different format) and hidden directories.
func skipDir(name string) bool {
	return name == "CloudTrail-Digest" || strings.HasPrefix(name, ".")
}

func fileInput(path string, size int64) input {
	return input{name: path, size: size, open: func(context.Context) (io.ReadCloser, error) {
		return os.Open(path)
	}}
}

// worker reads inputs one at a time, reusing its buffers and decompressor.
type worker struct {
	cfg   Config
	prog  *Progress
	br    *bufio.Reader
	zr    *gzip.Reader
	sp    splitter
	file  *tally // the current input's counts
	total *tally // counts of the inputs read completely
}

func newWorker(cfg Config, prog *Progress) *worker {
	return &worker{
		cfg: cfg, prog: prog,
		br:   bufio.NewReaderSize(nil, 256<<10),
		file: newTally(), total: newTally(),
	}
}

// countingReader adds the bytes read to the progress counter.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// scan reads one input into w.file and, when it was read completely,
// merges it into w.total.
func (w *worker) scan(ctx context.Context, in input) error {
	if in.err != nil {
		return in.err
	}
	rc, err := in.open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.file.reset()
	w.br.Reset(countingReader{rc, &w.prog.Bytes})
	var src io.Reader = w.br
	if magic, _ := w.br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if w.zr == nil {
			w.zr, err = gzip.NewReader(w.br)
		} else {
			err = w.zr.Reset(w.br)
		}
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		src = w.zr
	}
	w.sp.reset(src)
	if w.sp.begin() {
		err = w.scanLog()
	} else if w.sp.err != nil {
		err = w.sp.err
	} else {
		err = w.scanOther(w.sp.buffered())
	}
	if err != nil {
		return err
	}
	w.total.merge(w.file)
	return nil
}

// scanLog reads a {"Records":[...]} log with the splitter.
func (w *worker) scanLog() error {
	for {
		raw, err := w.sp.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.record(raw, w.sp.errorCode, w.sp.eventTime); err != nil {
			return fmt.Errorf("record %d: %w", w.sp.n, err)
		}
	}
}

// scanOther reads the shapes other than a log file (JSON Lines, arrays,
// EventBridge events) with cloudtrail.Reader. Each value must be a
// CloudTrail record: anything else means the input is not CloudTrail.
func (w *worker) scanOther(r io.Reader) error {
	rd := cloudtrail.NewReader(r)
	for i := 1; ; i++ {
		raw, err := rd.NextRaw()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, cloudtrail.ErrEmpty) {
			return fmt.Errorf("%w: empty input", errNotLog)
		}
		if err != nil {
			return err
		}
		if rd.Shape() == cloudtrail.ShapeText {
			return fmt.Errorf("%w: neither JSON nor gzip", errNotLog)
		}
		if err := w.record(raw, validate, validate); err != nil {
			return fmt.Errorf("value %d: %w", i, err)
		}
	}
}

// record counts one raw record. errorCode and eventTime are the offsets
// just past its top-level keys (-1 when absent), as the splitter found them;
// a record whose errorCode is no denial is counted from its bytes alone.
// The value validate for both means: decode and check the record whatever.
func (w *worker) record(raw []byte, errorCode, eventTime int) error {
	windowed := !w.cfg.Since.IsZero() || !w.cfg.Until.IsZero()
	if errorCode != validate && !isDenialAt(raw, errorCode) {
		if windowed && !w.inWindow(timeAt(raw, eventTime)) {
			return nil
		}
		w.file.records++
		return nil
	}
	rec, err := cloudtrail.DecodeRecord(raw)
	if err != nil {
		return err
	}
	at := rec.Time()
	if windowed && !w.inWindow(at) {
		return nil
	}
	w.file.records++
	if !denial.IsDenialCode(rec.ErrorCode) {
		return nil
	}
	e := explain(&rec)
	w.file.add(&e, at)
	return nil
}

// validate, passed as both offsets, makes record decode the value fully.
const validate = -2

// isDenialAt reports whether the string value at raw[off:] (after the key)
// is a denial code.
func isDenialAt(raw []byte, off int) bool {
	if off < 0 {
		return false
	}
	v, ok := stringValue(raw[off:])
	return ok && denial.IsDenialCode(string(v))
}

// timeAt parses the eventTime value at raw[off:]; the zero time when absent
// or malformed.
func timeAt(raw []byte, off int) time.Time {
	if off < 0 {
		return time.Time{}
	}
	v, ok := stringValue(raw[off:])
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, string(v))
	if err != nil {
		return time.Time{}
	}
	return t
}

func (w *worker) inWindow(at time.Time) bool {
	if at.IsZero() {
		return false
	}
	return (w.cfg.Since.IsZero() || !at.Before(w.cfg.Since)) && (w.cfg.Until.IsZero() || at.Before(w.cfg.Until))
}

// stringValue reads `: "value"` at the start of b (white space allowed);
// the value is returned raw, escapes not undone (codes have none).
func stringValue(b []byte) ([]byte, bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != ':' {
		return nil, false
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return nil, false
	}
	return b[1 : 1+end], true
}

// explain explains a denial record; when the engine cannot, the facts the
// record itself states are kept so the denial still counts in every
// dimension, with cause and policy type unknown.
func explain(rec *cloudtrail.Record) denial.Explanation {
	e, ok := denial.ExplainFacts(*rec) // the prose only for the findings shown
	if !ok {
		e = denial.Explanation{ErrorMessage: rec.ErrorMessage}
	}
	fill := func(dst **string, v string) {
		if *dst == nil && v != "" {
			*dst = &v
		}
	}
	fill(&e.EventID, rec.EventID)
	fill(&e.EventTime, rec.EventTime)
	fill(&e.Account, rec.Account())
	fill(&e.Region, rec.AWSRegion)
	fill(&e.Service, rec.Service())
	fill(&e.EventName, rec.EventName)
	fill(&e.Principal, rec.PrincipalARN())
	if svc := rec.Service(); svc != "" && rec.EventName != "" {
		fill(&e.Action, svc+":"+rec.EventName)
	}
	fill(&e.ErrorCode, rec.ErrorCode)
	return e
}
