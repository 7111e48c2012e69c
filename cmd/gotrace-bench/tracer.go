package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tool is one of the two tracers.
type tool struct {
	Name string // "gotrace" or "bpftrace"
	Path string
}

// compileArgs are the arguments that compile a script file without loading
// it: gotrace -d ast (compiles fully, code generation included, then
// prints the syntax tree), bpftrace --emit-elf (compiles with LLVM and
// writes the object file). Both are a dry run from exec to exit.
func (t tool) compileArgs(script, dir string) []string {
	if t.Name == "gotrace" {
		return []string{"-d", "ast", script}
	}
	return []string{"--emit-elf", filepath.Join(dir, "out.o"), script}
}

// version runs the tool's -V.
func (t tool) version() string {
	out, err := exec.Command(t.Path, "-V").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// tracerProc is a tracer process the benchmark started.
type tracerProc struct {
	tool    tool
	cmd     *exec.Cmd
	started time.Time
	stderr  *bytes.Buffer
	// done is closed when the process has exited and waitErr and exited
	// are set.
	done    chan struct{}
	waitErr error
	exited  time.Time
}

// startTracer runs the tool on a script given with -e. stdout receives the
// tracer's output (nil discards it).
func startTracer(t tool, script string, stdout io.Writer) (*tracerProc, error) {
	return startProc(t, stdout, "-e", script)
}

// startProc runs the tool with args.
func startProc(t tool, stdout io.Writer, args ...string) (*tracerProc, error) {
	p := &tracerProc{tool: t, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(t.Path, args...)
	p.cmd.Stdout = stdout
	p.cmd.Stderr = p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		// Taken here, not by whoever waits on done, so that the time from
		// exec to exit does not include waking that goroutine up.
		p.exited = time.Now()
		close(p.done)
	}()
	return p, nil
}

// pollInterval is how long waitAttached sleeps between looks at the
// tracer's programs: short next to gotrace's start-up, long enough that
// the polling leaves the tracer a CPU to start on.
const pollInterval = 200 * time.Microsecond

// waitAttached waits until want of the tracer's BPF programs have run, and
// returns how long after exec that was. Every probe of the scripts fires
// on system calls (or on a timer), and this loop makes system calls
// itself, so a program has run as soon as it is attached. This is the same
// moment for both tools whatever they print, and it is a moment the
// program is known to be working, not just loaded.
func (p *tracerProc) waitAttached(want int, timeout time.Duration) (time.Duration, error) {
	deadline := p.started.Add(timeout)
	for {
		select {
		case <-p.done:
			return 0, fmt.Errorf("%s exited before attaching: %v\n%s", p.tool.Name, p.waitErr, p.stderr)
		default:
		}
		snap, err := readSnapshot(p.cmd.Process.Pid)
		if err == nil && snap.running() >= want {
			return time.Since(p.started), nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return 0, fmt.Errorf("%s: %d of %d programs running after %v\n%s", p.tool.Name, snap.running(), want, timeout, p.stderr)
		}
		unix.Getppid()
		time.Sleep(pollInterval)
	}
}

// settleTime is how long the set of a tracer's programs must stay the
// same, all of them running, for settledPrograms to count them.
const settleTime = 300 * time.Millisecond

// settledPrograms runs script with t until every program it loaded has
// run and no program has come or gone for settleTime, and returns how
// many programs that is: what waitAttached then waits for. Tools differ
// (gotrace runs the probes on one event as one program), so the number is
// measured rather than assumed.
func settledPrograms(t tool, script string) (int, error) {
	p, err := startTracer(t, script, nil)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	deadline := time.Now().Add(attachTimeout)
	n, since := -1, time.Now()
	for time.Now().Before(deadline) {
		snap, err := p.snapshot()
		if err != nil {
			return 0, err
		}
		switch {
		case len(snap) == 0 || snap.running() < len(snap) || len(snap) != n:
			n, since = len(snap), time.Now()
		case time.Since(since) >= settleTime:
			return n, nil
		}
		unix.Getppid()
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s: its programs did not settle within %v\n%s", t.Name, attachTimeout, p.stderr)
}

// snapshot reads the statistics of the tracer's programs.
func (p *tracerProc) snapshot() (snapshot, error) {
	return readSnapshot(p.cmd.Process.Pid)
}

// stopTimeout bounds how long a tracer may take to print its maps and exit
// after SIGINT.
const stopTimeout = 60 * time.Second

// stop ends the tracer as Ctrl-C does and returns its peak resident set
// size in bytes. A tracer that fails is an error; one that does not exit
// in time is killed, and the error is a *stuckError.
func (p *tracerProc) stop() (maxRSS int64, err error) {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.kill()
		return rusageMaxRSS(p.cmd.ProcessState), &stuckError{tool: p.tool.Name, after: stopTimeout}
	}
	if p.waitErr != nil {
		return 0, fmt.Errorf("%s: %v\n%s", p.tool.Name, p.waitErr, p.stderr)
	}
	return rusageMaxRSS(p.cmd.ProcessState), nil
}

// stuckError is a tracer that did not exit after SIGINT and was killed.
// What was measured before stopping it still stands.
type stuckError struct {
	tool  string
	after time.Duration
}

// isStuck reports whether err is a *stuckError.
func isStuck(err error) bool {
	var stuck *stuckError
	return errors.As(err, &stuck)
}

func (e *stuckError) Error() string {
	return fmt.Sprintf("%s did not exit within %v of SIGINT and was killed", e.tool, e.after)
}

// wait waits for the tracer to exit by itself, for at most timeout, and
// returns its peak RSS.
func (p *tracerProc) wait(timeout time.Duration) (maxRSS int64, err error) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		return 0, fmt.Errorf("%s did not exit within %v\n%s", p.tool.Name, timeout, p.stderr)
	}
	if p.waitErr != nil {
		return 0, fmt.Errorf("%s: %v\n%s", p.tool.Name, p.waitErr, p.stderr)
	}
	return rusageMaxRSS(p.cmd.ProcessState), nil
}

// kill ends the process for good and waits for it.
func (p *tracerProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// rusageMaxRSS is a finished process's peak RSS (getrusage's ru_maxrss,
// which Linux counts in kilobytes), in bytes.
func rusageMaxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return ru.Maxrss * 1024
}

// runToExit runs the tool with args to completion, output discarded, and
// returns the wall time from exec to exit and the peak RSS.
func runToExit(t tool, timeout time.Duration, args ...string) (time.Duration, int64, error) {
	p, err := startProc(t, nil, args...)
	if err != nil {
		return 0, 0, err
	}
	rss, err := p.wait(timeout)
	if err != nil {
		return 0, 0, err
	}
	return p.exited.Sub(p.started), rss, nil
}
