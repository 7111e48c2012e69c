package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// WriteInfo writes what gotrace finds out about the kernel (--info): the
// kernel and its BTF, which kinds of probe can be used, and which BPF
// program types, map types, helpers and verifier features the kernel
// offers, probed with github.com/cilium/ebpf/features (that is, by
// loading small programs and creating small maps). It needs the
// privileges CheckPrivileges checks.
func WriteInfo(w io.Writer) error {
	if err := CheckPrivileges(); err != nil {
		return err
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	fmt.Fprintf(w, "Kernel\n")
	fmt.Fprintf(w, "  release: %s\n", unix.ByteSliceToString(uts.Release[:]))
	fmt.Fprintf(w, "  version: %s\n", unix.ByteSliceToString(uts.Version[:]))
	fmt.Fprintf(w, "  machine: %s\n", unix.ByteSliceToString(uts.Machine[:]))
	btfState := "yes (/sys/kernel/btf/vmlinux)"
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		btfState = "no (kernel types need CONFIG_DEBUG_INFO_BTF=y): " + err.Error()
	}
	fmt.Fprintf(w, "  BTF: %s\n", btfState)
	tracefsState := ""
	if fs, err := tracefs.Open(); err != nil {
		tracefsState = "no: " + firstLine(err.Error())
	} else {
		tracefsState = fs.Root()
	}
	fmt.Fprintf(w, "  tracefs: %s\n", tracefsState)
	if b, err := os.ReadFile("/proc/sys/net/core/bpf_jit_enable"); err == nil {
		fmt.Fprintf(w, "  JIT: %s\n", map[bool]string{true: "yes", false: "no"}[strings.TrimSpace(string(b)) != "0"])
	}

	fmt.Fprintf(w, "\nProbe kinds\n")
	probe := func(name string, err error) {
		fmt.Fprintf(w, "  %s: %s\n", name, verdict(err))
	}
	probe("BEGIN, END", features.HaveProgramType(ebpf.RawTracepoint))
	probe("tracepoint", errors.Join(features.HaveProgramType(ebpf.TracePoint), tracefsErr(tracefsState)))
	probe("rawtracepoint", features.HaveProgramType(ebpf.RawTracepoint))
	probe("interval, profile, software", errors.Join(features.HaveProgramType(ebpf.PerfEvent), pmuErr("software")))
	probe("hardware", errors.Join(features.HaveProgramType(ebpf.PerfEvent), hardwareErr()))
	probe("kprobe, kretprobe", errors.Join(features.HaveProgramType(ebpf.Kprobe), kprobeErr()))
	probe("fentry, fexit", haveFentry())
	probe("uprobe, uretprobe, usdt (kernel support)", errors.Join(features.HaveProgramType(ebpf.Kprobe), pmuErr("uprobe")))
	probe("watchpoint (hardware breakpoints)", errors.Join(features.HaveProgramType(ebpf.PerfEvent), pmuErr("breakpoint")))

	fmt.Fprintf(w, "\nProgram types\n")
	for _, pt := range []struct {
		name string
		t    ebpf.ProgramType
	}{
		{"kprobe", ebpf.Kprobe}, {"tracepoint", ebpf.TracePoint}, {"raw_tracepoint", ebpf.RawTracepoint},
		{"perf_event", ebpf.PerfEvent}, {"tracing", ebpf.Tracing}, {"syscall", ebpf.Syscall},
	} {
		probe(pt.name, features.HaveProgramType(pt.t))
	}

	fmt.Fprintf(w, "\nMap types\n")
	for _, mt := range []struct {
		name string
		t    ebpf.MapType
	}{
		{"hash", ebpf.Hash}, {"percpu_hash", ebpf.PerCPUHash}, {"array", ebpf.Array}, {"percpu_array", ebpf.PerCPUArray},
		{"lru_hash", ebpf.LRUHash}, {"ringbuf", ebpf.RingBuf}, {"perf_event_array", ebpf.PerfEventArray},
		{"stack_trace", ebpf.StackTrace},
	} {
		probe(mt.name, features.HaveMapType(mt.t))
	}

	fmt.Fprintf(w, "\nHelpers (in tracepoint programs)\n")
	for _, fn := range []asm.BuiltinFunc{
		asm.FnProbeReadKernel, asm.FnProbeReadKernelStr, asm.FnProbeReadUser, asm.FnProbeReadUserStr,
		asm.FnRingbufReserve, asm.FnRingbufOutput, asm.FnGetCurrentTask, asm.FnGetCurrentCgroupId,
		asm.FnGetStackid, asm.FnSendSignal, asm.FnLoop, asm.FnForEachMapElem, asm.FnJiffies64,
		asm.FnGetFuncIp, asm.FnOverrideReturn, asm.FnDPath,
	} {
		probe(helperName(fn), features.HaveProgramHelper(ebpf.TracePoint, fn))
	}

	fmt.Fprintf(w, "\nVerifier\n")
	probe("bounded loops", features.HaveBoundedLoops())
	probe("large programs (1M instructions)", features.HaveLargeInstructions())
	probe("ISA v3", features.HaveV3ISA())
	probe("ISA v4", features.HaveV4ISA())
	return nil
}

// verdict turns a probe's result into "yes" or "no (why)".
func verdict(err error) string {
	switch {
	case err == nil:
		return "yes"
	case errors.Is(err, ebpf.ErrNotSupported):
		return "no"
	}
	return "no (" + firstLine(err.Error()) + ")"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// tracefsErr is an error when tracefs is not available.
func tracefsErr(state string) error {
	if strings.HasPrefix(state, "no: ") {
		return errors.New("tracefs: " + strings.TrimPrefix(state, "no: "))
	}
	return nil
}

// pmuErr is an error unless the kernel has the perf event source name.
func pmuErr(name string) error {
	if _, err := os.Stat("/sys/bus/event_source/devices/" + name); err != nil {
		return fmt.Errorf("no %s perf event source", name)
	}
	return nil
}

// hardwareErr is an error unless the CPU's performance counters can
// sample cpu-cycles, which every PMU counts.
func hardwareErr() error {
	ev, _ := perf.LookupHardware("cpu-cycles")
	err := (&probes.MachineFeatures{}).Hardware(ev)
	var mf *probes.MissingFeature
	if errors.As(err, &mf) {
		return errors.New(mf.Why)
	}
	return err
}

// kprobeErr is an error unless kprobes can be created, through the kprobe
// perf event source or tracefs's kprobe_events.
func kprobeErr() error {
	if pmuErr("kprobe") == nil {
		return nil
	}
	if fs, err := tracefs.Open(); err == nil {
		if _, err := os.Stat(fs.Root() + "/kprobe_events"); err == nil {
			return nil
		}
	}
	return errors.New("the kernel has no kprobes (CONFIG_KPROBES)")
}

// haveFentry tries to attach an fentry program to bpf_fentry_test1, a
// kernel function that exists for such tests and runs only in them.
func haveFentry() error {
	if err := features.HaveProgramType(ebpf.Tracing); err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.Tracing,
		AttachType:   ebpf.AttachTraceFEntry,
		AttachTo:     "bpf_fentry_test1",
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return fmt.Errorf("loading a test program: %w", err)
	}
	defer prog.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		return fmt.Errorf("attaching a test program: %w", err)
	}
	return l.Close()
}
