package runtime

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// cat prints a file, for cat(). A file that cannot be read is reported on
// stderr, as bpftrace does, without ending the run.
// At most max_cat_bytes are printed.
func (r *run) cat(path string) error {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(r.stderr, "cat: %v\n", err)
		return nil
	}
	defer f.Close()
	limit := orDefault(r.script.Info.Settings.MaxCatBytes, defaultMaxCatBytes)
	if r.json {
		b, err := io.ReadAll(io.LimitReader(f, limit))
		if err != nil {
			fmt.Fprintf(r.stderr, "cat: %v\n", err)
		}
		return r.jsonText("cat", string(b))
	}
	if _, err := io.Copy(r.out, io.LimitReader(f, limit)); err != nil {
		fmt.Fprintf(r.stderr, "cat: %v\n", err)
	}
	return nil
}

// system runs a shell command for system() (allowed only with --unsafe);
// its output goes where the script's output goes, in order (in JSON, as
// one syscall record once the command has finished).
func (r *run) system(command string) error {
	if err := r.out.Flush(); err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", command)
	var captured bytes.Buffer
	cmd.Stdout = r.out
	if r.json {
		cmd.Stdout = &captured
	}
	cmd.Stderr = r.stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(r.stderr, "system: %q: %v\n", command, err)
	}
	if r.json {
		if err := r.jsonText("syscall", captured.String()); err != nil {
			return err
		}
	}
	return r.out.Flush()
}
