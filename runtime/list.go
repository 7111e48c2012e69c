package runtime

import (
	"fmt"
	"path"
	"strings"

	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// ListProbes returns the names of the probes the machine offers that match
// pattern: a glob over the full name ("tracepoint:sched:*") or, without
// wildcard characters, a substring ("openat"). An empty pattern lists all.
func ListProbes(pattern string) ([]string, error) {
	var all []string
	for _, name := range []string{"BEGIN", "END"} {
		all = append(all, name)
	}
	for _, ev := range perf.SoftwareEvents() {
		all = append(all, "software:"+ev.Name+":")
	}
	fs, err := tracefs.Open()
	if err != nil {
		return nil, err
	}
	tps, err := fs.Tracepoints()
	if err != nil {
		return nil, err
	}
	for _, tp := range tps {
		all = append(all, "tracepoint:"+tp.Category+":"+tp.Name)
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("bad pattern %q: %v", pattern, err)
	}
	var out []string
	for _, n := range all {
		if matchProbe(pattern, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func matchProbe(pattern, name string) bool {
	if pattern == "" {
		return true
	}
	if !strings.ContainsAny(pattern, "*?[") {
		return strings.Contains(name, pattern)
	}
	// Short aliases in the pattern mean their provider.
	if i := strings.IndexByte(pattern, ':'); i > 0 {
		switch pattern[:i] {
		case "t":
			pattern = "tracepoint" + pattern[i:]
		case "s":
			pattern = "software" + pattern[i:]
		}
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
