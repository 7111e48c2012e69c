package runtime

import (
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
	if _, err := io.Copy(r.out, io.LimitReader(f, limit)); err != nil {
		fmt.Fprintf(r.stderr, "cat: %v\n", err)
	}
	return nil
}

// system runs a shell command for system() (allowed only with --unsafe);
// its output goes where the script's output goes, in order.
func (r *run) system(command string) error {
	if err := r.out.Flush(); err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stdout = r.out
	cmd.Stderr = r.stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(r.stderr, "system: %q: %v\n", command, err)
	}
	return r.out.Flush()
}
