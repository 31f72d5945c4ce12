package main

import (
	"context"
	"fmt"
)

func runDiagnose(ctx context.Context, io stdio, args []string) int {
	fmt.Fprintln(io.err, "denyfix diagnose: not built yet")
	return exitInternal
}
