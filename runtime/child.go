package runtime

import (
	"errors"
	"fmt"
	"os/exec"
	goruntime "runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// child is the command a run starts (-c): created stopped, right after its
// execve, so that its PID is known (cpid) and the probes are attached
// before it runs a single instruction of its own; resumed once they are.
// As with bpftrace, the child is traced with ptrace(2) until then: with
// PTRACE_TRACEME, execve stops it with a SIGTRAP, and PTRACE_DETACH lets
// it go. ptrace requests must come from the thread that started the
// process, so one goroutine, locked to its thread, does both.
type child struct {
	cmd *exec.Cmd
	// cont receives true to resume the child, false to kill it unresumed.
	cont chan bool
	// resumed is closed once the child has been let go (or has failed to
	// be); resumeErr says how that went.
	resumed   chan struct{}
	resumeErr error
	// exited is closed once the child has exited and been reaped.
	exited chan struct{}
}

// startChild starts cmd stopped after its execve.
func startChild(cmd *exec.Cmd) (*child, error) {
	c := &child{cmd: cmd, cont: make(chan bool, 1), resumed: make(chan struct{}), exited: make(chan struct{})}
	started := make(chan error, 1)
	go c.tracer(started)
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// tracer starts the child and, on the same thread, later lets it go.
func (c *child) tracer(started chan<- error) {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	attr := &syscall.SysProcAttr{}
	if c.cmd.SysProcAttr != nil {
		copied := *c.cmd.SysProcAttr
		attr = &copied
	}
	attr.Ptrace = true
	c.cmd.SysProcAttr = attr
	if err := c.cmd.Start(); err != nil {
		started <- err
		return
	}
	pid := c.cmd.Process.Pid
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || !ws.Stopped() {
			// It died before its first instruction: there is nothing to
			// trace. Reap it through cmd so that its pipes are closed.
			if err == nil {
				err = fmt.Errorf("the command ended before it could be started (%s)", describeWait(ws))
			}
			c.cmd.Process.Kill()
			c.cmd.Wait()
			started <- err
			return
		}
		break
	}
	started <- nil
	// Wait for the decision on this thread: PTRACE_DETACH must come from it.
	if <-c.cont {
		c.resumeErr = unix.PtraceDetach(pid)
	} else {
		c.resumeErr = errors.New("not resumed")
		c.cmd.Process.Kill()
	}
	close(c.resumed)
	go func() {
		c.cmd.Wait()
		close(c.exited)
	}()
}

// pid is the child's PID (cpid), 0 for no child.
func (c *child) pid() int {
	if c == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// resume lets the stopped child run.
func (c *child) resume() error {
	c.cont <- true
	<-c.resumed
	if c.resumeErr != nil {
		return fmt.Errorf("resuming the command: %w", c.resumeErr)
	}
	return nil
}

// finish ends the child if it is still there: killed if it never ran,
// else sent SIGTERM (as bpftrace does when it ends first) and, if it
// lingers, SIGKILL. It returns once the child has been reaped.
func (c *child) finish() {
	if c == nil {
		return
	}
	select {
	case c.cont <- false:
	default: // already resumed
	}
	<-c.resumed
	select {
	case <-c.exited:
		return
	default:
	}
	if c.resumeErr == nil {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
			return
		case <-time.After(2 * time.Second):
		}
	}
	c.cmd.Process.Kill()
	<-c.exited
}

// describeWait says how a process ended.
func describeWait(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}
