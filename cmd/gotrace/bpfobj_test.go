package main

// Helpers that find the BPF objects a gotrace process created, so that tests
// can check that none is left once it has exited.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// bpfObjects are BPF programs, maps and links, by ID.
type bpfObjects struct {
	progs []ebpf.ProgramID
	maps  []ebpf.MapID
	links []link.ID
}

func (o bpfObjects) String() string {
	return fmt.Sprintf("programs %v, maps %v, links %v", o.progs, o.maps, o.links)
}

func (o bpfObjects) empty() bool {
	return len(o.progs) == 0 && len(o.maps) == 0 && len(o.links) == 0
}

// heldBy returns the BPF objects process pid holds file descriptors for, as
// /proc/PID/fdinfo shows them: "prog_id:" for programs (and the program of
// a link), "map_id:" for maps, "link_id:" for links.
func heldBy(pid int) (bpfObjects, error) {
	var o bpfObjects
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return o, err
	}
	for _, fd := range fds {
		f, err := os.Open(filepath.Join(dir, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32)
			if err != nil {
				continue
			}
			switch key {
			case "prog_id":
				if id := ebpf.ProgramID(n); !slices.Contains(o.progs, id) {
					o.progs = append(o.progs, id)
				}
			case "map_id":
				if id := ebpf.MapID(n); !slices.Contains(o.maps, id) {
					o.maps = append(o.maps, id)
				}
			case "link_id":
				if id := link.ID(n); !slices.Contains(o.links, id) {
					o.links = append(o.links, id)
				}
			}
		}
		f.Close()
	}
	slices.Sort(o.progs)
	slices.Sort(o.maps)
	slices.Sort(o.links)
	return o, nil
}

// stillLoaded returns those of o that still exist in the kernel.
func stillLoaded(t *testing.T, o bpfObjects) bpfObjects {
	t.Helper()
	var left bpfObjects
	exists := func(err error) bool {
		if err == nil {
			return true
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("looking up a BPF object: %v", err)
		}
		return false
	}
	for _, id := range o.progs {
		p, err := ebpf.NewProgramFromID(id)
		if exists(err) {
			p.Close()
			left.progs = append(left.progs, id)
		}
	}
	for _, id := range o.maps {
		m, err := ebpf.NewMapFromID(id)
		if exists(err) {
			m.Close()
			left.maps = append(left.maps, id)
		}
	}
	for _, id := range o.links {
		l, err := link.NewFromID(id)
		if exists(err) {
			l.Close()
			left.links = append(left.links, id)
		}
	}
	return left
}

// markedObjects returns every loaded map named mapName and every loaded
// program that uses one of those maps. The kernel keeps the first 15 bytes
// of a name (BPF_OBJ_NAME_LEN with its NUL), as codegen does: a longer
// mapName is cut the same way, lest nothing ever match.
func markedObjects(t *testing.T, mapName string) bpfObjects {
	t.Helper()
	if len(mapName) > bpfObjNameMax {
		mapName = mapName[:bpfObjNameMax]
	}
	var o bpfObjects
	for id := ebpf.MapID(0); ; {
		next, err := ebpf.MapGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			t.Fatalf("listing BPF maps: %v", err)
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue // freed meanwhile
		}
		info, err := m.Info()
		m.Close()
		if err == nil && info.Name == mapName {
			o.maps = append(o.maps, id)
		}
	}
	if len(o.maps) == 0 {
		return o
	}
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			t.Fatalf("listing BPF programs: %v", err)
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		info, err := p.Info()
		p.Close()
		if err != nil {
			continue
		}
		maps, _ := info.MapIDs()
		for _, m := range maps {
			if slices.Contains(o.maps, m) {
				o.progs = append(o.progs, id)
				break
			}
		}
	}
	return o
}

// bpfObjNameMax is the longest name the kernel keeps for a BPF object.
const bpfObjNameMax = 15

// leakTimeout is how long the kernel gets to free the objects of a process
// that has exited (it frees them asynchronously).
const leakTimeout = 10 * time.Second

// waitUnloaded fails t unless find() comes back empty within leakTimeout.
func waitUnloaded(t *testing.T, what string, find func() bpfObjects) {
	t.Helper()
	deadline := time.Now().Add(leakTimeout)
	for {
		left := find()
		if left.empty() {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s still loaded %v after gotrace exited: %s", what, leakTimeout, left)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ebpfProgramName returns the name of a loaded program.
func ebpfProgramName(id ebpf.ProgramID) (string, error) {
	p, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return "", err
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		return "", err
	}
	return info.Name, nil
}
