package runtime

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/stdlib/probes"
)

// A script compiled with CompileOptions.PID traces one process, as with
// bpftrace's -p: programs of tracepoints and raw tracepoints (and other
// probes that cannot be attached to one process) return at once in other
// processes (codegen.Options.FilterPID); the perf events of profile,
// software and watchpoint probes are opened for that process only (those
// of watchpoints for the -c command's process too); BEGIN, END and
// interval probes are not restricted; uprobes, uretprobes and USDT probes
// are attached to that process only (their files are found as the process
// sees them: probes.Env.PID). The run ends when the process does.

// forPID returns the target to attach: t, or for a run restricted to one
// process and a profile, software or user-space probe, a copy whose perf
// events are opened for that process. Watchpoints (probes.Provider.Process)
// watch the -c command's process too.
func (r *run) forPID(t *probes.Target) *probes.Target {
	pid := r.script.opts.PID
	if pid == 0 && t.Provider.Process {
		pid = r.childPID
	}
	if pid != 0 && t.User != nil {
		c := *t
		u := *t.User
		u.PID = pid
		c.User = &u
		return &c
	}
	if pid == 0 || t.Perf == nil || t.Provider.Name == "interval" {
		return t
	}
	c := *t
	spec := *t.Perf
	spec.PID = pid
	c.Perf = &spec
	return &c
}

// processWatch calls a function when a process exits.
type processWatch struct {
	pidfd int
	// wake is a pipe; closing its write end ends the watch.
	wake [2]int
	done chan struct{}
}

// watchProcess calls onExit when process pid exits (from another
// goroutine). It fails if there is no such process.
func watchProcess(pid int, onExit func()) (*processWatch, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil, fmt.Errorf("no process with PID %d", pid)
	}
	if err != nil {
		return nil, fmt.Errorf("watching process %d: %w", pid, err)
	}
	w := &processWatch{pidfd: fd, done: make(chan struct{})}
	if err := unix.Pipe2(w.wake[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watching process %d: %w", pid, err)
	}
	go func() {
		defer close(w.done)
		fds := []unix.PollFd{{Fd: int32(w.pidfd), Events: unix.POLLIN}, {Fd: int32(w.wake[0]), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err == nil && fds[0].Revents != 0 {
				onExit()
			}
			return
		}
	}()
	return w, nil
}

// close ends the watch.
func (w *processWatch) close() {
	unix.Close(w.wake[1])
	<-w.done
	unix.Close(w.wake[0])
	unix.Close(w.pidfd)
}
