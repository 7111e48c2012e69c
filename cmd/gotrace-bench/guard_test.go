package main

import (
	"context"
	"io"
	"os"
	goruntime "runtime"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// guardScript is the script whose per-event cost the guard watches.
const guardScript = `tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }`

// guardBaselineRatio is guardScript's per-event cost over the baseline
// program's (a per-CPU array increment), as measured when the guard was
// set: the median ratio of 10 runs of TestPerEventGuard, on the 2-CPU AMD
// EPYC VM with Linux 6.18 the README's table comes from. When the code
// generator gets faster, lower it to the new ratio (the test logs it) so
// that the guard keeps the gain; raising it accepts a regression.
const guardBaselineRatio = 3.12

// guardTolerance is how much worse than guardBaselineRatio the ratio may
// get before the test fails: issue 7 asks for a guard against regressions
// of more than 20%.
const guardTolerance = 1.20

// Guard measurement sizes: rounds of callsPerRound getppid() calls, the
// median of the rounds' ratios counts. A round is a few hundred
// milliseconds; nine of them keep the test to a few seconds and leave a
// one-off disturbance (a burst of load from elsewhere) in the tails.
const (
	guardRounds   = 9
	callsPerRound = 300_000
)

// TestPerEventGuard fails when gotrace's per-event cost for guardScript
// grows by more than 20% against a baseline program measured in the same
// run. The two programs are attached to the same tracepoint at the same
// time, so every event runs both, on the same CPU, at the same clock speed
// and under the same load: their ratio is what the code generator
// controls, and absolute times, which vary from machine to machine and
// moment to moment, cancel out.
func TestPerEventGuard(t *testing.T) {
	kerneltest.Require(t)
	stats, err := enableStats()
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()

	base, err := loadBaseline()
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	baseInfo, err := base.prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	baseID, _ := baseInfo.ID()

	gotraceIDs, stop := startInProcess(t, guardScript)
	defer stop()

	var ratios []float64
	for round := range guardRounds {
		before, err := readSnapshot(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		syscallBurst(callsPerRound)
		after, err := readSnapshot(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		gns, gruns := perEvent(before.only(gotraceIDs), after.only(gotraceIDs))
		bns, bruns := perEvent(before.only(map[uint32]bool{uint32(baseID): true}), after.only(map[uint32]bool{uint32(baseID): true}))
		if gruns < callsPerRound || bruns < callsPerRound {
			t.Fatalf("round %d: gotrace's programs ran %d times, the baseline %d, for %d calls", round, gruns, bruns, callsPerRound)
		}
		ratios = append(ratios, gns/bns)
		t.Logf("round %d: gotrace %.1f ns/event, baseline %.1f ns/event, ratio %.3f", round, gns, bns, gns/bns)
	}
	got := median(ratios)
	slices.Sort(ratios)
	t.Logf("ratio: median %.3f (min %.3f, max %.3f); committed baseline %.3f, limit %.3f",
		got, ratios[0], ratios[len(ratios)-1], guardBaselineRatio, guardBaselineRatio*guardTolerance)
	if got > guardBaselineRatio*guardTolerance {
		t.Errorf("%s costs %.2fx the baseline program per event, more than %.0f%% above the committed %.2fx: the generated code got slower (if that is intended, raise guardBaselineRatio)",
			guardScript, got, (guardTolerance-1)*100, guardBaselineRatio)
	}
}

// baseline is the yardstick program, attached to sys_enter: a per-CPU
// array lookup and an increment, the usual way to count. It is a fixed
// piece of code, not a floor (gotrace's `@ = count()` is a little cheaper).
type baseline struct {
	m    *ebpf.Map
	prog *ebpf.Program
	l    link.Link
}

func loadBaseline() (*baseline, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return nil, err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.TracePoint,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		},
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	l, err := link.Tracepoint("raw_syscalls", "sys_enter", prog, nil)
	if err != nil {
		prog.Close()
		m.Close()
		return nil, err
	}
	return &baseline{m: m, prog: prog, l: l}, nil
}

func (b *baseline) Close() {
	b.l.Close()
	b.prog.Close()
	b.m.Close()
}

// startInProcess compiles and runs a script in this process and returns,
// once it is attached, the IDs of the programs it loaded (those that
// appeared in this process's fdinfo) and a function that ends the run.
func startInProcess(t *testing.T, text string) (ids map[uint32]bool, stop func()) {
	t.Helper()
	s, err := runtime.Compile("guard", text, runtime.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before, err := fdinfoPrograms(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	attached := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Run(ctx, runtime.RunOptions{Stdout: io.Discard, Stderr: io.Discard, Quiet: true,
			OnAttached: func() { close(attached) }})
		done <- err
	}()
	select {
	case <-attached:
	case err := <-done:
		cancel()
		t.Fatalf("the script ended before attaching: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the script did not attach within 30 s")
	}
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	after, err := fdinfoPrograms(os.Getpid())
	if err != nil {
		stop()
		t.Fatal(err)
	}
	ids = map[uint32]bool{}
	for id := range after {
		if !before[id] {
			ids[id] = true
		}
	}
	if len(ids) == 0 {
		stop()
		t.Fatal("found none of the script's programs in /proc/self/fdinfo")
	}
	return ids, stop
}

// syscallBurst makes n getppid() calls from one OS thread, so that the
// Go scheduler does not add system calls of its own in the middle.
func syscallBurst(n int) {
	done := make(chan struct{})
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		for range n {
			unix.Getppid()
		}
		close(done)
	}()
	<-done
}

// fdinfoPrograms lists the program IDs of /proc/PID/fdinfo, so that the
// guard can tell the programs a script loaded in its process from the
// ones it loaded itself.
func fdinfoPrograms(pid int) (map[uint32]bool, error) {
	snap, err := readSnapshot(pid)
	if err != nil {
		return nil, err
	}
	ids := map[uint32]bool{}
	for id := range snap {
		ids[id] = true
	}
	return ids, nil
}
