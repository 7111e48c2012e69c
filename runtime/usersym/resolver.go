// Package usersym names addresses in the memory of user-space processes:
// given a process ID and an address, it finds the function that contains
// the address, as a name and an offset into the function, which is what
// bpftrace prints for usym() ("readline") and for ustack() frames
// ("readline+91").
//
// An address becomes a name in three steps:
//
//  1. /proc/PID/maps says which file is mapped at the address and from
//     which offset of that file. Only executable, file-backed mappings are
//     kept: that is where functions are.
//  2. The file offset becomes a virtual address of the ELF file through the
//     program header (PT_LOAD) that loads that part of the file. This one
//     rule serves position-dependent executables, PIE executables and
//     shared libraries alike, wherever the loader put them.
//  3. The virtual address is looked up among the function symbols of the
//     file's .symtab and .dynsym and, when the file has no .symtab (it was
//     stripped), of its detached debug file, found by build ID under
//     /usr/lib/debug/.build-id. A symbol covers [value, value+size); one
//     without a size extends to the next symbol.
//
// # Caching
//
// A Resolver keeps two caches, both for as long as it lives:
//
//   - Each ELF file's symbols are read once, keyed by the device and inode
//     that /proc/PID/maps shows (by path for a file without an inode). Every
//     process that maps the file (every user of libc) shares them. A file
//     that cannot be read is remembered as such and not retried.
//   - Each process's mappings are read the first time one of its addresses
//     is looked up, or when Snapshot or SnapshotAll is called, and kept after
//     the process exits. That is what lets a probe's address be named when it
//     is printed after its process is gone (map keys are printed at the end
//     of a run): the process must only have been seen alive once. A kept
//     snapshot is read again, if the process still exists, when it is older
//     than maxAge (the process may have called exec) and when an address
//     falls outside it (a library may have been loaded since), at most every
//     missRefresh.
//
// # Limits
//
//   - A process that was never seen alive (it started after the last
//     SnapshotAll and exited before one of its addresses was looked up)
//     cannot be symbolized: Lookup reports no symbol.
//   - Libraries loaded after a process's last snapshot are unknown once the
//     process has exited.
//   - After exec, or when a process ID is reused, an address recorded before
//     the change and looked up after it may be named from the new program
//     (for up to maxAge), or not at all.
//   - Files are opened through /proc/PID/map_files while the process runs
//     (so deleted files and files of other mount namespaces work), and by
//     path afterwards: then the file at that path must still be the one that
//     was mapped (its inode is checked).
//   - Process IDs are those of the PID namespace of the /proc that is
//     mounted, which must be the one BPF reports (the initial namespace).
//   - Only ELF symbol tables are read: no DWARF line information, no inlined
//     frames, no demangling, no JIT-compiled code, no vDSO.
package usersym

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

const (
	// maxAge is how long a running process's snapshot is trusted before
	// it is read again: exec replaces every mapping without changing the
	// process ID. Re-reading costs tens of microseconds, so once a second
	// per process is negligible.
	maxAge = time.Second
	// missRefresh is the least time between two reads of a process's
	// mappings caused by addresses outside them: such addresses may be in
	// a library loaded since, but they may also just be bad addresses, and
	// those must not cost a read each.
	missRefresh = 10 * time.Millisecond
)

// DefaultDebugDir is where distributions install detached debug files.
const DefaultDebugDir = "/usr/lib/debug"

// Symbol is a function found at an address.
type Symbol struct {
	// Name is the function's name as the symbol table spells it.
	Name string
	// Offset is the address's distance from the start of the function.
	Offset uint64
	// File is the path of the executable or library that holds it.
	File string
}

// String renders the symbol as bpftrace prints stack frames: name+offset.
func (s Symbol) String() string { return s.Name + "+" + strconv.FormatUint(s.Offset, 10) }

// Resolver names addresses of processes. Its methods may be called from
// several goroutines. Create one with NewResolver.
type Resolver struct {
	// DebugDir is where detached debug files are looked for, by build ID
	// (DebugDir/.build-id/ab/cdef....debug). Set it, if at all, before the
	// first lookup.
	DebugDir string

	mu      sync.Mutex
	procs   map[int]*process
	objects map[objectKey]*object
	// now is the clock that ages snapshots; tests replace it.
	now func() time.Time
}

// NewResolver returns a Resolver with empty caches. It reads nothing until
// it is used.
func NewResolver() *Resolver {
	return &Resolver{
		DebugDir: DefaultDebugDir,
		procs:    map[int]*process{},
		objects:  map[objectKey]*object{},
		now:      time.Now,
	}
}

// process is the last snapshot of a process's executable mappings.
type process struct {
	maps []mapping // sorted by start, not overlapping
	// readAt is when the mappings were last read, or a read last failed
	// (the process is gone), which also postpones the next attempt.
	readAt time.Time
}

// Lookup names the function at addr in process pid. It reports false when
// the address is in no known executable mapping of the process or in no
// function of the file mapped there.
func (r *Resolver) Lookup(pid int, addr uint64) (Symbol, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	p := r.procs[pid]
	if p == nil || now.Sub(p.readAt) >= maxAge {
		p = r.snapshot(pid, now)
	}
	if s, ok := r.find(pid, p, addr); ok {
		return s, true
	}
	if now.Sub(p.readAt) < missRefresh {
		return Symbol{}, false
	}
	return r.find(pid, r.snapshot(pid, now), addr)
}

// Snapshot reads pid's mappings now, so that its addresses can still be
// named after it exits.
func (r *Resolver) Snapshot(pid int) error {
	maps, err := readMaps(pid)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.procs[pid] = &process{maps: maps, readAt: r.now()}
	return nil
}

// SnapshotAll reads the mappings of every process that is running, as
// Snapshot does. Processes that exit meanwhile, and kernel threads, are
// skipped; the error says only that /proc could not be listed.
func (r *Resolver) SnapshotAll() error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("listing processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		// Kernel threads have no mappings: nothing to keep.
		if maps, err := readMaps(pid); err == nil && len(maps) > 0 {
			r.mu.Lock()
			r.procs[pid] = &process{maps: maps, readAt: r.now()}
			r.mu.Unlock()
		}
	}
	return nil
}

// snapshot reads pid's mappings again and returns the new snapshot. If they
// cannot be read (the process has exited), the old snapshot stays, marked
// as read now so that the next attempt waits, and is returned. A process
// never seen gets an empty snapshot, so that looking up many addresses of
// a process that is gone costs one failed read, not one each.
func (r *Resolver) snapshot(pid int, now time.Time) *process {
	maps, err := readMaps(pid)
	p := r.procs[pid]
	switch {
	case err == nil:
		p = &process{maps: maps}
	case p == nil:
		p = &process{}
	}
	p.readAt = now
	r.procs[pid] = p
	return p
}

// find looks addr up in the snapshot p of process pid.
func (r *Resolver) find(pid int, p *process, addr uint64) (Symbol, bool) {
	i := sort.Search(len(p.maps), func(i int) bool { return p.maps[i].end > addr })
	if i == len(p.maps) || addr < p.maps[i].start {
		return Symbol{}, false
	}
	m := &p.maps[i]
	if m.obj == nil {
		m.obj = r.object(pid, m)
	}
	vaddr, ok := m.obj.vaddr(addr - m.start + m.offset)
	if !ok {
		return Symbol{}, false
	}
	name, off, ok := m.obj.symbols.find(vaddr)
	if !ok {
		return Symbol{}, false
	}
	return Symbol{Name: name, Offset: off, File: m.path}, true
}

// object returns the symbols of the file mapped at m, reading the file the
// first time it is seen.
func (r *Resolver) object(pid int, m *mapping) *object {
	if o, ok := r.objects[m.key]; ok {
		return o
	}
	o, err := r.openObject(pid, m)
	if err != nil {
		// Remembered as empty, so that a file that cannot be read costs
		// one attempt and not one per address.
		o = &object{}
	}
	r.objects[m.key] = o
	return o
}

// openObject reads the file mapped at m. While the process runs,
// /proc/PID/map_files opens exactly the mapped file (even deleted, or in
// another mount namespace); after it exits, only the path is left, and the
// file there must have the mapped inode.
func (r *Resolver) openObject(pid int, m *mapping) (*object, error) {
	mapFile := fmt.Sprintf("/proc/%d/map_files/%x-%x", pid, m.start, m.end)
	if f, err := os.Open(mapFile); err == nil {
		defer f.Close()
		return readObject(f, r.DebugDir)
	}
	f, err := os.Open(m.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if m.key.ino != 0 {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if ino := inodeOf(st); ino != m.key.ino {
			return nil, errReplaced
		}
	}
	return readObject(f, r.DebugDir)
}

var errReplaced = errors.New("the file at the mapped path is not the one that was mapped")
