package runtime_test

import (
	"bytes"
	"context"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// hardwareScript samples with a hardware event, using the builtins that
// perf event probes offer, after a BEGIN that prints.
const hardwareScript = `BEGIN { printf("begin\n"); }
hardware:cycles:100000 {
	@samples[cpu, comm, probe] = count();
	@stacks[kstack] = count();
	exit();
}`

// noCountersError is gotrace's error for hardwareScript on a machine whose
// CPUs have no performance counters: perf_event_open fails with ENOENT for
// every hardware event, and on x86 the kernel lists no cpu PMU.
func noCountersError() string {
	why := "no hardware performance counters: perf_event_open fails with ENOENT"
	if goruntime.GOARCH == "amd64" || goruntime.GOARCH == "386" {
		why += ", and /sys/bus/event_source/devices has no cpu PMU"
	}
	return "hardware:cycles:100000: this kernel cannot count hardware events (" + why + "); software events work: gotrace -l 'software:*'"
}

// TestHardwareProbe verifies a hardware probe's program (which loads
// whether or not the CPU has counters) and runs it: where the CPU has no
// counters (the development machine, most VMs), a run and a dry run fail
// with the one-line error before anything is loaded or attached, BEGIN
// not run; where it has them, the probe samples this process's spinning.
func TestHardwareProbe(t *testing.T) {
	kerneltest.Require(t)
	s, err := runtime.Compile("-e", hardwareScript, runtime.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := s.Verify(runtime.VerifyOptions{Stats: true})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var probes []string
	for _, st := range stats {
		if st.Err != nil {
			t.Errorf("program %s: %v", st.Name, st.Err)
		}
		probes = append(probes, st.Probes...)
	}
	if got := strings.Join(probes, " "); got != "BEGIN hardware:cpu-cycles:100000" {
		t.Errorf("verified programs for %s, want BEGIN and hardware:cpu-cycles:100000", got)
	}

	if err := kerneltest.HasFeature(kerneltest.Hardware); err != nil {
		t.Log(err)
		for _, dry := range []bool{true, false} {
			var stdout, stderr bytes.Buffer
			status, err := s.Run(context.Background(), runtime.RunOptions{DryRun: dry, Stdout: &stdout, Stderr: &stderr})
			if err == nil || err.Error() != noCountersError() || status != 1 {
				t.Errorf("dry run %v: got status %d, error %v; want status 1, error\n%s", dry, status, err, noCountersError())
			}
			if stdout.Len() != 0 || stderr.Len() != 0 {
				t.Errorf("dry run %v: printed %q and %q", dry, stdout.String(), stderr.String())
			}
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	status, err := s.Run(ctx, runtime.RunOptions{Stdout: &stdout, Stderr: &stderr, OnAttached: func() {
		for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
		}
	}})
	if err != nil || status != 0 || ctx.Err() != nil {
		t.Fatalf("run: status %d, %v (timed out: %v); stderr %s", status, err, ctx.Err(), stderr.String())
	}
	if out := stdout.String(); !strings.HasPrefix(out, "begin\n") || !strings.Contains(out, ", hardware:cpu-cycles:100000]: ") {
		t.Errorf("unexpected output:\n%s", out)
	}
}
