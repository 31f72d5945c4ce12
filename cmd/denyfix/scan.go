package main

import (
	"context"
	"fmt"
)

func runScan(ctx context.Context, io stdio, args []string) int {
	fmt.Fprintln(io.err, "denyfix scan: not built yet")
	return exitInternal
}
