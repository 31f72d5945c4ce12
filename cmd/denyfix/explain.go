package main

import (
	"context"
	"fmt"
)

func runExplain(ctx context.Context, io stdio, args []string) int {
	fmt.Fprintln(io.err, "denyfix explain: not built yet")
	return exitInternal
}
