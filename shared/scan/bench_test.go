package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/denyfix/denyfix/shared/scan/corpus"
)

var (
	benchOnce  sync.Once
	benchDir   string
	benchTruth corpus.Truth
	benchFiles []string
)

// benchCorpus writes 40 files of 500 records (20,000 records) once per run.
func benchCorpus(b *testing.B) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scanbench")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		benchTruth, err = corpus.WriteDir(dir, corpus.Spec{Files: 40, RecordsPerFile: 500})
		if err != nil {
			b.Fatal(err)
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				benchFiles = append(benchFiles, p)
			}
			return nil
		})
	})
}

// BenchmarkDecompress is the floor: gunzip every file on all cores and
// discard the output.
func BenchmarkDecompress(b *testing.B) {
	benchCorpus(b)
	b.SetBytes(benchTruth.Bytes)
	for b.Loop() {
		files := make(chan string)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range files {
					f, err := os.Open(p)
					if err != nil {
						b.Error(err)
						continue
					}
					zr, err := gzip.NewReader(f)
					if err == nil {
						_, err = io.Copy(io.Discard, zr)
					}
					if err != nil {
						b.Error(err)
					}
					f.Close()
				}
			}()
		}
		for _, p := range benchFiles {
			files <- p
		}
		close(files)
		wg.Wait()
	}
	b.ReportMetric(float64(len(benchTruth.Facts)*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkScan scans the same files.
func BenchmarkScan(b *testing.B) {
	benchCorpus(b)
	b.SetBytes(benchTruth.Bytes)
	for b.Loop() {
		r, err := Run(context.Background(), []string{benchDir}, Config{Top: 10})
		if err != nil {
			b.Fatal(err)
		}
		if r.Records != int64(len(benchTruth.Facts)) {
			b.Fatalf("records: got %d; want %d", r.Records, len(benchTruth.Facts))
		}
	}
	b.ReportMetric(float64(len(benchTruth.Facts)*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSplit measures the record splitter alone on decompressed input.
func BenchmarkSplit(b *testing.B) {
	benchCorpus(b)
	f, err := os.Open(benchFiles[0])
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	var sp splitter
	for b.Loop() {
		sp.reset(bytes.NewReader(raw))
		if !sp.begin() {
			b.Fatal("not a log")
		}
		for {
			_, err := sp.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
