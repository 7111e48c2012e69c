package probes

import (
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// TracepointSource answers the questions providers ask about tracepoints.
// *tracefs.FS implements it; tests substitute format files from testdata.
type TracepointSource interface {
	Match(category, name string) ([]tracefs.Tracepoint, error)
	Format(category, name string) (*tracefs.Format, error)
}

// Env is what providers need from the machine. The zero Env opens tracefs
// (mounting it when needed) the first time a tracepoint is resolved.
type Env struct {
	Tracepoints TracepointSource
}

func (e *Env) tracepoints() (TracepointSource, error) {
	if e.Tracepoints == nil {
		fs, err := tracefs.Open()
		if err != nil {
			return nil, err
		}
		e.Tracepoints = fs
	}
	return e.Tracepoints, nil
}
