package probes

import (
	"github.com/gotrace/gotrace/lang/btf"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/runtime/userbin"
)

// TracepointSource answers the questions providers ask about tracepoints.
// *tracefs.FS implements it; tests substitute format files from testdata.
type TracepointSource interface {
	Match(category, name string) ([]tracefs.Tracepoint, error)
	Format(category, name string) (*tracefs.Format, error)
}

// Env is what providers need from the machine. The zero Env describes the
// running machine: it opens tracefs (mounting it when needed) the first
// time a tracepoint is resolved, reads kernel functions and the kernel's
// BTF when a kprobe or fentry is, and probes kernel features when asked.
type Env struct {
	Tracepoints TracepointSource
	// Functions lists kernel functions (kprobe, fentry).
	Functions FunctionSource
	// Kernel holds the kernel's types, for fentry and fexit prototypes.
	// The runtime shares the library's, so that types compare equal.
	Kernel *btf.Kernel
	// Features says what the running kernel can attach.
	Features FeatureSource
	// PID, if not zero, is the process a script traces (-p): probes on
	// user-space programs find their files as that process does, in its
	// root directory and among the libraries it has loaded.
	PID int
	// Child says that the script runs with a command (-c) whose PID is
	// known only when the run starts it: watchpoints then watch that
	// process, as they watch the -p process.
	Child bool

	// binaries are the ELF files of user probes, read once, by path.
	binaries map[string]*userbin.Binary
}

func (e *Env) tracepoints() (TracepointSource, error) {
	if e.Tracepoints == nil {
		fs, err := tracefs.Open()
		if err != nil {
			return nil, err
		}
		e.Tracepoints = &listedTracepoints{FS: fs}
	}
	return e.Tracepoints, nil
}

// listedTracepoints is tracefs with what a script's probes ask about read
// once: the list of tracepoints, which wildcards match against (reading
// and sorting available_events for each probe made resolving ten probes
// take tens of milliseconds), the tracepoints named without wildcards
// that were found, and the format of each tracepoint, which every probe
// on it reads.
type listedTracepoints struct {
	*tracefs.FS
	all     []tracefs.Tracepoint
	found   map[tracefs.Tracepoint]bool
	formats map[tracefs.Tracepoint]*tracefs.Format
}

// Match looks a name without wildcards up directly (see tracefs.Lookup):
// the list is read only for a wildcard, or for a name that is not found.
func (l *listedTracepoints) Match(category, name string) ([]tracefs.Tracepoint, error) {
	tp := tracefs.Tracepoint{Category: category, Name: name}
	if l.found[tp] {
		return []tracefs.Tracepoint{tp}, nil
	}
	if tps, ok := l.FS.Lookup(category, name); ok {
		if l.found == nil {
			l.found = map[tracefs.Tracepoint]bool{}
		}
		l.found[tp] = true
		return tps, nil
	}
	if l.all == nil {
		all, err := l.FS.Tracepoints()
		if err != nil {
			return nil, err
		}
		l.all = all
	}
	return tracefs.Filter(l.all, category, name)
}

// Format reads a tracepoint's format the first time it is asked for. The
// Format is shared: callers only read it.
func (l *listedTracepoints) Format(category, name string) (*tracefs.Format, error) {
	tp := tracefs.Tracepoint{Category: category, Name: name}
	if f, ok := l.formats[tp]; ok {
		return f, nil
	}
	f, err := l.FS.Format(category, name)
	if err != nil {
		return nil, err
	}
	if l.formats == nil {
		l.formats = map[tracefs.Tracepoint]*tracefs.Format{}
	}
	l.formats[tp] = f
	return f, nil
}

func (e *Env) functions() FunctionSource {
	if e.Functions == nil {
		e.Functions = &MachineFunctions{}
	}
	return e.Functions
}

func (e *Env) kernel() *btf.Kernel {
	if e.Kernel == nil {
		e.Kernel = btf.NewKernel()
	}
	return e.Kernel
}

func (e *Env) features() FeatureSource {
	if e.Features == nil {
		e.Features = &MachineFeatures{Env: e}
	}
	return e.Features
}
