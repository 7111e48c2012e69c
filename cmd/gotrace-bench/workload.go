package main

import (
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// workloadEnv asks the benchmark binary, re-executed, to act as the
// workload instead of running the suite (see runWorkloadChild).
const workloadEnv = "GOTRACE_BENCH_WORKLOAD"

// workloadComm is the workload thread's name, which the scripts with a
// comm predicate match.
const workloadComm = "gtbench"

// workload is a run of Calls getppid() system calls on one thread pinned
// to CPU, as fast as possible or, with Rate > 0, at Rate calls per second.
// getppid is the cheapest system call there is, so the tracer's cost is as
// large a part of each call as it can be.
type workload struct {
	Calls int
	Rate  float64
	CPU   int
}

// String is the form the child reads back with parseWorkload.
func (w workload) String() string {
	return fmt.Sprintf("calls=%d rate=%g cpu=%d", w.Calls, w.Rate, w.CPU)
}

// parseWorkload reads what workload.String wrote.
func parseWorkload(s string) (workload, error) {
	var w workload
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return w, fmt.Errorf("workload %q: %q is not key=value", s, f)
		}
		var err error
		switch k {
		case "calls":
			w.Calls, err = strconv.Atoi(v)
		case "rate":
			w.Rate, err = strconv.ParseFloat(v, 64)
		case "cpu":
			w.CPU, err = strconv.Atoi(v)
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return w, fmt.Errorf("workload %q: %s: %v", s, k, err)
		}
	}
	if w.Calls <= 0 {
		return w, fmt.Errorf("workload %q: calls must be positive", s)
	}
	return w, nil
}

// run starts the workload as a child process (exe, the benchmark binary,
// re-executed) and returns the mean CPU time of one call, as the child
// measured it around its loop (so process start and exit are not part of
// it). CPU time, the thread's CLOCK_THREAD_CPUTIME_ID, includes the BPF
// programs, which run in the system call, but unlike wall time it does not
// count the time other processes on a busy machine take the CPU away.
func (w workload) run(exe string) (nsPerCall float64, err error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), workloadEnv+"="+w.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("workload %v: %w", w, err)
	}
	return parseWorkloadOutput(string(out))
}

// parseWorkloadOutput reads the child's one line, "ns_per_call X".
func parseWorkloadOutput(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] != "ns_per_call" {
		return 0, fmt.Errorf("workload printed %q, want \"ns_per_call X\"", s)
	}
	return strconv.ParseFloat(f[1], 64)
}

// runWorkloadChild performs the workload spec on this thread and prints
// its mean time per call.
func runWorkloadChild(spec string) error {
	w, err := parseWorkload(spec)
	if err != nil {
		return err
	}
	// The thread's name and CPU are per thread: every call must come from
	// this one.
	goruntime.LockOSThread()
	var set unix.CPUSet
	set.Set(w.CPU % goruntime.NumCPU())
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pinning the workload to CPU %d: %w", w.CPU, err)
	}
	name, err := unix.BytePtrFromString(workloadComm)
	if err != nil {
		return err
	}
	err = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
	goruntime.KeepAlive(name)
	if err != nil {
		return fmt.Errorf("naming the workload thread: %w", err)
	}
	start, err := threadCPUTime()
	if err != nil {
		return err
	}
	getppidLoop(w.Calls, w.Rate)
	end, err := threadCPUTime()
	if err != nil {
		return err
	}
	fmt.Printf("ns_per_call %.2f\n", float64((end-start).Nanoseconds())/float64(w.Calls))
	return nil
}

// threadCPUTime is the CPU time the calling thread has used.
func threadCPUTime() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, fmt.Errorf("clock_gettime(CLOCK_THREAD_CPUTIME_ID): %w", err)
	}
	return time.Duration(ts.Nano()), nil
}

// paceEvery is how many calls a paced loop makes between looks at the
// clock: often enough to keep the rate even, rarely enough that reading
// the clock costs nothing next to the calls.
const paceEvery = 64

// getppidLoop makes n getppid() calls, at rate calls per second if rate is
// positive, and returns how long they took.
func getppidLoop(n int, rate float64) time.Duration {
	start := time.Now()
	if rate <= 0 {
		for range n {
			unix.Getppid()
		}
		return time.Since(start)
	}
	for i := 0; i < n; i++ {
		if i%paceEvery == 0 {
			due := start.Add(time.Duration(float64(i) / rate * 1e9))
			// A busy wait: sleeping would add system calls of its own
			// and wake up late.
			for time.Now().Before(due) {
			}
		}
		unix.Getppid()
	}
	return time.Since(start)
}
