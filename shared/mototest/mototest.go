// Package mototest starts a private moto server for integration tests, so the
// real AWS SDK v2 clients exercise the real wire protocol without an AWS
// account. Each test binary starts its own server on a free port and stops it
// when the test ends; no server is ever shared or reset under another process.
package mototest

import (
	"context"
	"testing"

	"github.com/denyfix/denyfix/shared/motoserver"
)

// Region is the region every client made by Config uses.
const Region = motoserver.Region

// Server is a running moto server owned by one test.
type Server struct {
	*motoserver.Server
}

// Start starts moto_server on a free loopback port and stops it when tb ends.
// It fails the test when moto_server is missing: integration tests are part of
// `make test`, which requires it.
func Start(tb testing.TB) *Server {
	tb.Helper()
	srv, err := motoserver.Start(context.Background())
	if err != nil {
		tb.Fatalf("moto: %v", err)
	}
	tb.Cleanup(srv.Stop)
	return &Server{srv}
}

// Reset clears all state of this server (and only this one).
func (s *Server) Reset(tb testing.TB) {
	tb.Helper()
	if err := s.Server.Reset(context.Background()); err != nil {
		tb.Fatal(err)
	}
}
