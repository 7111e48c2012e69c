package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// progStats is one BPF program's run statistics as the kernel keeps them
// while BPF statistics are enabled: the total time spent in the program
// and how many times it ran.
type progStats struct {
	ID     uint32
	RunNS  uint64
	RunCnt uint64
}

// snapshot is the statistics of every BPF program a process holds, by
// program ID.
type snapshot map[uint32]progStats

// enableStats turns the kernel's BPF run-time statistics on until the
// returned closer is closed. It uses BPF_ENABLE_STATS rather than the
// kernel.bpf_stats_enabled sysctl: the effect is the same, but it is
// undone by the kernel when the file descriptor closes, even if the
// benchmark crashes, and it does not change a setting that other users of
// the machine may rely on.
func enableStats() (io.Closer, error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enabling BPF statistics (BPF_ENABLE_STATS): %w", err)
	}
	return c, nil
}

// fdinfo is what parseFdinfo found in one /proc/PID/fdinfo/N file.
type fdinfo struct {
	progID uint32
	// hasStats is set for program descriptors, which carry run_time_ns
	// and run_cnt; links name their program but carry no counts.
	hasStats bool
	stats    progStats
}

// parseFdinfo reads the text of /proc/PID/fdinfo/N. ok is false when the
// descriptor neither is nor refers to a BPF program.
func parseFdinfo(text string) (fi fdinfo, ok bool) {
	var haveTime, haveCnt bool
	for line := range strings.Lines(text) {
		key, val, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "prog_id":
			id, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return fdinfo{}, false
			}
			fi.progID = uint32(id)
			ok = true
		case "run_time_ns":
			n, err := strconv.ParseUint(val, 10, 64)
			if err == nil {
				fi.stats.RunNS, haveTime = n, true
			}
		case "run_cnt":
			n, err := strconv.ParseUint(val, 10, 64)
			if err == nil {
				fi.stats.RunCnt, haveCnt = n, true
			}
		}
	}
	fi.stats.ID = fi.progID
	fi.hasStats = haveTime && haveCnt
	return fi, ok
}

// readSnapshot returns the statistics of every BPF program process pid
// holds, found through the prog_id lines of its /proc/PID/fdinfo files. A
// program the process only reaches through a link (it closed the program's
// own descriptor after attaching) is looked up by ID.
func readSnapshot(pid int) (snapshot, error) {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	snap := snapshot{}
	var linked []uint32
	for _, e := range ents {
		// Only program and link descriptors have a prog_id. Telling them
		// by their link target costs a readlink, not a read of fdinfo: the
		// start-up measurement polls this while the tracer starts, on the
		// same two CPUs, and a tracer holding many maps paid for it.
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err != nil || !strings.HasPrefix(target, "anon_inode:bpf-prog") && !strings.HasPrefix(target, "anon_inode:bpf_link") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			// Descriptors come and go while the tracer runs.
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		fi, ok := parseFdinfo(string(b))
		switch {
		case !ok:
		case fi.hasStats:
			snap[fi.progID] = fi.stats
		default:
			linked = append(linked, fi.progID)
		}
	}
	for _, id := range linked {
		if _, ok := snap[id]; ok {
			continue
		}
		st, err := statsByID(id)
		if err != nil {
			return nil, err
		}
		snap[id] = st
	}
	return snap, nil
}

// statsByID reads a program's statistics through its ID.
func statsByID(id uint32) (progStats, error) {
	p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
	if err != nil {
		return progStats{}, fmt.Errorf("BPF program %d: %w", id, err)
	}
	defer p.Close()
	st, err := p.Stats()
	if err != nil {
		return progStats{}, fmt.Errorf("BPF program %d: %w", id, err)
	}
	return progStats{ID: id, RunNS: uint64(st.Runtime.Nanoseconds()), RunCnt: st.RunCount}, nil
}

// running is how many programs of the snapshot have run at least once.
// A tracer is attached once every program of its script has run: the
// benchmark's probes fire on every system call, so this is the same
// moment for any tracer, however it reports progress.
func (s snapshot) running() int {
	n := 0
	for _, p := range s {
		if p.RunCnt > 0 {
			n++
		}
	}
	return n
}

// perEvent is the mean cost of one program run between two snapshots of
// the same process, over all its programs, and the number of runs.
// Programs that appeared after the first snapshot count from zero.
func perEvent(before, after snapshot) (ns float64, runs uint64) {
	var total uint64
	for id, a := range after {
		b := before[id]
		total += a.RunNS - b.RunNS
		runs += a.RunCnt - b.RunCnt
	}
	if runs == 0 {
		return 0, 0
	}
	return float64(total) / float64(runs), runs
}

// only is the part of the snapshot about the programs ids.
func (s snapshot) only(ids map[uint32]bool) snapshot {
	o := snapshot{}
	for id, p := range s {
		if ids[id] {
			o[id] = p
		}
	}
	return o
}
