package tracefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Tracepoint names one kernel tracepoint, written "Category:Name" by
// bpftrace (tracepoint:sched:sched_switch).
type Tracepoint struct {
	Category, Name string
}

// String returns "category:name".
func (tp Tracepoint) String() string { return tp.Category + ":" + tp.Name }

// compare orders tracepoints by category, then name.
func compareTracepoints(a, b Tracepoint) int {
	if c := strings.Compare(a.Category, b.Category); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Tracepoints lists every tracepoint that can be attached to, sorted by
// category and name.
//
// The list comes from available_events, which is exactly the set a
// tracepoint probe can use. If that file is missing the events directory is
// walked instead; there an event counts only if it has an "enable" file,
// which, as in available_events, leaves out the ftrace-internal events
// (ftrace:function, ftrace:print, ...) that cannot be enabled.
func (fs *FS) Tracepoints() ([]Tracepoint, error) {
	data, err := os.ReadFile(fs.path("available_events"))
	var tps []Tracepoint
	switch {
	case err == nil:
		tps, err = parseAvailableEvents(data)
	case errors.Is(err, os.ErrNotExist):
		tps, err = fs.walkEvents()
	}
	if err != nil {
		return nil, fmt.Errorf("tracefs: listing tracepoints: %w", err)
	}
	slices.SortFunc(tps, compareTracepoints)
	return slices.Compact(tps), nil
}

// parseAvailableEvents parses lines of the form "category:name".
func parseAvailableEvents(data []byte) ([]Tracepoint, error) {
	var tps []Tracepoint
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		cat, name, ok := strings.Cut(line, ":")
		if !ok || cat == "" || name == "" {
			return nil, fmt.Errorf("available_events line %d: %q is not category:name", n, line)
		}
		tps = append(tps, Tracepoint{Category: cat, Name: name})
	}
	return tps, sc.Err()
}

// walkEvents lists events/<category>/<name>/ directories that have an
// enable file.
func (fs *FS) walkEvents() ([]Tracepoint, error) {
	cats, err := os.ReadDir(fs.path("events"))
	if err != nil {
		return nil, err
	}
	var tps []Tracepoint
	for _, cat := range cats {
		if !cat.IsDir() {
			continue // enable, header_page, header_event
		}
		names, err := os.ReadDir(fs.path("events", cat.Name()))
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if !name.IsDir() {
				continue // enable, filter
			}
			if !isFile(fs.path("events", cat.Name(), name.Name(), "enable")) {
				continue
			}
			tps = append(tps, Tracepoint{Category: cat.Name(), Name: name.Name()})
		}
	}
	return tps, nil
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&fs.ModeType == 0
}

// Exists reports whether the tracepoint category:name exists (has a format
// file). It does not expand wildcards; use Match for that.
func (fs *FS) Exists(category, name string) bool {
	if validName("category", category) != nil || validName("name", name) != nil {
		return false
	}
	return isFile(fs.path("events", category, name, "format"))
}

// eventFile returns the path of a file in an event's directory, rejecting
// names that could escape the events directory.
func (fs *FS) eventFile(category, name, file string) (string, error) {
	if err := validName("category", category); err != nil {
		return "", err
	}
	if err := validName("name", name); err != nil {
		return "", err
	}
	return filepath.Join(fs.root, "events", category, name, file), nil
}
