// Package events carries denyfix's sample events inside the binaries that
// import it, so they need no checkout at run time: CloudTrail denials as
// EventBridge delivers them (s3-*, denial-*), events denyfix must ignore
// (ignored-*), and events on the denyfix bus (bus-*). `denyfix demo` replays
// them; `sam local invoke` and the tests read the same files.
package events

import (
	"embed"
	"io/fs"
)

//go:embed *.json
var files embed.FS

// FS holds every sample event file of this directory, by file name (e.g.
// "s3-kms.json"), at its root.
var FS fs.FS = files
