// Package motoserver runs a private moto server: a local stand-in for AWS
// that speaks the real wire protocols. `denyfix demo` runs the whole
// pipeline against one, and the integration tests (through package
// mototest) do too. Each caller starts its own server on a free loopback
// port; nothing is shared with, or reset under, another process.
package motoserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region of the configuration Config returns.
const Region = "us-east-1"

// Server is a running moto server.
type Server struct {
	// URL is the server's endpoint, e.g. http://127.0.0.1:40123.
	URL string
	cmd *exec.Cmd
}

var listening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// ErrNotInstalled means moto_server is not on PATH.
var ErrNotInstalled = errors.New("moto_server not found on PATH (pip install 'moto[server]')")

// Start starts moto_server on a free loopback port and waits until it
// answers. Stop it with Stop.
func Start(ctx context.Context) (*Server, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{cmd: cmd}

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // keep draining so moto never blocks on a full pipe
	}()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	select {
	case s.URL = <-found:
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("moto_server did not report its address: %w", ctx.Err())
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/data.json", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("moto_server at %s did not answer: %w", s.URL, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop kills the server and its children.
func (s *Server) Stop() {
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
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: %s", resp.Status)
	}
	return nil
}
