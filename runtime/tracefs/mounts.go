package tracefs

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// mount is one line of a /proc/*/mounts file.
type mount struct {
	source, dir, fstype string
}

// readMounts reads a /proc/*/mounts file.
func readMounts(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		out = append(out, mount{
			source: unescapeMount(fields[0]),
			dir:    unescapeMount(fields[1]),
			fstype: fields[2],
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// unescapeMount undoes the octal escapes (\040 for space, \011 tab, \012
// newline, \134 backslash) that the kernel uses in mount tables.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
