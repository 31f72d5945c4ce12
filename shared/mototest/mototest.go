// Package mototest starts a private moto server for integration tests, so the
// real AWS SDK v2 clients exercise the real wire protocol without an AWS
// account. Each test binary starts its own server on a free port and stops it
// when the test ends; no server is ever shared or reset under another process.
package mototest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region every client made by Config uses.
const Region = "us-east-1"

// Server is a running moto server.
type Server struct {
	// URL is the server's endpoint, e.g. http://127.0.0.1:40123.
	URL string
	cmd *exec.Cmd
}

var listening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// Start starts moto_server on a free loopback port and stops it when tb ends.
// It fails the test when moto_server is missing: integration tests are part of
// `make test`, which installs it.
func Start(tb testing.TB) *Server {
	tb.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		tb.Fatalf("moto_server not found on PATH (make test installs it): %v", err)
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start moto_server: %v", err)
	}
	s := &Server{cmd: cmd}
	tb.Cleanup(s.stop)

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		for sc.Scan() { // keep draining so moto never blocks on a full pipe
		}
	}()
	select {
	case s.URL = <-found:
	case <-time.After(60 * time.Second):
		tb.Fatal("moto_server did not report its address within 60s")
	}
	s.waitReady(tb)
	return s
}

func (s *Server) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("moto_server at %s did not answer", s.URL)
}

func (s *Server) stop() {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		_ = s.cmd.Wait()
	}
}

// Config returns an AWS configuration pointing every client at this server,
// with static test credentials. S3 clients also need UsePathStyle = true.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Reset clears all state of this server (and only this one).
func (s *Server) Reset(tb testing.TB) {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("reset moto: %s", resp.Status)
	}
}

// String returns the server URL.
func (s *Server) String() string { return fmt.Sprintf("moto(%s)", s.URL) }
