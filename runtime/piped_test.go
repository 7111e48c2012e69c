package runtime_test

import (
	"bufio"
	"io"
	"os/exec"
	"testing"
)

// pipedProcess is a test program the test talks to line by line, through
// pipes to its standard input and output.
type pipedProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startPiped starts cmd with pipes to its standard input and output.
func startPiped(t *testing.T, cmd *exec.Cmd) pipedProcess {
	t.Helper()
	p := pipedProcess{cmd: cmd}
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}
