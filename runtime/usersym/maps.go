package usersym

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"syscall"
)

// mapping is one executable, file-backed mapping of a process.
type mapping struct {
	start, end uint64 // addresses [start, end)
	offset     uint64 // the file offset mapped at start
	path       string
	key        objectKey
	// obj is the mapped file's symbols, found on first use.
	obj *object
}

// objectKey identifies a mapped file: by device and inode, which survive
// renames and tell apart files that replaced one another at one path; by
// path only when there is no inode.
type objectKey struct {
	dev, ino uint64
	path     string
}

// readMaps reads the executable, file-backed mappings of process pid.
func readMaps(pid int) ([]mapping, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil, err
	}
	return parseMaps(b)
}

// parseMaps parses the text of /proc/PID/maps, whose lines read
//
//	55d0c0a1c000-55d0c0a21000 r-xp 00002000 fe:00 1311       /usr/bin/cat
//
// (address range, permissions, file offset, device major:minor in hex,
// inode, path), keeping the executable mappings of files. Mappings of
// nothing, or of pseudo-files such as [vdso] and [stack], are skipped.
func parseMaps(text []byte) ([]mapping, error) {
	var maps []mapping
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if len(line) == 0 {
			continue
		}
		m, keep, err := parseMapsLine(line)
		if err != nil {
			return nil, fmt.Errorf("bad line in maps %q: %w", line, err)
		}
		if keep {
			maps = append(maps, m)
		}
	}
	// The kernel lists mappings in address order; sorting anyway keeps
	// lookups correct whatever the source.
	sort.Slice(maps, func(i, j int) bool { return maps[i].start < maps[j].start })
	return maps, nil
}

// parseMapsLine parses one line of maps; keep says whether it is an
// executable file mapping.
func parseMapsLine(line []byte) (m mapping, keep bool, err error) {
	rng, rest := field(line)
	perms, rest := field(rest)
	off, rest := field(rest)
	dev, rest := field(rest)
	ino, rest := field(rest)
	path := bytes.TrimLeft(rest, " ")
	if len(perms) != 4 || len(ino) == 0 {
		return m, false, fmt.Errorf("too few fields")
	}
	if perms[2] != 'x' || len(path) == 0 || path[0] != '/' {
		return m, false, nil
	}
	lo, hi, ok := bytes.Cut(rng, []byte("-"))
	if !ok {
		return m, false, fmt.Errorf("no address range")
	}
	if m.start, err = parseHex(lo); err != nil {
		return m, false, err
	}
	if m.end, err = parseHex(hi); err != nil {
		return m, false, err
	}
	if m.offset, err = parseHex(off); err != nil {
		return m, false, err
	}
	major, minor, ok := bytes.Cut(dev, []byte(":"))
	if !ok {
		return m, false, fmt.Errorf("bad device %q", dev)
	}
	maj, err := parseHex(major)
	if err != nil {
		return m, false, err
	}
	mnr, err := parseHex(minor)
	if err != nil {
		return m, false, err
	}
	m.key.ino, err = strconv.ParseUint(string(ino), 10, 64)
	if err != nil {
		return m, false, err
	}
	// The kernel appends " (deleted)" to the path of a file that was
	// removed; the file is still readable through map_files.
	m.path = string(bytes.TrimSuffix(path, []byte(" (deleted)")))
	if m.key.ino != 0 {
		m.key.dev = maj<<32 | mnr
	} else {
		m.key.path = m.path
	}
	return m, true, nil
}

// field splits off the first space-separated field of b.
func field(b []byte) (first, rest []byte) {
	b = bytes.TrimLeft(b, " ")
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

func parseHex(b []byte) (uint64, error) {
	return strconv.ParseUint(string(b), 16, 64)
}

// inodeOf returns the inode number of a file, or 0 if the platform does
// not say.
func inodeOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
