// Command scanbench times `denyfix scan` side by side with the decompression
// floor and with `zcat | jq` on the same generated CloudTrail logs, and
// prints records/s, MB/s and the ratios. `make bench-scan` runs it.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/denyfix/denyfix/shared/scan/corpus"
)

// jqProgram counts records and denials per file exactly as scan does: the
// denial codes of DESIGN.md, "AccessDenied" anywhere in the code included.
const jqProgram = `reduce .Records[] as $r ({r:0,d:0}; .r += 1 | if (($r.errorCode // "") | test("AccessDenied|^(Client\\.)?UnauthorizedOperation$|^AuthorizationError$|^UnauthorizedAccess$")) then .d += 1 else . end) | "\(.r) \(.d)"`

func main() {
	bin := flag.String("bin", "bin/denyfix", "the denyfix binary to time")
	records := flag.Int("records", 120_000, "records to generate (at least 100,000 for the acceptance run)")
	perFile := flag.Int("per-file", 1000, "records per log file")
	runs := flag.Int("runs", 3, "timed runs per contender; the best counts")
	flag.Parse()
	if err := run(*bin, *records, *perFile, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	elapsed time.Duration
	records int
	denials int
}

func run(bin string, records, perFile, runs int) error {
	dir, err := os.MkdirTemp("", "scanbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files := (records + perFile - 1) / perFile
	truth, err := corpus.WriteDir(dir, corpus.Spec{Files: files, RecordsPerFile: perFile, Span: 7 * 24 * time.Hour})
	if err != nil {
		return err
	}
	want := truth.Count(time.Time{}, time.Time{})
	var paths []string
	var gzBytes int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
			if info, err := d.Info(); err == nil {
				gzBytes += info.Size()
			}
		}
		return nil
	})
	cores := runtime.NumCPU()
	fmt.Printf("corpus: %d records (%d denials) in %d gzip files, %.1f MB JSON, %.1f MB gzip, %d cores\n\n",
		want.Records, want.Denials, len(paths), float64(truth.Bytes)/1e6, float64(gzBytes)/1e6, cores)

	best := func(name string, n int, f func() (result, error)) (result, error) {
		var b result
		for i := range n {
			r, err := f()
			if err != nil {
				return r, fmt.Errorf("%s: %w", name, err)
			}
			if i == 0 || r.elapsed < b.elapsed {
				b = r
			}
		}
		b.name = name
		return b, nil
	}
	floor, err := best("gunzip, all cores (floor)", runs, func() (result, error) { return decompress(paths, cores) })
	if err != nil {
		return err
	}
	scan, err := best("denyfix scan", runs, func() (result, error) { return denyfixScan(bin, dir) })
	if err != nil {
		return err
	}
	prog := filepath.Join(os.TempDir(), fmt.Sprintf("scanbench-%d.jq", os.Getpid()))
	if err := os.WriteFile(prog, []byte(jqProgram), 0o644); err != nil {
		return err
	}
	defer os.Remove(prog)
	jqPar, err := best(fmt.Sprintf("zcat | jq, xargs -P %d", cores), 1, func() (result, error) { return zcatJQ(dir, prog, cores) })
	if err != nil {
		return err
	}
	jqOne, err := best("zcat | jq, one pipeline", 1, func() (result, error) { return zcatJQ(dir, prog, 1) })
	if err != nil {
		return err
	}
	fmt.Printf("%-28s %9s %12s %9s %10s\n", "", "seconds", "records/s", "MB/s", "denials")
	for _, r := range []result{floor, scan, jqPar, jqOne} {
		if r.records != want.Records && r.records != 0 {
			return fmt.Errorf("%s counted %d records; want %d", r.name, r.records, want.Records)
		}
		if r.name != floor.name && r.denials != want.Denials {
			return fmt.Errorf("%s counted %d denials; want %d", r.name, r.denials, want.Denials)
		}
		s := r.elapsed.Seconds()
		den := strconv.Itoa(r.denials)
		if r.name == floor.name {
			den = "-"
		}
		fmt.Printf("%-28s %9.3f %12.0f %9.1f %10s\n", r.name, s, float64(want.Records)/s, float64(truth.Bytes)/1e6/s, den)
	}
	fmt.Printf("\nscan / floor          = %.2fx (goal <= 1.5x)\n", scan.elapsed.Seconds()/floor.elapsed.Seconds())
	fmt.Printf("jq (parallel) / scan  = %.1fx\n", jqPar.elapsed.Seconds()/scan.elapsed.Seconds())
	fmt.Printf("jq (one pipe) / scan  = %.1fx\n", jqOne.elapsed.Seconds()/scan.elapsed.Seconds())
	return nil
}

// decompress gunzips every file on all cores with the decompressor scan
// uses, discarding the output: no scanner can be faster.
func decompress(paths []string, cores int) (result, error) {
	start := time.Now()
	ch := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range cores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				err := gunzip(p)
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range paths {
		ch <- p
	}
	close(ch)
	wg.Wait()
	return result{elapsed: time.Since(start)}, first
}

func gunzip(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, zr)
	return err
}

func denyfixScan(bin, dir string) (result, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, "scan", "--format", "json", "--top", "10", dir)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	el := time.Since(start)
	var r struct{ Records, Denials int }
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return result{}, err
	}
	return result{elapsed: el, records: r.Records, denials: r.Denials}, nil
}

// zcatJQ is what people do today: zcat the logs into jq, here in `procs`
// parallel pipelines of 32 files each.
func zcatJQ(dir, prog string, procs int) (result, error) {
	script := fmt.Sprintf(`find '%s' -name '*.json.gz' -print0 | xargs -0 -P %d -n 32 sh -c 'zcat "$@" | jq -r -f "$0"' '%s'`,
		dir, procs, prog)
	var out bytes.Buffer
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	el := time.Since(start)
	r := result{elapsed: el}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var n, d int
		if _, err := fmt.Sscan(line, &n, &d); err != nil {
			return r, fmt.Errorf("jq output %q: %w", line, err)
		}
		r.records += n
		r.denials += d
	}
	return r, nil
}
