package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/codegen"
)

// loaded is a script whose maps and programs are in the kernel.
type loaded struct {
	coll *ebpf.Collection
	// progs[i] is the loaded program of script.Code.Programs[i]; identical
	// programs share one kernel program.
	progs []*ebpf.Program
}

// load puts the script's maps and programs into the kernel. startNS is the
// CLOCK_MONOTONIC time that `elapsed` counts from.
func (s *Script) load(startNS uint64) (*loaded, error) {
	spec := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{},
	}
	for ref, m := range s.Code.Specs {
		spec.Maps[ref] = m.Copy()
	}
	// Wildcard probes often produce identical programs; load each once.
	byText := map[string]string{}
	names := make([]string, len(s.Code.Programs))
	for i, p := range s.Code.Programs {
		ps := p.Spec.Copy()
		patchStartTime(ps, startNS)
		text := fmt.Sprintf("%d %v", ps.Type, ps.Instructions)
		if name, ok := byText[text]; ok {
			names[i] = name
			continue
		}
		name := fmt.Sprintf("p%d", i)
		byText[text] = name
		names[i] = name
		spec.Programs[name] = ps
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{})
	if err != nil {
		return nil, s.explainLoadError(err, names)
	}
	l := &loaded{coll: coll}
	for _, n := range names {
		l.progs = append(l.progs, coll.Programs[n])
	}
	return l, nil
}

func (l *loaded) close() {
	if l != nil && l.coll != nil {
		l.coll.Close()
	}
}

// patchStartTime fills in the constant `elapsed` subtracts.
func patchStartTime(ps *ebpf.ProgramSpec, startNS uint64) {
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		if ins.Reference() == codegen.StartTimeSymbol {
			ins.Constant = int64(startNS)
			*ins = ins.WithReference("")
		}
	}
}

// monotonicNow is the kernel's ktime_get_ns() clock, read from user space.
func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// explainLoadError turns a verifier rejection into a message that names the
// probe and the source line, with the verifier's own last words.
func (s *Script) explainLoadError(err error, names []string) error {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("loading BPF programs: %w\nhint: run as root, or grant CAP_BPF and CAP_PERFMON", err)
		}
		return fmt.Errorf("loading BPF programs: %w", err)
	}
	probe := "a probe"
	for i, n := range names {
		if strings.Contains(err.Error(), n) {
			probe = s.Code.Programs[i].Target.Name
			break
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the kernel's verifier rejected the program for %s", probe)
	log := ve.Log
	for i := len(log) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(log[i]); strings.HasPrefix(l, "; ") {
			fmt.Fprintf(&b, "\nwhile running: %s", strings.TrimPrefix(l, "; "))
			break
		}
	}
	tail := log
	if len(tail) > 6 {
		tail = tail[len(tail)-6:]
	}
	b.WriteString("\nverifier:")
	for _, l := range tail {
		fmt.Fprintf(&b, "\n  %s", l)
	}
	return errors.New(b.String())
}
