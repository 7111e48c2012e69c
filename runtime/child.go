package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// child is the command a run starts (-c). As in bpftrace, it is created
// before the programs are loaded, so that its PID is known (cpid), and it
// waits before its execve until the probes are attached: the probes see
// the command from its first system call, its execve, on.
//
// Go cannot run code between fork and exec, so the process starts as a
// /bin/sh that waits on a pipe and then execs the command (same PID):
//
//	sh -c 'IFS= read -r go <&N && [ "$go" = run ] && exec "$@" N<&-; exit 127' sh PATH ARGS...
//
// resume writes "run"; if the run ends first, or gotrace dies, the pipe
// closes and sh exits without running the command.
type child struct {
	cmd *exec.Cmd
	// run is the pipe's write end; nil once the child has been let go.
	run *os.File
	// resumed says whether the command was let go.
	resumed bool
	// exited is closed once the child has exited and been reaped.
	exited chan struct{}
}

// shell runs the waiting trampoline.
const shell = "/bin/sh"

// startChild starts cmd, waiting before its execve; cmd is changed to run
// the trampoline.
func startChild(cmd *exec.Cmd) (*child, error) {
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	if cmd.Process != nil {
		return nil, errors.New("the command was already started")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fd := strconv.Itoa(3 + len(cmd.ExtraFiles))
	wait := `IFS= read -r go <&` + fd + ` && [ "$go" = run ] && exec "$@" ` + fd + `<&-; exit 127`
	args := append([]string{"sh", "-c", wait, "sh", cmd.Path}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = shell, args
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	c := &child{cmd: cmd, run: w, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// pid is the child's PID (cpid), 0 for no child.
func (c *child) pid() int {
	if c == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// resume lets the waiting child exec the command.
func (c *child) resume() error {
	_, err := c.run.WriteString("run\n")
	c.run.Close()
	c.run = nil
	if err != nil {
		return fmt.Errorf("starting the command: %w", err)
	}
	c.resumed = true
	return nil
}

// finish ends the child if it is still there: one that never ran the
// command is killed; a running command is sent SIGTERM (as bpftrace does
// when it ends first) and, if it lingers, SIGKILL. It returns once the
// child has been reaped.
func (c *child) finish() {
	if c == nil {
		return
	}
	if c.run != nil {
		c.run.Close()
		c.run = nil
	}
	select {
	case <-c.exited:
		return
	default:
	}
	if c.resumed {
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
