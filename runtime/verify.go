package runtime

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf"
)

// ProgramStats describes one program as the kernel loaded it (or refused
// to). Identical programs (a wildcard probe's often are) are loaded once
// and described once.
type ProgramStats struct {
	// Name is the program's name in the kernel.
	Name string
	// Probes are the probes the program runs for.
	Probes []string
	// Instructions is the number of BPF instructions gotrace generated.
	Instructions int
	// Translated is the size in bytes of the program after the kernel's
	// rewrites, JITed that of its machine code, and Verified the number of
	// instructions the verifier processed; 0 when the kernel does not say.
	Translated int
	JITed      uint32
	Verified   uint32
	// Log is the verifier's log, as much of it as was asked for: with
	// ebpf.LogLevelStats only its statistics ("processed N insns ...",
	// "verification time", "stack depth").
	Log []string
	// Err says why the program did not load (Verify only); it names the
	// probe and the source line the verifier stopped at.
	Err error
}

// VerifyOptions configure Verify. The verifier's log of a program that
// fails to load is always kept.
type VerifyOptions struct {
	// Stats keeps the verifier's statistics in ProgramStats.Log.
	Stats bool
	// FullLog keeps its whole log (it can be long), statistics included.
	FullLog bool
	// ChildPID is the value of cpid in the programs.
	ChildPID int
}

// logLevel is the verifier log level that gives what opts ask for.
func (opts VerifyOptions) logLevel() ebpf.LogLevel {
	switch {
	case opts.FullLog:
		return ebpf.LogLevelBranch | ebpf.LogLevelInstruction | ebpf.LogLevelStats
	case opts.Stats:
		return ebpf.LogLevelStats
	}
	return 0
}

// Verify loads every program of the script into the kernel, each on its
// own (so that every failure is reported, not only the first), and
// unloads them; nothing is attached and nothing runs, so this works for
// probes that cannot be attached on this machine. It returns one
// ProgramStats per program loaded; the error is for failures other than a
// program's (privileges, maps). A program that the verifier rejects only
// because of a loop it cannot walk is verified as Run would retry it,
// with its loops as callbacks. Probes on one target are verified one by
// one: a run chains them into one program (see Script.load), and loads
// them one by one when the kernel refuses the chain.
func (s *Script) Verify(opts VerifyOptions) ([]ProgramStats, error) {
	if err := CheckPrivileges(); err != nil {
		return nil, err
	}
	stats, err := s.verify(opts)
	if err != nil || !failed(stats) || !s.hasPlainLoops() {
		return stats, err
	}
	again, cerr := s.withLoopCallbacks()
	if cerr != nil {
		return stats, nil
	}
	if stats2, err2 := again.verify(opts); err2 == nil && !failed(stats2) {
		return stats2, nil
	}
	return stats, nil
}

// failed reports whether some program did not load.
func failed(stats []ProgramStats) bool {
	for _, st := range stats {
		if st.Err != nil {
			return true
		}
	}
	return false
}

func (s *Script) verify(opts VerifyOptions) ([]ProgramStats, error) {
	removeMemlock()
	mapsSpec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}}
	for ref, m := range s.Code.Specs {
		mapsSpec.Maps[ref] = m.Copy()
	}
	maps, err := ebpf.NewCollection(mapsSpec)
	if err != nil {
		return nil, s.explainLoadError(err, nil)
	}
	defer maps.Close()
	progs, names, _, _ := s.programSpecs(loadConfig{startNS: monotonicNow(), childPID: opts.ChildPID}, false)
	var stats []ProgramStats
	for _, name := range uniqueNames(names) {
		st := s.describe(name, names, progs)
		spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{name: progs[name]}}
		for ref, m := range s.Code.Specs {
			spec.Maps[ref] = m.Copy()
		}
		coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
			MapReplacements: maps.Maps,
			Programs:        ebpf.ProgramOptions{LogLevel: opts.logLevel()},
		})
		if err != nil {
			var ve *ebpf.VerifierError
			if errors.As(err, &ve) {
				st.Log = ve.Log
			}
			st.Err = s.explainLoadError(err, names)
			if ve == nil {
				if ferr := s.missingFeature(name, names); ferr != nil {
					st.Err = ferr
				}
			}
		} else {
			fillStats(&st, coll.Programs[name])
			coll.Close()
		}
		stats = append(stats, st)
	}
	return stats, nil
}

// loadedStats describes the programs of a loaded script.
func (s *Script) loadedStats(l *loaded) []ProgramStats {
	progs, names, _, _ := s.programSpecs(loadConfig{}, l.chained)
	var stats []ProgramStats
	for _, name := range uniqueNames(names) {
		st := s.describe(name, names, progs)
		for i, n := range names {
			if n == name {
				fillStats(&st, l.progs[i])
				break
			}
		}
		stats = append(stats, st)
	}
	return stats
}

// uniqueNames lists the distinct load names, in order.
func uniqueNames(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// missingFeature explains why the program loaded as name could not be
// loaded at all (an error other than the verifier's) when the kernel
// lacks what its probes need: fentry and fexit programs do not load on
// a kernel that refuses BPF trampolines, and saying so beats the bare
// EPERM. It returns nil when the kernel has the feature.
func (s *Script) missingFeature(name string, names []string) error {
	for i, n := range names {
		t := s.Code.Programs[i].Target
		if n != name || t.Provider.Require == nil {
			continue
		}
		return t.Provider.Require(s.env, t)
	}
	return nil
}

// describe starts the ProgramStats of the program loaded as name.
func (s *Script) describe(name string, names []string, progs map[string]*ebpf.ProgramSpec) ProgramStats {
	st := ProgramStats{Instructions: len(progs[name].Instructions)}
	seen := map[string]bool{}
	for i, n := range names {
		if n != name {
			continue
		}
		p := s.Code.Programs[i]
		if st.Name == "" {
			st.Name = p.Spec.Name
		}
		// The probes of a chain are on one target, named once.
		if !seen[p.Target.Name] {
			seen[p.Target.Name] = true
			st.Probes = append(st.Probes, p.Target.Name)
		}
	}
	return st
}

// fillStats adds what the kernel says about a loaded program.
func fillStats(st *ProgramStats, p *ebpf.Program) {
	if p == nil {
		return
	}
	for _, line := range strings.Split(p.VerifierLog, "\n") {
		if strings.TrimSpace(line) != "" {
			st.Log = append(st.Log, line)
		}
	}
	info, err := p.Info()
	if err != nil {
		return
	}
	if n, err := info.TranslatedSize(); err == nil {
		st.Translated = n
	}
	if n, err := info.JitedSize(); err == nil {
		st.JITed = n
	}
	if n, ok := info.VerifiedInstructions(); ok {
		st.Verified = n
	}
}

// WriteProgramStats writes stats as -v shows them, one paragraph per
// program:
//
//	program tracepoint_1 for tracepoint:syscalls:sys_enter_openat: 58 instructions, 464 bytes translated, 318 bytes JITed
//	  verifier: processed 57 insns (limit 1000000) max_states_per_insn 0 total_states 4 peak_states 4 mark_read 2
//	  verifier: verification time 47 usec
//	  verifier: stack depth 16
//
// Programs that failed to load show their error instead.
func WriteProgramStats(w io.Writer, stats []ProgramStats) {
	for _, st := range stats {
		fmt.Fprintf(w, "program %s for %s: %d instructions", st.Name, strings.Join(st.Probes, ", "), st.Instructions)
		if st.Err != nil {
			fmt.Fprintf(w, ", not loaded\n%v\n", st.Err)
			continue
		}
		if st.Translated > 0 {
			fmt.Fprintf(w, ", %d bytes translated", st.Translated)
		}
		if st.JITed > 0 {
			fmt.Fprintf(w, ", %d bytes JITed", st.JITed)
		}
		fmt.Fprintln(w)
		if st.Verified > 0 && !logHas(st.Log, "processed ") {
			fmt.Fprintf(w, "  verifier: processed %d insns\n", st.Verified)
		}
		for _, line := range st.Log {
			fmt.Fprintf(w, "  verifier: %s\n", line)
		}
	}
}

// logHas reports whether a log line starts with prefix.
func logHas(log []string, prefix string) bool {
	for _, l := range log {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
