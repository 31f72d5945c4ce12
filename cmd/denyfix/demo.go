package main

import (
	"context"
	"fmt"
)

func runDemo(ctx context.Context, io stdio, args []string) int {
	fmt.Fprintln(io.err, "denyfix demo: not built yet")
	return exitInternal
}
